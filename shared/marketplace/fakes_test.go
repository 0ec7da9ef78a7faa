package marketplace

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v76"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/audit"
	"github.com/liberation/monetization/shared/books/journal"
	"github.com/liberation/monetization/shared/books/journal/journaltest"
	"github.com/liberation/monetization/shared/clock"
	"github.com/liberation/monetization/shared/marketplace/catalog"
	"github.com/liberation/monetization/shared/marketplace/ledger"
	"github.com/liberation/monetization/shared/store"
	"github.com/liberation/monetization/shared/store/storetest"
	"github.com/liberation/monetization/shared/stripeapi"
)

// memBooks is Books in memory, with DynamoDB's semantics where the rules depend on them: every
// versioned write is conditioned on the version read, new items on absence, a payout on the
// available balance, and a change is all or nothing. Items are stored through attributevalue (as
// DynamoDB would store them), so nothing a caller keeps aliases the stored state.
type memBooks struct {
	mu          sync.Mutex
	courses     map[string]Course
	sales       map[string]Sale // instructor|sale
	pointers    map[string]SalePointer
	charges     map[string]string // charge id → Checkout Session (payments' record)
	other       map[string]bool   // charges / PaymentIntents payments knows as not a course
	enrolments  map[string]Enrollment
	reviews     map[string]Review
	listing     map[string]map[string]int64
	balances    map[string]Balance
	payable     map[string]bool
	entries     map[string][]LedgerEntry
	payouts     map[string]Payout
	instructors map[string]Instructor
	parked      map[string]map[string]ParkedEvent
	cleared     map[string]bool // ref|event
	checkouts   map[string]OpenCheckout
	counters    map[string]int64
	audits      []audit.Entry
	commits     int
	// Courses' side (mem_courses_test.go): listings' fields and lessons by course.
	listings map[string]catalog.Listing
	lessons  map[string][]Lesson
	// failCommit, when set, fails the commit it returns true for (an injected fault).
	failCommit func(c *Change) bool
	// posted are the journal entries the changes carried: what journal.Items would have written
	// in the same transaction, checked by TransactPosting's rule.
	posted journaltest.Memory
}

var _ Books = (*memBooks)(nil)

func newMemBooks() *memBooks {
	return &memBooks{courses: map[string]Course{}, sales: map[string]Sale{}, pointers: map[string]SalePointer{},
		charges: map[string]string{}, other: map[string]bool{}, enrolments: map[string]Enrollment{},
		reviews: map[string]Review{}, listing: map[string]map[string]int64{}, balances: map[string]Balance{},
		payable: map[string]bool{}, entries: map[string][]LedgerEntry{}, payouts: map[string]Payout{},
		instructors: map[string]Instructor{}, parked: map[string]map[string]ParkedEvent{}, cleared: map[string]bool{},
		checkouts: map[string]OpenCheckout{}, counters: map[string]int64{},
		listings: map[string]catalog.Listing{}, lessons: map[string][]Lesson{}}
}

func clone[T any](v T) T { return storetest.RoundTrip(v) }

func k2(a, b string) string { return a + "|" + b }

func conflict(what string) error {
	return apperr.Wrap(&store.TxError{Failed: []int{0}}, apperr.Conflict, "condition failed: %s", what)
}

func (b *memBooks) Course(_ context.Context, id string) (Course, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	c, ok := b.courses[id]
	if !ok {
		return Course{}, apperr.New(apperr.NotFound, "course not found")
	}
	return clone(c), nil
}

func (b *memBooks) Sale(_ context.Context, instructorID, saleID string) (Sale, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	s, ok := b.sales[k2(instructorID, saleID)]
	if !ok {
		return Sale{}, apperr.New(apperr.NotFound, "not found")
	}
	return clone(s), nil
}

