package payments

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/audit"
	"github.com/liberation/monetization/shared/billing/records"
	"github.com/liberation/monetization/shared/books/journal"
	"github.com/liberation/monetization/shared/ids"
	"github.com/liberation/monetization/shared/store"
)

// contractLedger is what the contract exercises: every repository port of ports.go. The fake and
// Repo must behave alike.
type contractLedger interface {
	RefundLedger
	DisputeLedger
	RecordRepo
	ReceiptSource
	PaymentReader
}

// ledgerBackend is one implementation of the ports with what the contract reads besides them.
type ledgerBackend struct {
	l        contractLedger
	counter  func(at time.Time, name string) int64 // a counter of the day of at
	audited  func(at time.Time, action string) int // audit records with action (of the day of at)
	setEmail func(userID, email string)            // the user's profile address
	journal  journalReader                         // a posted journal entry
	post     func(e journal.Entry) error           // posts an entry alone (a backfill)
}

// ledgerBackends are where the contract runs: the fake the unit tests use, and Repo over the table
// (in process without the integration tag, moto with it: backend_*_test.go). So the fake cannot
// drift from the repository, and the repository's expressions run in `go test ./...`.
var ledgerBackends = []struct {
	name string
	new  func(t *testing.T) ledgerBackend
}{
	{"Fake", func(*testing.T) ledgerBackend { return fakeBackend(newFakeLedger()) }},
	{"Repo", func(t *testing.T) ledgerBackend { return repoBackend(t, newTestStore(t, nil)) }},
}

func fakeBackend(l *fakeLedger) ledgerBackend {
	return ledgerBackend{l: l, counter: l.counter,
		audited: func(_ time.Time, action string) int {
			n := 0
			for _, a := range l.actions() {
				if a == action {
					n++
				}
			}
			return n
		},
		setEmail: func(userID, email string) { l.mu.Lock(); l.emails[userID] = email; l.mu.Unlock() },
		journal:  fakeJournalReader(l),
		post: func(e journal.Entry) error {
			l.mu.Lock()
			defer l.mu.Unlock()
			if err := e.Validate(); err != nil {
				return err
			}
			l.journal.Post(e)
			return nil
		}}
}

func repoBackend(t testing.TB, s *store.Store) ledgerBackend {
	return ledgerBackend{l: Repo{S: s},
		counter: func(at time.Time, name string) int64 { return dayCounter(t, s, at, name) },
		audited: func(at time.Time, action string) int { return auditCount(t, s, at, action) },
		setEmail: func(userID, email string) {
			if _, err := (records.Records{S: s}).LinkStripeCustomer(context.Background(), userID, email, "cus_"+userID); err != nil {
				t.Fatal(err)
			}
		},
		journal: repoJournalReader(Repo{S: s}),
		post:    func(e journal.Entry) error { return journal.Repo{S: s}.Post(context.Background(), e) }}
}

// dayCounter reads one counter of the day's metrics item (0 before anything was counted).
func dayCounter(t testing.TB, s *store.Store, at time.Time, name string) int64 {
	t.Helper()
	var day map[string]any
	err := s.GetConsistent(context.Background(), store.MetricsDayKey(at), &day)
	if apperr.Is(err, apperr.NotFound) {
		return 0
	}
	if err != nil {
		t.Fatal(err)
	}
	n, _ := day[name].(float64)
	return int64(n)
}

// auditCount counts the day's audit records with action (one Query of the day's partition).
func auditCount(t testing.TB, s *store.Store, at time.Time, action string) int {
	t.Helper()
	recs, err := store.QueryAll[audit.Record](context.Background(), s, &dynamodb.QueryInput{
		KeyConditionExpression:    aws.String("PK = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": store.S(store.AuditKey(at, "x").PK)},
		ConsistentRead:            aws.Bool(true),
	})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, r := range recs {
		if r.Action == action {
			n++
		}
	}
	return n
}

