// Package idempotency holds what every idempotent operation shares, without any storage: the record
// of one operation (the design of AWS Lambda Powertools' idempotency utility: INPROGRESS/COMPLETED,
// a payload hash, an in-progress expiry and a TTL), the payload hash, and the errors callers branch
// on. store implements the records in DynamoDB.
package idempotency

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strconv"
	"time"
)

// Record states.
const (
	InProgress = "INPROGRESS"
	Completed  = "COMPLETED"
)

// Record remembers one operation: who started it, with what payload, and its stored result.
type Record struct {
	PK              string `dynamodbav:"PK"`
	SK              string `dynamodbav:"SK"`
	Type            string `dynamodbav:"type"`
	Status          string `dynamodbav:"status"`
	PayloadHash     string `dynamodbav:"payloadHash"`
	InProgressUntil int64  `dynamodbav:"inProgressUntil"` // epoch ms; after it a retry may take over
	Owner           string `dynamodbav:"owner"`           // random per claim: recognises our own write
	ExpiresAt       int64  `dynamodbav:"expiresAt"`       // epoch s; DynamoDB TTL
	StatusCode      int    `dynamodbav:"statusCode,omitempty"`
	Result          string `dynamodbav:"result,omitempty"` // stored response body (JSON)
}

// Hash returns the hex SHA-256 of the parts, separated so ("ab","c") ≠ ("a","bc").
func Hash(parts ...[]byte) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(strconv.Itoa(len(p))))
		h.Write([]byte{0})
		h.Write(p)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Errors that Begin returns (wrapped in apperr) and callers branch on.
var (
	ErrInProgress = errors.New("operation in progress")
	ErrMismatch   = errors.New("idempotency key reused with a different payload")
)

// Store claims, completes and releases operations (store.Store in production).
//
//   - Begin on a new key (or an expired claim) returns (nil, nil): the caller does the work, then
//     Complete or Release;
//   - a completed record with the same hash is returned so the caller replays its result;
//   - another hash: apperr.Unprocessable wrapping ErrMismatch;
//   - a live in-progress claim: apperr.Conflict wrapping ErrInProgress.
type Store interface {
	BeginIdempotent(ctx context.Context, scope, key, hash string, inProgressFor, ttl time.Duration) (*Record, error)
	CompleteIdempotent(ctx context.Context, scope, key string, statusCode int, result string) error
	ReleaseIdempotent(ctx context.Context, scope, key string) error
}