func (b *memBooks) SaleOfSession(_ context.Context, sessionID string) (SalePointer, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	p, ok := b.pointers[store.SaleSourceKey(sessionID).PK]
	if !ok {
		return SalePointer{}, apperr.New(apperr.NotFound, "not found")
	}
	return p, nil
}

func (b *memBooks) SaleOfCharge(ctx context.Context, chargeID, pi string) (Sale, error) {
	b.mu.Lock()
	p, ok := b.pointers[store.SalePaymentIntentKey(pi).PK]
	if !ok && chargeID != "" {
		if sess, known := b.charges[chargeID]; known {
			p, ok = b.pointers[store.SaleSourceKey(sess).PK]
		}
	}
	b.mu.Unlock()
	if !ok || p.SaleID == "" {
		return Sale{}, apperr.New(apperr.NotFound, "no sale")
	}
	return b.Sale(ctx, p.InstructorID, p.SaleID)
}

func (b *memBooks) NotACourseCharge(_ context.Context, chargeID, pi string) (bool, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.other[chargeID] || b.other[pi], nil
}

func (b *memBooks) Enrollment(_ context.Context, userID, courseID string) (*Enrollment, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	e, ok := b.enrolments[k2(userID, courseID)]
	if !ok {
		return nil, nil
	}
	e = clone(e)
	return &e, nil
}

func (b *memBooks) Review(_ context.Context, courseID, userID string) (*Review, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	rv, ok := b.reviews[k2(courseID, userID)]
	if !ok {
		return nil, nil
	}
	rv = clone(rv)
	return &rv, nil
}

func (b *memBooks) DueSales(_ context.Context, now time.Time, after string, limit int) ([]Sale, string, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	var due []Sale
	for _, s := range b.sales {
		if s.GSI2PK == store.PendingSalesPK && s.GSI2SK <= store.SortTime(now)+"~" && s.GSI2SK > after {
			due = append(due, clone(s))
		}
	}
	sort.Slice(due, func(i, j int) bool { return due[i].GSI2SK < due[j].GSI2SK })
	if len(due) > limit {
		return due[:limit], due[limit-1].GSI2SK, nil
	}
	return due, "", nil
}

func (b *memBooks) ParkedEvents(_ context.Context, ref string) ([]ParkedEvent, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []ParkedEvent
	for id, e := range b.parked[ref] {
		if !b.cleared[k2(ref, id)] {
			out = append(out, e)
		}
	}
	return out, nil
}

func (b *memBooks) Park(_ context.Context, e ParkedEvent) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.parked[e.Ref] == nil {
		b.parked[e.Ref] = map[string]ParkedEvent{}
	}
	if _, ok := b.parked[e.Ref][e.EventID]; !ok {
		b.parked[e.Ref][e.EventID] = e
		b.counters["parkedEvents"]++
	}
	return nil
}

func (b *memBooks) OpenCheckout(_ context.Context, userID, courseID string) (*OpenCheckout, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	co, ok := b.checkouts[k2(userID, courseID)]
	if !ok {
		return nil, nil
	}
	return &co, nil
}

func (b *memBooks) SaveCheckout(_ context.Context, co OpenCheckout, prev string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	cur, ok := b.checkouts[k2(co.UserID, co.CourseID)]
	if prev == "" && ok || prev != "" && (!ok || cur.SessionID != prev) {
		return conflict("open checkout changed")
	}
	b.checkouts[k2(co.UserID, co.CourseID)] = co
	return nil
}

func (b *memBooks) Balance(_ context.Context, id string) (Balance, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if bal, ok := b.balances[id]; ok {
		return bal, nil
	}
	return Balance{InstructorID: id, Currency: Currency}, nil
}

func (b *memBooks) Instructor(_ context.Context, id string) (Instructor, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if in, ok := b.instructors[id]; ok {
		return in, nil
	}
	return Instructor{ID: id}, nil
}

func (b *memBooks) Payout(_ context.Context, id, period string) (*Payout, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	po, ok := b.payouts[k2(id, period)]
	if !ok {
		return nil, nil
	}
	po = clone(po)
	return &po, nil
}