// ledgerCases are the semantics payments' rules rely on, each run on every backend.
var ledgerCases = []struct {
	name string
	run  func(t *testing.T, b ledgerBackend)
}{
	{"RecordOncePerSource", contractRecordOncePerSource},
	{"FindByStripeIDs", contractFindByStripeIDs},
	{"Pages", contractPages},
	{"ChangesOverTheVersion", contractChangesOverTheVersion},
	{"Disputes", contractDisputes},
	{"UnmatchedRefunds", contractUnmatchedRefunds},
	{"PaymentFailures", contractPaymentFailures},
	{"Receipts", contractReceipts},
	{"ResolveStripeUser", contractResolveStripeUser},
	{"JournalPostedWithTheChange", contractJournalPostedWithTheChange},
}

func TestLedgerContract(t *testing.T) {
	for _, be := range ledgerBackends {
		for _, c := range ledgerCases {
			t.Run(be.name+"/"+c.name, func(t *testing.T) { c.run(t, be.new(t)) })
		}
	}
}

// contractPayment is a fresh subscription payment of 1000 cents paid at now.
func contractPayment(now time.Time) Payment {
	return Payment{ID: newPaymentID(now), UserID: "u-" + ids.ULID(now), Kind: PaymentKindSubscription,
		Status: PaymentSucceeded, AmountCents: 1000, Currency: "usd", ChargeID: "ch_" + ids.ULID(now),
		PaymentIntentID: "pi_" + ids.ULID(now), PaidAt: now, CreatedAt: now}
}

func recordAudit(p Payment) audit.Entry {
	return audit.Entry{Actor: audit.ActorStripe, Action: "payment.record", Target: "payment:" + p.ID}
}

// mustCreate records p from source src and returns it as stored.
func mustCreate(t *testing.T, l contractLedger, p Payment, src string) Payment {
	t.Helper()
	lk, created, err := l.CreatePayment(context.Background(), p, src, recordAudit(p), nil)
	if err != nil || !created || lk.PaymentID != p.ID || lk.UserID != p.UserID {
		t.Fatalf("create %s: %+v %v %v", src, lk, created, err)
	}
	got, err := l.GetPayment(context.Background(), p.UserID, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func contractRecordOncePerSource(t *testing.T, b ledgerBackend) {
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Second)
	p := contractPayment(now)
	src := "in_" + ids.ULID(now)
	got := mustCreate(t, b.l, p, src)
	if got.Version != 1 || got.AmountCents != 1000 || got.ChargeID != p.ChargeID || !got.PaidAt.Equal(now) {
		t.Fatalf("stored %+v", got)
	}
	other := p
	other.ID = newPaymentID(now.Add(time.Second))
	if lk, created, err := b.l.CreatePayment(ctx, other, src, recordAudit(other), nil); err != nil || created || lk.PaymentID != p.ID {
		t.Fatalf("second create of one source: %+v %v %v, want the first payment", lk, created, err)
	}
	if _, err := b.l.GetPayment(ctx, p.UserID, other.ID); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("the second payment of one source was stored: %v", err)
	}
	if b.counter(now, store.CtrPaymentsSucceeded) != 1 || b.counter(now, store.CtrRevenueCents) != 1000 {
		t.Fatal("payment counted more than once")
	}
	if n := b.audited(now, "payment.record"); n != 1 {
		t.Fatalf("%d payment.record audit records, want 1", n)
	}
	// Another source is another payment.
	again := contractPayment(now)
	again.UserID = p.UserID
	mustCreate(t, b.l, again, "in_"+ids.ULID(now))
	if b.counter(now, store.CtrPaymentsSucceeded) != 2 || b.counter(now, store.CtrRevenueCents) != 2000 {
		t.Fatal("a second source was not counted")
	}
}

