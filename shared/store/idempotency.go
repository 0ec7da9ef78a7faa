package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/idempotency"
)

// IdemRecord is the stored idempotency record.
type IdemRecord = idempotency.Record

// BeginIdempotent claims (scope, key) for an operation whose payload hashes to hash.
//
// It implements idempotency.Store:
//
//   - first call (or the previous claim expired, or an in-progress claim outlived inProgressFor):
//     returns (nil, nil) and the caller does the work, then calls CompleteIdempotent or
//     ReleaseIdempotent;
//   - a completed record with the same hash: returns it so the caller replays the stored result;
//   - a record with another hash: apperr.Unprocessable wrapping idempotency.ErrMismatch;
//   - a live in-progress record: apperr.Conflict wrapping idempotency.ErrInProgress.
//
// inProgressFor should not exceed the Lambda's remaining time, so a timed-out attempt can be
// retried; ttl is how long a completed record is kept.
func (s *Store) BeginIdempotent(ctx context.Context, scope, key, hash string, inProgressFor, ttl time.Duration) (*IdemRecord, error) {
	now := s.Clock.Now()
	k := IdempotencyKey(scope, key)
	owner := newOwnerToken()
	rec := IdemRecord{
		PK: k.PK, SK: k.SK, Type: "idempotency", Status: idempotency.InProgress, PayloadHash: hash, Owner: owner,
		InProgressUntil: now.Add(inProgressFor).UnixMilli(),
		ExpiresAt:       now.Add(ttl).Unix(),
	}
	err := s.Put(ctx, rec,
		"attribute_not_exists(PK) OR expiresAt < :nowS OR (#st = :inprog AND inProgressUntil < :nowMs)",
		map[string]string{"#st": "status"},
		map[string]types.AttributeValue{
			":nowS":   &types.AttributeValueMemberN{Value: strconv.FormatInt(now.Unix(), 10)},
			":nowMs":  &types.AttributeValueMemberN{Value: strconv.FormatInt(now.UnixMilli(), 10)},
			":inprog": &types.AttributeValueMemberS{Value: idempotency.InProgress},
		})
	if err == nil {
		return nil, nil
	}
	if !IsConditionFailed(err) {
		return nil, err
	}
	var existing IdemRecord
	if err := s.getConsistent(ctx, k, &existing); err != nil {
		if apperr.Is(err, apperr.NotFound) { // deleted between our put and get: a retry will win
			return nil, apperr.Wrap(idempotency.ErrInProgress, apperr.Conflict, "a request with this idempotency key is in progress")
		}
		return nil, err
	}
	if existing.Owner == owner && existing.Status == idempotency.InProgress {
		// Our own claim: the SDK retried a put that had already succeeded (e.g. a lost response),
		// and the retry's condition failed against the item the first attempt wrote.
		return nil, nil
	}
	if existing.PayloadHash != hash {
		return nil, apperr.Wrap(idempotency.ErrMismatch, apperr.Unprocessable, "idempotency key was already used with a different request")
	}
	if existing.Status == idempotency.Completed {
		return &existing, nil
	}
	return nil, apperr.Wrap(idempotency.ErrInProgress, apperr.Conflict, "a request with this idempotency key is in progress")
}

// CompleteIdempotent stores the result of a claimed operation.
func (s *Store) CompleteIdempotent(ctx context.Context, scope, key string, statusCode int, result string) error {
	k := IdempotencyKey(scope, key)
	return s.Update(ctx, &dynamodb.UpdateItemInput{
		Key:                      k.Item(),
		UpdateExpression:         aws.String("SET #st = :done, statusCode = :code, #res = :res"),
		ConditionExpression:      aws.String("attribute_exists(PK)"),
		ExpressionAttributeNames: map[string]string{"#st": "status", "#res": "result"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":done": &types.AttributeValueMemberS{Value: idempotency.Completed},
			":code": &types.AttributeValueMemberN{Value: strconv.Itoa(statusCode)},
			":res":  &types.AttributeValueMemberS{Value: result},
		},
	}, nil)
}

// ReleaseIdempotent expires an in-progress claim after a failure so that a retry can run at once.
// It updates rather than deletes, so idempotent functions need no DeleteItem permission; a
// completed record is never released.
func (s *Store) ReleaseIdempotent(ctx context.Context, scope, key string) error {
	err := s.Update(ctx, &dynamodb.UpdateItemInput{
		Key:                       IdempotencyKey(scope, key).Item(),
		UpdateExpression:          aws.String("SET expiresAt = :zero, inProgressUntil = :zero"),
		ConditionExpression:       aws.String("#st = :inprog"),
		ExpressionAttributeNames:  map[string]string{"#st": "status"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":zero": N(0), ":inprog": S(idempotency.InProgress)},
	}, nil)
	if IsConditionFailed(err) {
		return nil // absent or completed: nothing to release
	}
	return err
}

func newOwnerToken() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func (s *Store) getConsistent(ctx context.Context, k Key, out any) error {
	res, err := s.DB.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.Table, Key: k.Item(), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return apperr.Wrap(err, apperr.Unavailable, "read failed")
	}
	if res.Item == nil {
		return apperr.New(apperr.NotFound, "not found")
	}
	return decode(res.Item, out)
}

var _ idempotency.Store = (*Store)(nil)