func (b *memBooks) PayableInstructors(context.Context) ([]string, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []string
	for id, ok := range b.payable {
		if ok {
			out = append(out, id)
		}
	}
	sort.Strings(out)
	return out, nil
}

func (b *memBooks) Unlist(_ context.Context, id string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.balances[id].Available <= 0 {
		delete(b.payable, id)
	}
	return nil
}

func (b *memBooks) PayoutsOf(_ context.Context, period, status string) ([]Payout, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []Payout
	for _, po := range b.payouts {
		if po.Period == period && po.Status == status {
			out = append(out, clone(po))
		}
	}
	return out, nil
}

func (b *memBooks) CountTransferAttempt(_ context.Context, id, period string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	po, ok := b.payouts[k2(id, period)]
	if !ok || po.Status != PayoutTransferring {
		return conflict("payout not transferring")
	}
	po.Attempts++
	b.payouts[k2(id, period)] = po
	return nil
}

func (b *memBooks) RecordAccount(_ context.Context, a AccountState, sameSecond bool, e audit.Entry) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	in, ok := b.instructors[a.InstructorID]
	switch {
	case !ok || in.ConnectAccountID != a.AccountID:
		return conflict("not the instructor's account")
	case sameSecond && in.AccountEventAt != a.EventAt:
		return conflict("not the same second")
	case !sameSecond && in.AccountEventAt != 0 && in.AccountEventAt >= a.EventAt:
		return conflict("not newer")
	}
	in.PayoutsEnabled, in.AccountEventAt, in.UpdatedAt = a.PayoutsEnabled, a.EventAt, a.At
	b.instructors[a.InstructorID] = in
	b.audits = append(b.audits, e)
	return nil
}

func (b *memBooks) SaveAccount(_ context.Context, id, acct, email string, at time.Time) (string, bool, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	in := b.instructors[id]
	if in.ConnectAccountID != "" && in.ConnectAccountID != acct {
		return in.ConnectAccountID, false, nil
	}
	in.ID, in.ConnectAccountID, in.Email, in.UpdatedAt = id, acct, email, at
	if in.CreatedAt.IsZero() {
		in.CreatedAt = at
	}
	b.instructors[id] = in
	return acct, true, nil
}