func contractFindByStripeIDs(t *testing.T, b ledgerBackend) {
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Second)
	p := contractPayment(now)
	mustCreate(t, b.l, p, "in_"+ids.ULID(now))
	for _, find := range [][2]string{{p.ChargeID, ""}, {"", p.PaymentIntentID}, {"ch_other", p.PaymentIntentID}, {p.ChargeID, "pi_other"}} {
		if got, err := b.l.PaymentByStripe(ctx, find[0], find[1]); err != nil || got.ID != p.ID {
			t.Fatalf("PaymentByStripe%v: %v %v", find, got.ID, err)
		}
	}
	for _, find := range [][2]string{{"ch_unknown", ""}, {"", "pi_unknown"}, {"", ""}} {
		if _, err := b.l.PaymentByStripe(ctx, find[0], find[1]); !apperr.Is(err, apperr.NotFound) {
			t.Fatalf("PaymentByStripe%v: %v, want NotFound", find, err)
		}
	}
	if got, err := b.l.PaymentByID(ctx, p.ID); err != nil || got.UserID != p.UserID || got.Version != 1 {
		t.Fatalf("PaymentByID: %+v %v", got, err)
	}
	if _, err := b.l.PaymentByID(ctx, newPaymentID(now)); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("PaymentByID of an unknown id: %v", err)
	}
	if _, err := b.l.GetPayment(ctx, "u-someone-else", p.ID); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("another user's payment: %v, want NotFound", err)
	}
	// A purchase has no charge id until a later event names it: found by its PaymentIntent only.
	purchase := contractPayment(now)
	purchase.Kind, purchase.ChargeID = PaymentKindPurchase, ""
	mustCreate(t, b.l, purchase, "cs_"+ids.ULID(now))
	if got, err := b.l.PaymentByStripe(ctx, "ch_new", purchase.PaymentIntentID); err != nil || got.ID != purchase.ID {
		t.Fatalf("purchase by PaymentIntent: %v %v", got.ID, err)
	}
	// A payment without a PaymentIntent is found by its charge alone.
	bare := contractPayment(now)
	bare.PaymentIntentID = ""
	mustCreate(t, b.l, bare, "in_"+ids.ULID(now))
	if got, err := b.l.PaymentByStripe(ctx, bare.ChargeID, ""); err != nil || got.ID != bare.ID {
		t.Fatalf("payment by charge: %v %v", got.ID, err)
	}
}

func contractPages(t *testing.T, b ledgerBackend) {
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Second)
	user := "u-" + ids.ULID(now)
	var want []string // newest first
	for i := 0; i < 3; i++ {
		p := contractPayment(now.Add(time.Duration(i) * time.Minute))
		p.UserID = user
		mustCreate(t, b.l, p, "in_"+ids.ULID(now))
		want = append([]string{p.ID}, want...)
	}
	stranger := contractPayment(now)
	mustCreate(t, b.l, stranger, "in_"+ids.ULID(now))

	first, err := b.l.ListPayments(ctx, user, 2, "")
	if err != nil || len(first.Items) != 2 || first.Items[0].ID != want[0] || first.NextCursor == "" {
		t.Fatalf("first page %+v %v", first, err)
	}
	if _, err := b.l.ListPayments(ctx, stranger.UserID, 2, first.NextCursor); !apperr.Is(err, apperr.Invalid) {
		t.Fatalf("my cursor replayed by another user: %v, want Invalid", err)
	}
	if _, err := b.l.ListPayments(ctx, user, 2, "not-a-cursor"); !apperr.Is(err, apperr.Invalid) {
		t.Fatalf("a forged cursor: %v, want Invalid", err)
	}
	var got []string
	cursor := ""
	for pages := 0; ; pages++ {
		if pages > 3 {
			t.Fatal("too many pages")
		}
		page, err := b.l.ListPayments(ctx, user, 2, cursor)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range page.Items {
			if p.UserID != user {
				t.Fatalf("another user's payment listed: %+v", p)
			}
			got = append(got, p.ID)
		}
		if cursor = page.NextCursor; cursor == "" {
			break
		}
	}
	if !slices.Equal(got, want) {
		t.Fatalf("listed %v, want %v (newest first, each once)", got, want)
	}
	if none, err := b.l.ListPayments(ctx, "u-nobody", 2, ""); err != nil || len(none.Items) != 0 || none.NextCursor != "" {
		t.Fatalf("a user without payments: %+v %v", none, err)
	}
}

