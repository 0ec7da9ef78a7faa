package store_test

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/store"
)

func TestRetryOnConflict(t *testing.T) {
	lost := apperr.Wrap(store.ErrConditionFailed, apperr.Conflict, "the record changed or already exists")
	txConflict := apperr.Wrap(&types.TransactionCanceledException{CancellationReasons: []types.CancellationReason{
		{Code: aws.String("None")}, {Code: aws.String("TransactionConflict")}}}, apperr.Unavailable, "transaction cancelled")
	other := apperr.New(apperr.Unprocessable, "no")
	tests := []struct {
		name      string
		errs      []error // what the attempts return, in order (nil afterwards)
		wantCalls int
		wantCode  apperr.Code // "" for success
	}{
		{"FirstTime", nil, 1, ""},
		{"AfterLostRaces", []error{lost, lost, txConflict}, 4, ""},
		{"OtherErrorsAreNotRetried", []error{lost, other}, 2, apperr.Unprocessable},
		{"GivesUpAsConflict", repeat(txConflict, store.MaxConflictAttempts+5), store.MaxConflictAttempts, apperr.Conflict},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			calls := 0
			err := store.RetryOnConflict(context.Background(), "the thing", func() error {
				calls++
				if calls <= len(tc.errs) {
					return tc.errs[calls-1]
				}
				return nil
			})
			if calls != tc.wantCalls || (tc.wantCode == "" && err != nil) || (tc.wantCode != "" && apperr.CodeOf(err) != tc.wantCode) {
				t.Fatalf("calls %d err %v; want %d calls, code %q", calls, err, tc.wantCalls, tc.wantCode)
			}
		})
	}
	t.Run("ContextEndsTheWait", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		calls := 0
		err := store.RetryOnConflict(ctx, "the thing", func() error { calls++; return lost })
		if calls != 1 || apperr.CodeOf(err) != apperr.Unavailable || !errors.Is(err, context.Canceled) {
			t.Fatalf("calls %d err %v", calls, err)
		}
	})
	t.Run("GiveUpMessageNamesWhat", func(t *testing.T) {
		err := store.RetryOnConflict(context.Background(), "the subscription", func() error { return lost })
		if apperr.PublicMessage(err) != "the subscription: too many concurrent changes; retry" || !errors.Is(err, store.ErrConditionFailed) {
			t.Fatalf("message %q", apperr.PublicMessage(err))
		}
	})
}

func repeat(err error, n int) []error {
	out := make([]error, n)
	for i := range out {
		out[i] = err
	}
	return out
}

// WriteRace retries a race on the items but answers a business Conflict at once ("already
// enrolled" is an answer); LostRace retries both.
func TestRetryWithWriteRace(t *testing.T) {
	lost := apperr.Wrap(store.ErrConditionFailed, apperr.Conflict, "the record changed or already exists")
	business := apperr.New(apperr.Conflict, "already enrolled")
	calls := 0
	err := store.Retry(context.Background(), "enrol", 40, store.WriteRace, func() error {
		calls++
		if calls < 3 {
			return lost
		}
		return business
	})
	if calls != 3 || err != business {
		t.Fatalf("calls %d err %v: a business conflict after two lost races must be answered as is", calls, err)
	}
	calls = 0
	err = store.Retry(context.Background(), "enrol", 3, store.LostRace, func() error { calls++; return business })
	if calls != 3 || apperr.CodeOf(err) != apperr.Conflict {
		t.Fatalf("calls %d err %v", calls, err)
	}
}