// Commit checks every condition of the change, then applies all of it, as a DynamoDB transaction.
func (b *memBooks) Commit(_ context.Context, c *Change) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.failCommit != nil && b.failCommit(c) {
		return apperr.New(apperr.Unavailable, "injected: transaction failed")
	}
	entry, err := journalEntry(c) // before the sale's version moves, as dynamoBooks does
	if err != nil {
		return err
	}
	for _, p := range c.NewPointers {
		if _, ok := b.pointers[p.PK]; ok {
			return conflict("guard " + p.PK)
		}
	}
	if s := c.Sale; s != nil {
		cur, ok := b.sales[k2(s.InstructorID, s.ID)]
		if s.Version == 0 && ok || s.Version != 0 && (!ok || cur.Version != s.Version) {
			return conflict("sale version")
		}
	}
	if v := c.Enrollment; v != nil {
		cur, ok := b.enrolments[k2(v.Item.UserID, v.Item.CourseID)]
		if v.Read == 0 && ok || v.Read != 0 && (!ok || cur.Version != v.Read) {
			return conflict("enrolment version")
		}
	}
	if h := c.Holding; h != nil {
		cur, ok := b.enrolments[k2(h.UserID, h.CourseID)]
		if !ok || !cur.Active() || cur.Version != h.Version {
			return conflict("enrolment no longer held")
		}
	}
	if v := c.Review; v != nil {
		cur, ok := b.reviews[k2(v.Item.CourseID, v.Item.UserID)]
		if v.Read == 0 && ok || v.Read != 0 && (!ok || cur.Version != v.Read) {
			return conflict("review version")
		}
	}
	if v := c.Payout; v != nil {
		cur, ok := b.payouts[k2(v.Item.InstructorID, v.Item.Period)]
		if v.Read == 0 && ok || v.Read != 0 && (!ok || cur.Version != v.Read) {
			return conflict("payout version")
		}
	}
	for _, e := range c.Unpark {
		if _, ok := b.parked[e.Ref][e.EventID]; !ok {
			return conflict("parked event")
		}
	}
	if c.Book.AvailableAtLeast > 0 {
		for _, payee := range c.Move.PayeeIDs() {
			if b.balances[payee].Available < c.Book.AvailableAtLeast {
				return conflict("available below the payout")
			}
		}
	}
	// The entry's own condition, last as in the transaction: an entry posted before with the same
	// content is the change's own posting (written without it), with other content a bug.
	var post []journal.Entry
	if entry != nil {
		var err error
		if post, err = b.posted.Check([]journal.Entry{*entry}); err != nil {
			return err
		}
	}
	// Apply.
	b.commits++
	b.posted.Post(post...)
	for _, p := range c.NewPointers {
		b.pointers[p.PK] = p
	}
	for _, p := range c.Pointers {
		b.pointers[p.PK] = p
	}
	if s := c.Sale; s != nil {
		s.SetKeys()
		s.Version++
		b.sales[k2(s.InstructorID, s.ID)] = clone(*s)
	}
	if v := c.Enrollment; v != nil {
		e := v.Item
		e.SetKeys()
		b.enrolments[k2(e.UserID, e.CourseID)] = clone(e)
	}
	if v := c.Review; v != nil {
		rv := v.Item
		rv.SetKeys()
		b.reviews[k2(rv.CourseID, rv.UserID)] = clone(rv)
	}
	if len(c.Listing) > 0 {
		if b.listing[c.Book.CourseID] == nil {
			b.listing[c.Book.CourseID] = map[string]int64{}
		}
		for k, v := range c.Listing {
			b.listing[c.Book.CourseID][k] += v
		}
	}
	if v := c.Payout; v != nil {
		po := v.Item
		po.SetKeys()
		b.payouts[k2(po.InstructorID, po.Period)] = clone(po)
	}
	for _, e := range c.Unpark {
		b.cleared[k2(e.Ref, e.EventID)] = true
	}
	counters := c.Book.Counters
	if c.Move.MovesMoney() {
		for _, payee := range c.Move.PayeeIDs() {
			d := c.Move.Payees[payee]
			bal := b.balances[payee]
			bal.InstructorID, bal.Currency = payee, Currency
			bal.Buckets = bal.Buckets.Plus(d)
			b.balances[payee] = bal
			if makesPayable(d) {
				b.payable[payee] = true
			}
			b.entries[payee] = append(b.entries[payee], ledgerEntry(payee, c.Move.Kind, d, c.Book))
		}
		counters = dayCounters(c.Move, c.Book.Counters)
		b.audits = append(b.audits, movementAudit(c.Move, c.Book))
	} else if c.Audit != nil {
		b.audits = append(b.audits, *c.Audit)
	}
	for k, v := range counters {
		b.counters[k] += v
	}
	return nil
}

// memStripe is Stripe's side in memory: refunds and disputes per PaymentIntent, transfers with their
// reversals, accounts, Checkout Sessions. Every change Stripe makes on its own (a refund the
// marketplace asks for) is reported through emit, as Stripe sends events.
type memStripe struct {
	mu        sync.Mutex
	refunds   map[string][]StripeRefund // by PaymentIntent
	disputes  map[string][]StripeDispute
	amounts   map[string]int64 // PaymentIntent → amount paid
	transfers map[string]*memTransfer
	accounts  map[string]bool
	sessions  map[string]string // id → open / expired / complete
	refundKey map[string]string // idempotency key → refund id
	nextID    int
	coupons   map[string]Coupon
	emit      func(typ, pi string) // a refund Stripe made for us: charge.refunded follows
	// refuseTransfer makes the next transfer a definite refusal; loseTransfer makes it an ambiguous
	// failure after the transfer was made.
	refuseTransfer, loseTransfer bool
}