func contractChangesOverTheVersion(t *testing.T, b ledgerBackend) {
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Second)
	p := contractPayment(now)
	user := p.UserID
	read := mustCreate(t, b.l, p, "in_"+ids.ULID(now))

	// A change over the version read wins once; the second writer from the same read loses, and
	// a refused change writes nothing (not even its audit record).
	op := RefundOp{ID: "rop_" + ids.ULID(now), UserID: user, PaymentID: p.ID, AmountCents: 300, Reason: "duplicate",
		RequestedBy: "admin", Status: RefundOpPending, Attempt: 1, ReservedAt: now.Add(-time.Hour)}
	reserve := read
	reserve.PendingRefunds, reserve.PendingRefundCents = map[string]int64{op.ID: 300}, 300
	c := Change{Payment: reserve, NewOps: []RefundOp{op}, At: now,
		Audit: audit.Entry{Actor: "admin", Action: "refund.reserve", Target: "payment:" + p.ID}}
	if err := b.l.Apply(ctx, c); err != nil {
		t.Fatal(err)
	}
	if err := b.l.Apply(ctx, c); !store.IsConditionFailed(err) {
		t.Fatalf("a change over a stale version: %v, want a failed condition", err)
	}
	if n := b.audited(now, "refund.reserve"); n != 1 {
		t.Fatalf("%d refund.reserve audit records, want 1 (the refused change wrote one)", n)
	}
	cur, _ := b.l.GetPayment(ctx, user, p.ID)
	if cur.Version != 2 || cur.PendingRefundCents != 300 || cur.PendingRefunds[op.ID] != 300 {
		t.Fatalf("after the reservation: %+v", cur)
	}
	young := op
	young.ID, young.ReservedAt = "rop_young_"+ids.ULID(now), now
	if err := b.l.Apply(ctx, Change{Payment: cur, NewOps: []RefundOp{op}, At: now}); !store.IsConditionFailed(err) {
		t.Fatalf("creating an existing operation: %v, want a failed condition", err)
	}
	if err := b.l.Apply(ctx, Change{Payment: cur, NewOps: []RefundOp{young}, At: now}); err != nil {
		t.Fatal(err)
	}
	pending, more, err := b.l.PendingRefundOps(ctx, now.Add(-time.Minute), 10)
	if err != nil || more || !hasOp(pending, op.ID) || hasOp(pending, young.ID) {
		t.Fatalf("pending before the cutoff: %+v %v %v", pending, more, err)
	}
	pending, more, err = b.l.PendingRefundOps(ctx, now.Add(time.Minute), 1)
	if err != nil || !more || len(pending) != 1 || pending[0].ID != op.ID {
		t.Fatalf("at most one pending, oldest first: %+v %v %v", pending, more, err)
	}
	if _, err := b.l.RefundOp(ctx, "rop_unknown"); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("unknown operation: %v", err)
	}

	// Booking: the refund is created once, the operation leaves the pending index, counters move.
	cur, _ = b.l.GetPayment(ctx, user, p.ID)
	booked := cur
	booked.PendingRefunds = map[string]int64{}
	booked.PendingRefundCents, booked.RefundedCents = 0, 300
	op.Status, op.RefundID = RefundOpBooked, "re_"+ids.ULID(now)
	ref := Refund{ID: op.RefundID, PaymentID: p.ID, UserID: user, AmountCents: 300, Currency: "usd",
		Status: RefundSucceeded, Source: RefundSourceAdmin, OperationID: op.ID, CreatedAt: now}
	book := Change{Payment: booked, NewRefunds: []Refund{ref}, Ops: []RefundOp{op}, At: now,
		Counters: map[string]int64{store.CtrRefundedCents: 300, store.CtrDisputedCents: 0}}
	if err := b.l.Apply(ctx, book); err != nil {
		t.Fatal(err)
	}
	again, _ := b.l.GetPayment(ctx, user, p.ID)
	book.Payment = again
	if err := b.l.Apply(ctx, book); !store.IsConditionFailed(err) {
		t.Fatalf("booking one refund id twice: %v, want a failed condition", err)
	}
	if b.counter(now, store.CtrRefundedCents) != 300 || b.counter(now, store.CtrDisputedCents) != 0 {
		t.Fatalf("refunded counter %d", b.counter(now, store.CtrRefundedCents))
	}
	if rs, err := b.l.Refunds(ctx, user, p.ID); err != nil || len(rs) != 1 || rs[0].ID != ref.ID || rs[0].AmountCents != 300 {
		t.Fatalf("refunds %+v %v", rs, err)
	}
	if got, err := b.l.Refund(ctx, user, p.ID, ref.ID); err != nil || got.OperationID != op.ID || got.Status != RefundSucceeded {
		t.Fatalf("refund %+v %v", got, err)
	}
	if _, err := b.l.Refund(ctx, user, p.ID, "re_unknown"); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("unknown refund: %v", err)
	}
	if got, err := b.l.RefundOp(ctx, op.ID); err != nil || got.Status != RefundOpBooked || got.GSI2PK != "" {
		t.Fatalf("op %+v %v", got, err)
	}
	pending, _, _ = b.l.PendingRefundOps(ctx, now.Add(time.Minute), 10)
	if hasOp(pending, op.ID) || !hasOp(pending, young.ID) {
		t.Fatalf("pending after booking: %+v", pending)
	}

	// A refund that later fails at Stripe is replaced in place.
	cur, _ = b.l.GetPayment(ctx, user, p.ID)
	failed := ref
	failed.Status = RefundFailed
	cur.RefundedCents = 0
	if err := b.l.Apply(ctx, Change{Payment: cur, Refunds: []Refund{failed}, At: now,
		Counters: map[string]int64{store.CtrRefundedCents: -300}}); err != nil {
		t.Fatal(err)
	}
	if rs, _ := b.l.Refunds(ctx, user, p.ID); len(rs) != 1 || rs[0].Status != RefundFailed {
		t.Fatalf("refunds after the failure %+v", rs)
	}
	if b.counter(now, store.CtrRefundedCents) != 0 {
		t.Fatalf("refunded counter %d after the failure", b.counter(now, store.CtrRefundedCents))
	}
	// Another user's payment of the same id does not exist: a change of it is refused.
	ghost := cur
	ghost.UserID = "u-ghost"
	if err := b.l.Apply(ctx, Change{Payment: ghost, At: now}); !store.IsConditionFailed(err) {
		t.Fatalf("a change of a payment never created: %v", err)
	}
}

