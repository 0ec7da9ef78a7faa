package payments

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/audit"
	"github.com/liberation/monetization/shared/blob"
	"github.com/liberation/monetization/shared/books/journal"
	"github.com/liberation/monetization/shared/books/journal/journaltest"
	"github.com/liberation/monetization/shared/clock"
	"github.com/liberation/monetization/shared/store"
	"github.com/liberation/monetization/shared/stripeapi"
)

// In-memory fakes of payments' ports. fakeLedger keeps Repo's semantics (a change is written only
// over the payment's version and only if its created items are new; counters and audit move with
// it) — checked against Repo by the same contract cases (ledger_contract_test.go: in process, and on
// moto with the integration tag).

type fakeLedger struct {
	mu        sync.Mutex
	payments  map[string]Payment // userId/paymentId
	lookups   map[string]PaymentLookup
	refunds   map[string]Refund // userId/paymentId/refundId
	ops       map[string]RefundOp
	disputes  map[string]Dispute // userId/disputeId
	unmatched map[string]UnmatchedRefund
	failures  map[string]bool
	counters  map[string]map[string]int64 // day → counter → value
	audits    []audit.Entry
	emails    map[string]string
	// beforeApply, when set, runs before a change is checked (a concurrent writer, a fault).
	beforeApply func(c Change) error
	// journal is the entries posted with the changes: what journal.Items would have written in the
	// same transaction, checked by TransactPosting's rule.
	journal journaltest.Memory
}

func newFakeLedger() *fakeLedger {
	return &fakeLedger{payments: map[string]Payment{}, lookups: map[string]PaymentLookup{},
		refunds: map[string]Refund{}, ops: map[string]RefundOp{}, disputes: map[string]Dispute{},
		unmatched: map[string]UnmatchedRefund{}, failures: map[string]bool{},
		counters: map[string]map[string]int64{}, emails: map[string]string{}}
}

// entries returns the posted entries in posting order.
func (l *fakeLedger) entries() []journal.Entry {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.journal.Entries()
}

var (
	_ RefundLedger  = (*fakeLedger)(nil)
	_ DisputeLedger = (*fakeLedger)(nil)
	_ RecordRepo    = (*fakeLedger)(nil)
	_ ReceiptSource = (*fakeLedger)(nil)
	_ PaymentReader = (*fakeLedger)(nil)
)

func conflict() error {
	return apperr.Wrap(store.ErrConditionFailed, apperr.Conflict, "the record changed or already exists")
}

func notFound() error { return apperr.New(apperr.NotFound, "not found") }

func clonePayment(p Payment) Payment {
	p.PendingRefunds = copyMap(p.PendingRefunds)
	if len(p.PendingRefunds) == 0 {
		p.PendingRefunds = nil
	}
	return p
}

// put stores a payment as Repo would have created it (version 1).
func (l *fakeLedger) put(p Payment) Payment {
	l.mu.Lock()
	defer l.mu.Unlock()
	if p.Version == 0 {
		p.Version = 1
	}
	p.SetKeys()
	l.payments[p.UserID+"/"+p.ID] = clonePayment(p)
	if p.PaymentIntentID != "" {
		l.lookups[store.PaymentIntentKey(p.PaymentIntentID).String()] = NewPaymentLookup(store.PaymentIntentKey(p.PaymentIntentID), &p)
	}
	return p
}

func (l *fakeLedger) GetPayment(_ context.Context, userID, paymentID string) (Payment, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	p, ok := l.payments[userID+"/"+paymentID]
	if !ok {
		return Payment{}, notFound()
	}
	return clonePayment(p), nil
}

// ListPayments pages like Repo: newest first, a cursor bound to the user (another user's cursor is
// invalid), and a cursor only while more payments follow.
func (l *fakeLedger) ListPayments(_ context.Context, userID string, limit int32, cursor string) (store.Page[Payment], error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	after := ""
	if cursor != "" {
		var ok bool
		if after, ok = strings.CutPrefix(cursor, "fake|"+userID+"|"); !ok || after == "" {
			return store.Page[Payment]{}, apperr.New(apperr.Invalid, "cursor is invalid")
		}
	}
	out := []Payment{}
	for _, p := range l.payments {
		if p.UserID == userID && (after == "" || p.ID < after) {
			out = append(out, clonePayment(p))
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID > out[j].ID })
	page := store.Page[Payment]{Items: out}
	if len(out) > int(limit) {
		page.Items = out[:limit]
		page.NextCursor = "fake|" + userID + "|" + out[limit-1].ID
	}
	return page, nil
}