type memTransfer struct {
	ID, PayoutID, Account string
	Amount, Reversed      int64
}

var _ StripePort = (*memStripe)(nil)

func newMemStripe() *memStripe {
	return &memStripe{refunds: map[string][]StripeRefund{}, disputes: map[string][]StripeDispute{},
		amounts: map[string]int64{}, transfers: map[string]*memTransfer{}, accounts: map[string]bool{},
		sessions: map[string]string{}, refundKey: map[string]string{}}
}

func (m *memStripe) id(prefix string) string {
	m.nextID++
	return fmt.Sprintf("%s_%04d", prefix, m.nextID)
}

func (m *memStripe) CourseCheckout(_ context.Context, in CheckoutInput) (CheckoutSession, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	id := m.id("cs")
	m.sessions[id] = "open"
	return CheckoutSession{ID: id, URL: "https://checkout.stripe.com/c/pay/" + id, ExpiresAt: in.ExpiresAt}, nil
}

func (m *memStripe) ExpireCheckout(_ context.Context, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	switch m.sessions[id] {
	case "complete":
		return ErrCheckoutComplete
	case "open":
		m.sessions[id] = "expired"
	}
	return nil
}

func (m *memStripe) ExpressAccount(_ context.Context, id, _ string) (string, error) {
	return "acct_" + id, nil
}
func (m *memStripe) OnboardingLink(context.Context, string, string, string, string) (string, time.Time, error) {
	return "https://connect.stripe.com/setup/x", time.Now(), nil
}
func (m *memStripe) Coupon(_ context.Context, id string) (Coupon, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if c, ok := m.coupons[id]; ok {
		return c, nil
	}
	return Coupon{}, apperr.New(apperr.NotFound, "no coupon %s", id)
}

func (m *memStripe) AccountPayoutsEnabled(_ context.Context, id string) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.accounts[id], nil
}

func (m *memStripe) Transfer(_ context.Context, in TransferInput) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.refuseTransfer {
		m.refuseTransfer = false
		return "", stripeapi.Error(&stripe.Error{HTTPStatusCode: 400, Type: stripe.ErrorTypeInvalidRequest,
			Code: stripe.ErrorCodeAccountInvalid}, "the payout transfer")
	}
	tr, ok := m.transfers[in.PayoutID]
	if !ok {
		tr = &memTransfer{ID: m.id("tr"), PayoutID: in.PayoutID, Account: in.AccountID, Amount: in.AmountCents}
		m.transfers[in.PayoutID] = tr
	}
	if m.loseTransfer {
		m.loseTransfer = false
		return "", stripeapi.Error(&stripe.Error{HTTPStatusCode: 500, Type: stripe.ErrorTypeAPI}, "the payout transfer")
	}
	return tr.ID, nil
}

func (m *memStripe) FindTransfer(_ context.Context, payoutID string) (string, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if tr, ok := m.transfers[payoutID]; ok {
		return tr.ID, true, nil
	}
	return "", false, nil
}

func (m *memStripe) ChargeRefunds(_ context.Context, _, pi string) ([]StripeRefund, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]StripeRefund(nil), m.refunds[pi]...), nil
}

func (m *memStripe) ChargeDisputes(_ context.Context, _, pi string) ([]StripeDispute, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]StripeDispute(nil), m.disputes[pi]...), nil
}

// refundable is what may still be refunded of a PaymentIntent (Stripe's rule).
func (m *memStripe) refundable(pi string) int64 {
	left := m.amounts[pi]
	for _, r := range m.refunds[pi] {
		if r.Counts() {
			left -= r.AmountCents
		}
	}
	return left
}