func contractDisputes(t *testing.T, b ledgerBackend) {
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Second)
	p := contractPayment(now)
	cur := mustCreate(t, b.l, p, "in_"+ids.ULID(now))
	d := Dispute{ID: "dp_" + ids.ULID(now), PaymentID: p.ID, UserID: p.UserID, ChargeID: p.ChargeID, AmountCents: 1000,
		Currency: "usd", Status: "needs_response", OpenedAt: now, UpdatedAt: now}
	if _, err := b.l.Dispute(ctx, p.UserID, d.ID); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("dispute before it was opened: %v", err)
	}
	open := cur
	open.Disputed, open.DisputeStatus, open.DisputedCents = true, d.Status, 1000
	c := Change{Payment: open, NewDispute: &d, At: now, Counters: map[string]int64{store.CtrDisputedCents: 1000},
		Audit: audit.Entry{Actor: audit.ActorStripe, Action: "dispute.open", Target: "payment:" + p.ID}}
	if err := b.l.Apply(ctx, c); err != nil {
		t.Fatal(err)
	}
	cur, _ = b.l.GetPayment(ctx, p.UserID, p.ID)
	c.Payment = cur
	if err := b.l.Apply(ctx, c); !store.IsConditionFailed(err) {
		t.Fatalf("opening one dispute twice: %v, want a failed condition", err)
	}
	lost := d
	lost.Status = "lost"
	cur.DisputeStatus, cur.DisputeLostCents = "lost", 1000
	if err := b.l.Apply(ctx, Change{Payment: cur, Dispute: &lost, At: now,
		Counters: map[string]int64{store.CtrDisputeLostCents: 1000}}); err != nil {
		t.Fatal(err)
	}
	got, err := b.l.Dispute(ctx, p.UserID, d.ID)
	if err != nil || got.Status != "lost" || got.AmountCents != 1000 || got.PaymentID != p.ID {
		t.Fatalf("dispute %+v %v", got, err)
	}
	pay, _ := b.l.GetPayment(ctx, p.UserID, p.ID)
	if !pay.Disputed || pay.DisputeStatus != "lost" || pay.RefundableCents() != 0 {
		t.Fatalf("payment %+v", pay)
	}
	if b.counter(now, store.CtrDisputedCents) != 1000 || b.counter(now, store.CtrDisputeLostCents) != 1000 ||
		b.audited(now, "dispute.open") != 1 {
		t.Fatal("the dispute was not counted once")
	}
}

