// Package audit records who did what, when, under which request: every admin action and every
// money movement. Records are append-only items, written in the same transaction as the change they
// describe where there is one. Each record joins a hash chain when the store writes it
// (shared/store/auditchain.go, shared/audit/chain, docs/decisions/0085), so an edit, a removal or a
// reordering shows (shared/audit/verify).
package audit

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/liberation/monetization/shared/store"
)

// Actors that are not users.
const (
	ActorStripe = "system:stripe-webhook"
	ActorJob    = "system:scheduler"
)

// Record is one audit entry.
type Record struct {
	PK        string            `dynamodbav:"PK"`
	SK        string            `dynamodbav:"SK"`
	GSI1PK    string            `dynamodbav:"GSI1PK"`
	GSI1SK    string            `dynamodbav:"GSI1SK"`
	GSI2PK    string            `dynamodbav:"GSI2PK,omitempty"` // by target (AuditByTargetGSI2)
	GSI2SK    string            `dynamodbav:"GSI2SK,omitempty"`
	Type      string            `dynamodbav:"type"`
	ID        string            `dynamodbav:"id"`
	At        time.Time         `dynamodbav:"at"`
	Actor     string            `dynamodbav:"actor"`  // user id, or a system actor
	Action    string            `dynamodbav:"action"` // e.g. "refund.create", "payment.record"
	Target    string            `dynamodbav:"target"` // e.g. "payment:pay_…"
	RequestID string            `dynamodbav:"requestId"`
	Details   map[string]string `dynamodbav:"details,omitempty"` // ids and amounts only, never secrets
	// The hash chain (docs/decisions/0085), filled in by the store when the record is written:
	// the chain (day#shard), the position in it, the previous record's hash and this one's.
	Chain string `dynamodbav:"chain,omitempty"`
	Seq   int64  `dynamodbav:"seq,omitempty"`
	Prev  string `dynamodbav:"prev,omitempty"`
	Hash  string `dynamodbav:"hash,omitempty"`
}

// Entry describes an action.
type Entry struct {
	Actor, Action, Target, RequestID string
	Details                          map[string]string
}

// New builds the record for e at time at.
func New(e Entry, at time.Time) Record {
	id := newID()
	k := store.AuditKey(at, id)
	g1, g1s := store.AuditByActorGSI1(e.Actor, at, id)
	r := Record{PK: k.PK, SK: k.SK, GSI1PK: g1, GSI1SK: g1s, Type: "audit", ID: id, At: at.UTC(),
		Actor: e.Actor, Action: e.Action, Target: e.Target, RequestID: e.RequestID, Details: e.Details}
	if e.Target != "" {
		r.GSI2PK, r.GSI2SK = store.AuditByTargetGSI2(e.Target, at, id)
	}
	return r
}

// Item returns a transaction item that writes the record for e (use inside the change's transaction).
func Item(e Entry, at time.Time) (types.TransactWriteItem, error) {
	item, err := store.Marshal(New(e, at))
	if err != nil {
		return types.TransactWriteItem{}, err
	}
	return types.TransactWriteItem{Put: &types.Put{Item: item}}, nil
}

// Write stores a record on its own (for actions without a transaction of their own).
func Write(ctx context.Context, s *store.Store, e Entry) error {
	return s.Put(ctx, New(e, s.Clock.Now()), "attribute_not_exists(PK)", nil, nil)
}

func newID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