func (m *memStripe) RefundPurchase(_ context.Context, in RefundInput) (string, error) {
	m.mu.Lock()
	if id, ok := m.refundKey[in.Key]; ok {
		m.mu.Unlock()
		return id, nil
	}
	for _, dp := range m.disputes[in.PaymentIntentID] {
		if dp.Status != ledger.DisputeWon && dp.Status != ledger.DisputeLost {
			m.mu.Unlock()
			return "", stripeapi.Error(&stripe.Error{HTTPStatusCode: 400, Type: stripe.ErrorTypeInvalidRequest,
				Code: "charge_disputed"}, "refunding the purchase")
		}
	}
	left := m.refundable(in.PaymentIntentID)
	if left <= 0 {
		m.mu.Unlock()
		return "", stripeapi.Error(&stripe.Error{HTTPStatusCode: 400, Type: stripe.ErrorTypeInvalidRequest,
			Code: "charge_already_refunded"}, "refunding the purchase")
	}
	id := m.id("re")
	m.refunds[in.PaymentIntentID] = append(m.refunds[in.PaymentIntentID], StripeRefund{ID: id, AmountCents: left, Status: "succeeded"})
	m.refundKey[in.Key] = id
	emit := m.emit
	m.mu.Unlock()
	if emit != nil {
		emit("charge.refunded", in.PaymentIntentID)
	}
	return id, nil
}

// ----- the world: Deps over the fakes -----

type world struct {
	t      testing.TB
	clk    *clock.Fake
	books  *memBooks
	stripe *memStripe
	sent   *memQueue
	d      *Deps
	// statements are the payouts whose statement was sent; metrics the data points emitted.
	statements []string
	metrics    map[string]int64
}

type memQueue struct {
	mu   sync.Mutex
	msgs []queued
}

type queued struct {
	Queue, Type, Dedupe string
	Payload             any
}

func (q *memQueue) Send(_ context.Context, queue, typ, dedupe string, payload any) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.msgs = append(q.msgs, queued{queue, typ, dedupe, payload})
	return nil
}

// take removes and returns the messages of a type.
func (q *memQueue) take(typ string) []queued {
	q.mu.Lock()
	defer q.mu.Unlock()
	var out, keep []queued
	for _, m := range q.msgs {
		if m.Type == typ {
			out = append(out, m)
		} else {
			keep = append(keep, m)
		}
	}
	q.msgs = keep
	return out
}

func (q *memQueue) count(typ string) int {
	q.mu.Lock()
	defer q.mu.Unlock()
	n := 0
	for _, m := range q.msgs {
		if m.Type == typ {
			n++
		}
	}
	return n
}

var t0 = time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)

// The rules log what they do; unit tests keep quiet (MARKETPLACE_TEST_LOGS=1 shows it).
func init() {
	if os.Getenv("MARKETPLACE_TEST_LOGS") == "" {
		slog.SetDefault(slog.New(slog.NewTextHandler(io.Discard, nil)))
	}
}

func newWorld(t testing.TB) *world {
	w := &world{t: t, clk: clock.NewFake(t0), books: newMemBooks(), stripe: newMemStripe(), sent: &memQueue{}}
	w.d = &Deps{Clock: w.clk, Books: w.books, Courses: w.books, Stripe: w.stripe, Queue: w.sent, PayoutMinimum: 1000,
		RecordEnrolment: func(context.Context, string, string, time.Time) error { return nil }}
	w.d.SendStatement = func(_ context.Context, po Payout) error { w.statements = append(w.statements, po.ID); return nil }
	w.metrics = map[string]int64{}
	w.d.Emit = func(_ context.Context, name string, v int64) { w.metrics[name] += v }
	return w
}