func contractUnmatchedRefunds(t *testing.T, b ledgerBackend) {
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Second)
	u := UnmatchedRefund{ChargeID: "ch_unmatched_" + ids.ULID(now), AmountRefundedCents: 5, Currency: "usd", EventID: "evt_1", At: now}
	if _, err := b.l.UnmatchedRefund(ctx, u.ChargeID); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("before it was recorded: %v", err)
	}
	ua := audit.Entry{Actor: audit.ActorStripe, Action: "refund.unmatched", Target: "charge:" + u.ChargeID}
	for i, want := range []bool{true, false} {
		if first, err := b.l.RecordUnmatchedRefund(ctx, u, ua); err != nil || first != want {
			t.Fatalf("unmatched #%d: %v %v", i, first, err)
		}
	}
	if got, err := b.l.UnmatchedRefund(ctx, u.ChargeID); err != nil || got.AmountRefundedCents != 5 || got.EventID != "evt_1" {
		t.Fatalf("unmatched record %+v %v", got, err)
	}
	if b.counter(now, store.CtrUnmatchedRefunds) != 1 || b.audited(now, "refund.unmatched") != 1 {
		t.Fatal("unmatched refund not counted once")
	}
}

func contractPaymentFailures(t *testing.T, b ledgerBackend) {
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Second)
	inv := "in_" + ids.ULID(now)
	au := audit.Entry{Actor: audit.ActorStripe, Action: "payment.failed", Target: "invoice:" + inv}
	for i, step := range []struct {
		attempt int64
		first   bool
	}{{1, true}, {1, false}, {2, true}, {2, false}} {
		if first, err := b.l.CountPaymentFailure(ctx, "u1", inv, step.attempt, now, au); err != nil || first != step.first {
			t.Fatalf("failure #%d (attempt %d): %v %v, want %v", i, step.attempt, first, err, step.first)
		}
	}
	if b.counter(now, store.CtrPaymentsFailed) != 2 || b.audited(now, "payment.failed") != 2 {
		t.Fatalf("paymentsFailed %d, want one per attempt", b.counter(now, store.CtrPaymentsFailed))
	}
}

