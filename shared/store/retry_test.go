package store

import (
	"context"
	"errors"
	"testing"

	"github.com/liberation/monetization/shared/apperr"
)

func TestRetryOnConflict(t *testing.T) {
	lost := apperr.Wrap(ErrConditionFailed, apperr.Conflict, "changed")
	other := apperr.New(apperr.Unprocessable, "business rule")
	tests := []struct {
		name      string
		results   []error // one per attempt; past the end: nil
		wantCalls int
		wantCode  apperr.Code // "" for success
		wantIs    error
	}{
		{"FirstTry", nil, 1, "", nil},
		{"WinsAfterTwoLostRaces", []error{lost, lost}, 3, "", nil},
		{"OtherErrorStopsAtOnce", []error{lost, other}, 2, apperr.Unprocessable, nil},
		{"GivesUpAfterMaxAttempts", []error{lost, lost, lost, lost, lost, lost, lost}, MaxConflictAttempts, apperr.Conflict, ErrConditionFailed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls := 0
			err := RetryOnConflict(context.Background(), "test op", func() error {
				calls++
				if calls <= len(tt.results) {
					return tt.results[calls-1]
				}
				return nil
			})
			if calls != tt.wantCalls {
				t.Fatalf("%d attempts, want %d", calls, tt.wantCalls)
			}
			if tt.wantCode == "" && err != nil || tt.wantCode != "" && apperr.CodeOf(err) != tt.wantCode {
				t.Fatalf("err = %v (code %q), want code %q", err, apperr.CodeOf(err), tt.wantCode)
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Fatalf("err = %v, want it to wrap %v", err, tt.wantIs)
			}
		})
	}
	t.Run("StopsWhenTheContextEnds", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		calls := 0
		err := RetryOnConflict(ctx, "test op", func() error { calls++; cancel(); return lost })
		if calls != 1 || apperr.CodeOf(err) != apperr.Unavailable || !errors.Is(err, context.Canceled) {
			t.Fatalf("calls %d, err %v", calls, err)
		}
	})
}