// course puts a published course of instructor at price into the books.
func (w *world) course(id, instructor string, price int64) Course {
	c := Course{ID: id, InstructorID: instructor, Title: "Course " + id, PriceCents: price, Currency: Currency,
		Status: catalog.StatusPublished, CreatedAt: t0}
	c.SetKeys()
	w.books.courses[id] = c
	return c
}

// connect gives the instructor a Connect account that can (or cannot) receive payouts.
func (w *world) connect(instructor string, enabled bool) {
	acct := "acct_" + instructor
	w.books.instructors[instructor] = Instructor{ID: instructor, ConnectAccountID: acct, PayoutsEnabled: enabled}
	w.stripe.accounts[acct] = enabled
}

// paid is a paid Checkout Session of course by buyer at Stripe (the PaymentIntent holds amount).
func (w *world) paid(session, buyer, courseID string, amount int64) Purchase {
	pi := "pi_" + strings.TrimPrefix(session, "cs_")
	w.stripe.amounts[pi] = amount
	w.stripe.sessions[session] = "complete"
	return Purchase{SessionID: session, PaymentIntentID: pi, BuyerID: buyer, CourseID: courseID, AmountCents: amount,
		Currency: Currency, PaidAt: w.clk.Now()}
}

// book applies checkout.session.completed as the webhook does after payments' record: the sale,
// then settleBooking (Stripe's refunds and disputes, the duplicate refund, the facts).
func (w *world) book(p Purchase, eventID string) error {
	if err := RecordSale(context.Background(), w.d, p, eventID); err != nil {
		return err
	}
	return settleBooking(context.Background(), w.d, p.SessionID, eventID)
}

func (w *world) mustBook(p Purchase) Sale {
	w.t.Helper()
	if err := w.book(p, "evt_cs_"+p.SessionID); err != nil {
		w.t.Fatal(err)
	}
	return w.saleOf(p.SessionID)
}

func (w *world) saleOf(session string) Sale {
	w.t.Helper()
	ptr, err := w.books.SaleOfSession(context.Background(), session)
	if err != nil {
		w.t.Fatalf("no sale for %s: %v", session, err)
	}
	s, err := w.books.Sale(context.Background(), ptr.InstructorID, ptr.SaleID)
	if err != nil {
		w.t.Fatal(err)
	}
	return s
}

// refundEvent delivers charge.refunded for pi as the webhook does (parked when no sale is booked).
func (w *world) refundEvent(pi, eventID string, amountRefunded int64) error {
	ctx := context.Background()
	return applyOrPark(ctx, w.d, "charge.refunded", "", pi, eventID, func() error {
		return ApplyChargeRefunds(ctx, w.d, "", pi, amountRefunded, eventID)
	})
}

func (w *world) disputeEvent(pi, eventID string, dp StripeDispute) error {
	ctx := context.Background()
	return applyOrPark(ctx, w.d, "charge.dispute.updated", "", pi, eventID, func() error {
		return ApplyDispute(ctx, w.d, dp, "", pi, eventID)
	})
}

func (w *world) enrolment(user, course string) *Enrollment {
	e, _ := w.books.Enrollment(context.Background(), user, course)
	return e
}

// checkLedger fails unless every instructor's balance is the sum of their ledger entries.
func (w *world) checkLedger() {
	w.t.Helper()
	for id, bal := range w.books.balances {
		var sum ledger.Buckets
		for _, e := range w.books.entries[id] {
			sum = sum.Plus(e.Buckets)
		}
		if sum != bal.Buckets {
			w.t.Fatalf("instructor %s: ledger sums to %+v, balance is %+v", id, sum, bal.Buckets)
		}
	}
}

func dump(v any) string { b, _ := json.Marshal(v); return string(b) }

// entries returns the journal entries posted, in posting order.
func (b *memBooks) entriesPosted() []journal.Entry {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.posted.Entries()
}

// journalNet is every account's debits minus credits over the posted entries, per party ("" for
// lines without one).
func (b *memBooks) journalNet() map[journal.AccountID]map[string]int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.posted.Net()
}