func (l *fakeLedger) PaymentByID(_ context.Context, paymentID string) (Payment, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, p := range l.payments {
		if p.ID == paymentID {
			return clonePayment(p), nil
		}
	}
	return Payment{}, notFound()
}

func (l *fakeLedger) PaymentByStripe(_ context.Context, chargeID, paymentIntentID string) (Payment, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, p := range l.payments {
		if chargeID != "" && p.ChargeID == chargeID {
			return clonePayment(p), nil
		}
	}
	if lk, ok := l.lookups[store.PaymentIntentKey(paymentIntentID).String()]; ok && paymentIntentID != "" {
		return clonePayment(l.payments[lk.UserID+"/"+lk.PaymentID]), nil
	}
	return Payment{}, notFound()
}

func (l *fakeLedger) Refunds(_ context.Context, userID, paymentID string) ([]Refund, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []Refund
	for k, r := range l.refunds {
		if strings.HasPrefix(k, userID+"/"+paymentID+"/") {
			out = append(out, r)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

func (l *fakeLedger) Refund(_ context.Context, userID, paymentID, refundID string) (Refund, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	r, ok := l.refunds[userID+"/"+paymentID+"/"+refundID]
	if !ok {
		return Refund{}, notFound()
	}
	return r, nil
}

func (l *fakeLedger) RefundOp(_ context.Context, opID string) (RefundOp, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	o, ok := l.ops[opID]
	if !ok {
		return RefundOp{}, notFound()
	}
	return o, nil
}

func (l *fakeLedger) PendingRefundOps(_ context.Context, cutoff time.Time, max int) ([]RefundOp, bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []RefundOp
	for _, o := range l.ops {
		if o.Status == RefundOpPending && o.ReservedAt.Before(cutoff.Truncate(time.Second)) {
			out = append(out, o)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ReservedAt.Before(out[j].ReservedAt) })
	if len(out) > max {
		return out[:max], true, nil
	}
	return out, false, nil
}

func (l *fakeLedger) Dispute(_ context.Context, userID, disputeID string) (Dispute, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	d, ok := l.disputes[userID+"/"+disputeID]
	if !ok {
		return Dispute{}, notFound()
	}
	return d, nil
}

func (l *fakeLedger) Apply(_ context.Context, c Change) error {
	if l.beforeApply != nil {
		if err := l.beforeApply(c); err != nil {
			return err
		}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	pk := c.Payment.UserID + "/" + c.Payment.ID
	cur, ok := l.payments[pk]
	if !ok || cur.Version != c.Payment.Version {
		return conflict()
	}
	for _, r := range c.NewRefunds {
		if _, dup := l.refunds[pk+"/"+r.ID]; dup {
			return conflict()
		}
	}
	for _, o := range c.NewOps {
		if _, dup := l.ops[o.ID]; dup {
			return conflict()
		}
	}
	if d := c.NewDispute; d != nil {
		if _, dup := l.disputes[d.UserID+"/"+d.ID]; dup {
			return conflict()
		}
	}
	entries, err := l.journal.Check(c.Entries)
	if err != nil {
		return err
	}
	l.journal.Post(entries...)
	p := clonePayment(c.Payment)
	p.Version++
	p.SetKeys()
	l.payments[pk] = p
	for _, r := range append(append([]Refund{}, c.NewRefunds...), c.Refunds...) {
		r.SetKeys()
		l.refunds[pk+"/"+r.ID] = r
	}
	for _, o := range append(append([]RefundOp{}, c.NewOps...), c.Ops...) {
		o.SetKeys()
		l.ops[o.ID] = o
	}
	for _, d := range []*Dispute{c.NewDispute, c.Dispute} {
		if d != nil {
			d.SetKeys()
			l.disputes[d.UserID+"/"+d.ID] = *d
		}
	}
	l.count(c.At, c.Counters)
	if c.Audit.Action != "" {
		l.audits = append(l.audits, c.Audit)
	}
	return nil
}

func (l *fakeLedger) count(at time.Time, deltas map[string]int64) {
	day := at.UTC().Format("2006-01-02")
	if l.counters[day] == nil {
		l.counters[day] = map[string]int64{}
	}
	for k, v := range deltas {
		if v != 0 {
			l.counters[day][k] += v
		}
	}
}

func (l *fakeLedger) RecordUnmatchedRefund(_ context.Context, u UnmatchedRefund, au audit.Entry) (bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, dup := l.unmatched[u.ChargeID]; dup {
		return false, nil
	}
	u.SetKeys()
	l.unmatched[u.ChargeID] = u
	l.count(u.At, map[string]int64{store.CtrUnmatchedRefunds: 1})
	l.audits = append(l.audits, au)
	return true, nil
}

func (l *fakeLedger) UnmatchedRefund(_ context.Context, chargeID string) (UnmatchedRefund, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	u, ok := l.unmatched[chargeID]
	if !ok {
		return UnmatchedRefund{}, notFound()
	}
	return u, nil
}

func (l *fakeLedger) ResolveStripeUser(_ context.Context, _, _ string, candidates ...string) (string, error) {
	for _, c := range candidates {
		if c != "" {
			return c, nil
		}
	}
	return "", nil
}

func (l *fakeLedger) CreatePayment(_ context.Context, p Payment, sourceID string, au audit.Entry, extra []types.TransactWriteItem) (PaymentLookup, bool, error) {
	if len(extra) > 0 {
		panic("fakeLedger cannot apply DynamoDB items; test extra items against the real store")
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	src := store.PaymentSourceKey(sourceID).String()
	if lk, ok := l.lookups[src]; ok {
		return lk, false, nil
	}
	entry, err := invoiceEntry(p, sourceID)
	if err != nil {
		return PaymentLookup{}, false, err
	}
	var entries []journal.Entry
	if entry != nil {
		if entries, err = l.journal.Check([]journal.Entry{*entry}); err != nil {
			return PaymentLookup{}, false, err
		}
	}
	l.journal.Post(entries...)
	p.Version = 1
	p.SetKeys()
	l.payments[p.UserID+"/"+p.ID] = clonePayment(p)
	lk := NewPaymentLookup(store.PaymentSourceKey(sourceID), &p)
	l.lookups[src] = lk
	if p.PaymentIntentID != "" {
		l.lookups[store.PaymentIntentKey(p.PaymentIntentID).String()] = NewPaymentLookup(store.PaymentIntentKey(p.PaymentIntentID), &p)
	}
	l.count(p.PaidAt, map[string]int64{store.CtrPaymentsSucceeded: 1, store.CtrRevenueCents: p.AmountCents})
	l.audits = append(l.audits, au)
	return lk, true, nil
}

func (l *fakeLedger) CountPaymentFailure(_ context.Context, _ string, invoiceID string, attempt int64, at time.Time, au audit.Entry) (bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	k := fmt.Sprint(invoiceID, "#", attempt)
	if l.failures[k] {
		return false, nil
	}
	l.failures[k] = true
	l.count(at, map[string]int64{store.CtrPaymentsFailed: 1})
	l.audits = append(l.audits, au)
	return true, nil
}

func (l *fakeLedger) UserEmail(_ context.Context, userID string) (string, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.emails[userID], nil
}

func (l *fakeLedger) SetReceiptKey(_ context.Context, userID, paymentID, key string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	p, ok := l.payments[userID+"/"+paymentID]
	if !ok {
		return conflict()
	}
	p.ReceiptKey = key
	p.Version++
	l.payments[userID+"/"+paymentID] = p
	return nil
}

// counter reads a day counter.
func (l *fakeLedger) counter(at time.Time, name string) int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.counters[at.UTC().Format("2006-01-02")][name]
}

// total sums a counter over every day.
func (l *fakeLedger) total(name string) int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	var n int64
	for _, day := range l.counters {
		n += day[name]
	}
	return n
}

// actions lists the audit actions in order.
func (l *fakeLedger) actions() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, a := range l.audits {
		out = append(out, a.Action)
	}
	return out
}

// ----- Stripe -----

// fakeStripe is Stripe's refunds as payments sees them: refunds are made once per idempotency key
// (until forgetKeys, Stripe's 24 h pruning), listed per charge, and calls can be made to fail.
type fakeStripe struct {
	mu      sync.Mutex
	clock   clock.Clock
	made    []StripeRefund           // every refund Stripe holds, in creation order
	byKey   map[string]StripeRefund  // idempotency keys Stripe remembers
	creates []RefundOrder            // every create request received
	lists   int                      // list requests received
	faults  map[string][]stripeFault // "create" / "list" → the next calls' faults, in order
}

// stripeFault makes one call fail. after: Stripe did the work, then the answer was lost.
type stripeFault struct {
	err   error
	after bool
}

func newFakeStripe(clk clock.Clock) *fakeStripe {
	return &fakeStripe{clock: clk, byKey: map[string]StripeRefund{}, faults: map[string][]stripeFault{}}
}

var (
	errAmbiguous = &stripeapi.Failure{Kind: stripeapi.Ambiguous, Code: "no_answer", Err: context.DeadlineExceeded}
	errServer    = &stripeapi.Failure{Kind: stripeapi.Ambiguous, Status: 500, Code: "api_error", Err: fmt.Errorf("stripe 500")}
	errRefused   = &stripeapi.Failure{Kind: stripeapi.Definite, Status: 400, Code: "charge_already_refunded", Err: fmt.Errorf("stripe 400")}
)

func (s *fakeStripe) fail(call string, f ...stripeFault) {
	s.mu.Lock()
	s.faults[call] = append(s.faults[call], f...)
	s.mu.Unlock()
}

func (s *fakeStripe) next(call string) (stripeFault, bool) {
	q := s.faults[call]
	if len(q) == 0 {
		return stripeFault{}, false
	}
	s.faults[call] = q[1:]
	return q[0], true
}

func (s *fakeStripe) CreateRefund(_ context.Context, o RefundOrder) (StripeRefund, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.creates = append(s.creates, o)
	f, faulty := s.next("create")
	if faulty && !f.after {
		return StripeRefund{}, f.err
	}
	rf, seen := s.byKey[o.IdempotencyKey]
	if !seen {
		rf = StripeRefund{ID: fmt.Sprintf("re_%d", len(s.made)+1), ChargeID: o.ChargeID, PaymentIntentID: o.PaymentIntentID,
			AmountCents: o.AmountCents, Currency: "usd", Status: RefundSucceeded, Reason: o.Reason,
			OperationID: o.Metadata["operationId"], RequestedBy: o.Metadata["requestedBy"], Created: s.clock.Now()}
		s.made = append(s.made, rf)
		s.byKey[o.IdempotencyKey] = rf
	}
	if faulty {
		return StripeRefund{}, f.err
	}
	return rf, nil
}

func (s *fakeStripe) ListRefunds(_ context.Context, chargeID, paymentIntentID string) ([]StripeRefund, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lists++
	if f, faulty := s.next("list"); faulty {
		return nil, f.err
	}
	var out []StripeRefund
	for i := len(s.made) - 1; i >= 0; i-- { // newest first, as Stripe lists
		r := s.made[i]
		if chargeID != "" && r.ChargeID == chargeID || chargeID == "" && r.PaymentIntentID == paymentIntentID {
			out = append(out, r)
		}
	}
	return out, nil
}

// setStatus changes a refund's status at Stripe (a refund that later fails).
func (s *fakeStripe) setStatus(id, status string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range s.made {
		if s.made[i].ID == id {
			s.made[i].Status = status
		}
	}
}

// dashboardRefund is a refund made outside our route (no operation id).
func (s *fakeStripe) dashboardRefund(chargeID string, amount int64) StripeRefund {
	s.mu.Lock()
	defer s.mu.Unlock()
	rf := StripeRefund{ID: fmt.Sprintf("re_dash_%d", len(s.made)+1), ChargeID: chargeID, AmountCents: amount, Currency: "usd",
		Status: RefundSucceeded, Reason: "requested_by_customer", Created: s.clock.Now()}
	s.made = append(s.made, rf)
	return rf
}

// forgetKeys is Stripe pruning idempotency keys after 24 hours.
func (s *fakeStripe) forgetKeys() { s.mu.Lock(); s.byKey = map[string]StripeRefund{}; s.mu.Unlock() }

func (s *fakeStripe) createCount() int { s.mu.Lock(); defer s.mu.Unlock(); return len(s.creates) }

// ----- queue, documents, mail -----

type sentMsg struct {
	Queue, Type, DedupeID string
	Payload               any
}

type fakeQueue struct {
	mu   sync.Mutex
	sent []sentMsg
}

func (q *fakeQueue) Send(_ context.Context, queue, typ, dedupeID string, payload any) error {
	q.mu.Lock()
	q.sent = append(q.sent, sentMsg{queue, typ, dedupeID, payload})
	q.mu.Unlock()
	return nil
}

// dedupeIDs returns the distinct dedupe ids sent, sorted.
func (q *fakeQueue) dedupeIDs() []string {
	q.mu.Lock()
	defer q.mu.Unlock()
	seen := map[string]bool{}
	var out []string
	for _, m := range q.sent {
		if !seen[m.DedupeID] {
			seen[m.DedupeID] = true
			out = append(out, m.DedupeID)
		}
	}
	sort.Strings(out)
	return out
}

type fakeDocs struct {
	mu   sync.Mutex
	objs map[string][]byte
	puts map[string]int
}

func newFakeDocs() *fakeDocs { return &fakeDocs{objs: map[string][]byte{}, puts: map[string]int{}} }

func (d *fakeDocs) Put(_ context.Context, o blob.Object, body []byte) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.objs[o.Key] = append([]byte(nil), body...)
	d.puts[o.Key]++
	return nil
}

func (d *fakeDocs) Exists(_ context.Context, key string) (bool, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	_, ok := d.objs[key]
	return ok, nil
}