func contractReceipts(t *testing.T, b ledgerBackend) {
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Second)
	p := contractPayment(now)
	if email, err := b.l.UserEmail(ctx, p.UserID); err != nil || email != "" {
		t.Fatalf("a user without a profile: %q %v", email, err)
	}
	b.setEmail(p.UserID, "ada@example.com")
	if email, err := b.l.UserEmail(ctx, p.UserID); err != nil || email != "ada@example.com" {
		t.Fatalf("profile address %q %v", email, err)
	}
	if err := b.l.SetReceiptKey(ctx, p.UserID, p.ID, "receipts/x.pdf"); !store.IsConditionFailed(err) {
		t.Fatalf("receipt key of a payment never recorded: %v, want a failed condition", err)
	}
	stale := mustCreate(t, b.l, p, "in_"+ids.ULID(now))
	if err := b.l.SetReceiptKey(ctx, p.UserID, p.ID, ReceiptObjectKey(p.UserID, p.ID)); err != nil {
		t.Fatal(err)
	}
	got, _ := b.l.GetPayment(ctx, p.UserID, p.ID)
	if got.ReceiptKey != ReceiptObjectKey(p.UserID, p.ID) || got.Version != stale.Version+1 {
		t.Fatalf("after SetReceiptKey: key %q version %d", got.ReceiptKey, got.Version)
	}
	// The key bumped the version: a change computed before it cannot erase it.
	if err := b.l.Apply(ctx, Change{Payment: stale, At: now}); !store.IsConditionFailed(err) {
		t.Fatalf("a change over the version before the receipt key: %v", err)
	}
}

func contractResolveStripeUser(t *testing.T, b ledgerBackend) {
	ctx := context.Background()
	if id, err := b.l.ResolveStripeUser(ctx, "", "", "", "u-meta", "u-ref"); err != nil || id != "u-meta" {
		t.Fatalf("first non-empty candidate: %q %v", id, err)
	}
	if id, err := b.l.ResolveStripeUser(ctx, "", "", ""); err != nil || id != "" {
		t.Fatalf("nobody: %q %v", id, err)
	}
}

func hasOp(ops []RefundOp, id string) bool {
	for _, o := range ops {
		if o.ID == id {
			return true
		}
	}
	return false
}

// Another area's items ride in the payment's transaction (a course sale): they land with it, and
// when one of them is refused nothing lands — not the payment, its guard or its counters — and the
// error is not mistaken for "recorded before". Repo only: the fake cannot apply DynamoDB items.
func TestRepoCreatePaymentWithExtraItems(t *testing.T) {
	s := newTestStore(t, nil)
	r := Repo{S: s}
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Second)
	type sale struct {
		PK, SK string
		Cents  int64 `dynamodbav:"cents"`
	}
	taken, err := store.PutNewItem(sale{PK: "SALE#taken", SK: "SALE", Cents: 1})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Transact(ctx, []types.TransactWriteItem{taken}); err != nil {
		t.Fatal(err)
	}
	p := contractPayment(now)
	src := "cs_" + ids.ULID(now)
	taken, _ = store.PutNewItem(sale{PK: "SALE#taken", SK: "SALE", Cents: 2})
	_, created, err := r.CreatePayment(ctx, p, src, recordAudit(p), []types.TransactWriteItem{taken})
	if !store.IsConditionFailed(err) || created {
		t.Fatalf("an extra item refused: %v %v, want its failed condition", created, err)
	}
	if _, err := r.GetPayment(ctx, p.UserID, p.ID); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("the payment landed without its extra items: %v", err)
	}
	if dayCounter(t, s, now, store.CtrRevenueCents) != 0 {
		t.Fatal("revenue counted for a refused transaction")
	}
	fresh, _ := store.PutNewItem(sale{PK: "SALE#" + p.ID, SK: "SALE", Cents: 1000})
	lk, created, err := r.CreatePayment(ctx, p, src, recordAudit(p), []types.TransactWriteItem{fresh})
	if err != nil || !created || lk.PaymentID != p.ID {
		t.Fatalf("with a free extra item: %+v %v %v", lk, created, err)
	}
	var got sale
	if err := s.GetConsistent(ctx, store.Key{PK: "SALE#" + p.ID, SK: "SALE"}, &got); err != nil || got.Cents != 1000 {
		t.Fatalf("extra item %+v %v", got, err)
	}
	if dayCounter(t, s, now, store.CtrRevenueCents) != 1000 {
		t.Fatal("revenue not counted with the payment")
	}
}
