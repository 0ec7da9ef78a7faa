package payments

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/stripe/stripe-go/v76"

	"github.com/liberation/monetization/shared/blob"
	"github.com/liberation/monetization/shared/blob/blobtest"
	"github.com/liberation/monetization/shared/books/journal"
	"github.com/liberation/monetization/shared/ids"
	"github.com/liberation/monetization/shared/logging"
	"github.com/liberation/monetization/shared/mail/mailtest"
	"github.com/liberation/monetization/shared/manifest"
	"github.com/liberation/monetization/shared/platform"
	"github.com/liberation/monetization/shared/privacy"
	"github.com/liberation/monetization/shared/privacy/privacytest"
	"github.com/liberation/monetization/shared/receipts/receiptpdf"
	"github.com/liberation/monetization/shared/store"
	"github.com/liberation/monetization/shared/store/storetest"
)

// Payments' eraser on the table (in process; on moto with the integration tag) over records made by
// payments' own code paths — invoices and purchases recorded by the Recorder with their journal
// entries, refunds booked from Stripe's list, disputes applied from their events, receipts and
// credit notes rendered by the receipts consumer into a versioned bucket (blobtest, which follows
// s3blob's contract).

const payerEmail = "ada.lovelace@example.com"

type payEraseWorld struct {
	*tableWorld
	docs *blobtest.Versioned
	subj privacy.ErasureSubject
	// The subject's payments: refunded in part, disputed (open), purchased and refunded in full,
	// disputed and lost.
	partRefunded, disputed, purchase, lost Payment
	openDispute                            string
}

// newPayEraseWorld records the subject's payments (and `extra` small invoices more) and another
// user's, renders every receipt and credit note as the receipts consumer does, and overwrites the
// first receipt once (its first version stays in the versioned bucket).
func newPayEraseWorld(t *testing.T, extra int) *payEraseWorld {
	t.Helper()
	ctx := logging.With(context.Background(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	w := &payEraseWorld{tableWorld: newTableWorld(t), docs: blobtest.New(),
		subj: privacy.ErasureSubject{UserID: "u1", Emails: []string{payerEmail}, Pseudonym: "anon_01JERASEDPAYER00000000000",
			RequestID: "era_01JPAYREQUEST0000000000000"}}
	tick := func() time.Time { w.clock.Advance(time.Second); return w.clock.Now() }
	invoice := func(user, email string, amount int64) Payment {
		t.Helper()
		inv := tableInvoice(amount, email, tick())
		inv.Charge.PaymentMethodDetails = &stripe.ChargePaymentMethodDetails{Card: &stripe.ChargePaymentMethodDetailsCard{Brand: "visa", Last4: "4242"}}
		if err := w.rec.InvoicePaid(ctx, user, inv, Source{EventID: "evt_" + inv.ID}); err != nil {
			t.Fatal(err)
		}
		p, err := w.repo.PaymentByStripe(ctx, inv.Charge.ID, "")
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	refund := func(p Payment, amount int64) {
		t.Helper()
		w.stripe.dashboardRefund(p.ChargeID, amount)
		if err := w.refunds.ChargeRefunded(ctx, ChargeRef{ChargeID: p.ChargeID, PaymentIntentID: p.PaymentIntentID,
			AmountRefundedCents: p.RefundedCents + amount}, Source{EventID: "evt_r_" + ids.ULID(tick())}); err != nil {
			t.Fatal(err)
		}
	}
	dispute := func(p Payment, status stripe.DisputeStatus, evs ...stripe.EventType) string {
		t.Helper()
		dp := &stripe.Dispute{ID: "dp_" + ids.ULID(tick()), Amount: p.AmountCents, Currency: "usd", Charge: &stripe.Charge{ID: p.ChargeID},
			Reason: stripe.DisputeReasonFraudulent, Status: stripe.DisputeStatusNeedsResponse, Created: w.clock.Now().Unix()}
		for _, ev := range evs {
			if ev == stripe.EventTypeChargeDisputeClosed {
				dp.Status = status
			}
			if err := w.disputes.Apply(ctx, dp, ev, Source{EventID: "evt_" + string(ev) + dp.ID}); err != nil {
				t.Fatal(err)
			}
		}
		return dp.ID
	}

	w.partRefunded = invoice("u1", payerEmail, 999)
	refund(w.partRefunded, 300)
	w.disputed = invoice("u1", payerEmail, 1999)
	w.openDispute = dispute(w.disputed, "", stripe.EventTypeChargeDisputeCreated, stripe.EventTypeChargeDisputeFundsWithdrawn)
	// A purchase (checkout): paid, then refunded in full.
	cs := &stripe.CheckoutSession{ID: "cs_" + ids.ULID(tick()), Mode: stripe.CheckoutSessionModePayment,
		PaymentStatus: stripe.CheckoutSessionPaymentStatusPaid, AmountTotal: 4900, Currency: "usd", Created: w.clock.Now().Unix(),
		CustomerDetails: &stripe.CheckoutSessionCustomerDetails{Email: payerEmail},
		PaymentIntent:   &stripe.PaymentIntent{ID: "pi_" + ids.ULID(w.clock.Now())},
		Metadata:        map[string]string{"courseId": "course-1", "courseTitle": "Go for Beginners"}}
	if err := w.rec.CheckoutPaid(ctx, "u1", cs, Source{EventID: "evt_" + cs.ID, Created: w.clock.Now()}); err != nil {
		t.Fatal(err)
	}
	w.purchase = w.only(t, "u1", cs.ID)
	w.purchase.ChargeID = "ch_" + ids.ULID(tick())
	refund(w.purchase, 4900)
	w.lost = invoice("u1", payerEmail, 500)
	dispute(w.lost, stripe.DisputeStatusLost, stripe.EventTypeChargeDisputeCreated, stripe.EventTypeChargeDisputeClosed)
	for i := 0; i < extra; i++ {
		invoice("u1", payerEmail, int64(100+i))
	}
	// Another user: a refund and a dispute won; none of it is the subject's.
	other := invoice("u2", "grace@example.com", 2500)
	refund(other, 500)
	dispute(other, stripe.DisputeStatusWon, stripe.EventTypeChargeDisputeCreated, stripe.EventTypeChargeDisputeClosed)

	// The receipts consumer renders every receipt and credit note the records queued.
	m := &Mailer{Source: w.repo, Claims: w.s, Docs: w.docs, Mail: &mailtest.Recorder{}, From: "receipts@liberation.local",
		Render: receiptpdf.Render}
	for _, qm := range w.queue.sent {
		if err := m.Handle(ctx, msg(t, qm.Type, qm.DedupeID, qm.Payload)); err != nil {
			t.Fatal(err)
		}
	}
	// A receipt written twice (an older rendering): its first version stays in the bucket.
	first := ReceiptObjectKey("u1", w.partRefunded.ID)
	if err := w.docs.Put(ctx, blob.Object{Key: first, ContentType: "application/pdf"}, []byte("%PDF older receipt billed to "+payerEmail)); err != nil {
		t.Fatal(err)
	}
	if err := w.docs.Put(ctx, blob.Object{Key: first, ContentType: "application/pdf"}, w.docs.Bodies()[first][0]); err != nil {
		t.Fatal(err)
	}
	return w
}

// only finds the user's payment of a Checkout Session.
func (w *payEraseWorld) only(t *testing.T, userID, sessionID string) Payment {
	t.Helper()
	page, err := w.repo.ListPayments(context.Background(), userID, 100, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range page.Items {
		if p.CheckoutSessionID == sessionID {
			return p
		}
	}
	t.Fatalf("no payment of %s", sessionID)
	return Payment{}
}

func (w *payEraseWorld) eraser() privacy.Eraser {
	return PersonalDataEraser(privacy.Reader{S: w.s}, w.repo, w.docs, receiptpdf.Render, w.clock)
}

// rows is the table as plain rows, by "PK|SK".
func rows(t *testing.T, s *store.Store) map[string]map[string]any {
	t.Helper()
	out := map[string]map[string]any{}
	for k, it := range privacytest.Items(t, s) {
		out[k] = privacy.Row(it)
	}
	return out
}

func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func isAuditKey(k string) bool { return strings.HasPrefix(k, "AUDIT") }

// invariants are what an erasure must not move: the journal's trial balance, and per payment its
// amount, what is refunded (the Σ of its counted refunds, never more than the amount), pending and
// lost to disputes, and the day counters.
func invariants(t *testing.T, s *store.Store, now time.Time) string {
	t.Helper()
	tb, err := journal.Repo{S: s}.TrialBalance(context.Background(), now.Add(24*time.Hour))
	if err != nil {
		t.Fatalf("trial balance: %v", err)
	}
	for _, c := range tb.Currencies {
		if !c.Balanced {
			t.Fatalf("the journal does not balance in %s", c.Currency)
		}
	}
	type books struct{ Amount, Refunded, Pending, Lost, SumRefunds int64 }
	per := map[string]*books{}
	all := rows(t, s)
	num := func(r map[string]any, a string) int64 {
		n, _ := r[a].(json.Number)
		v, _ := n.Int64()
		return v
	}
	counters := map[string]any{}
	for k, r := range all {
		switch privacy.Str(r, "type") {
		case "payment":
			b := per[privacy.Str(r, "id")]
			if b == nil {
				b = &books{}
				per[privacy.Str(r, "id")] = b
			}
			b.Amount, b.Refunded, b.Pending, b.Lost = num(r, "amountCents"), num(r, "refundedCents"), num(r, "pendingRefundCents"), num(r, "disputeLostCents")
		case "refund":
			if RefundCounts(privacy.Str(r, "status")) {
				b := per[privacy.Str(r, "paymentId")]
				if b == nil {
					b = &books{}
					per[privacy.Str(r, "paymentId")] = b
				}
				b.SumRefunds += num(r, "amountCents")
			}
		}
		if strings.HasPrefix(k, "METRICS") {
			counters[k] = r
		}
	}
	for id, b := range per {
		if b.Refunded != b.SumRefunds || b.Refunded+b.Pending > b.Amount {
			t.Fatalf("payment %s: %+v", id, *b)
		}
	}
	return jsonOf(t, map[string]any{"trialBalance": tb, "payments": per, "counters": counters})
}

// erasedAttrs are the only attributes an erasure may change on a kept record.
var erasedAttrs = map[string]bool{"erasedAs": true, "customerEmail": true, "paymentMethod": true, "receiptKey": true, "version": true}

func TestPaymentsEraser(t *testing.T) {
	ctx := context.Background()
	w := newPayEraseWorld(t, 2)
	before := rows(t, w.s)
	docsBefore := w.docs.Clone()
	inv := invariants(t, w.s, w.clock.Now())
	// Set-up sanity: the subject's address is in their payments and in their PDFs (current and old).
	if !strings.Contains(jsonOf(t, before["USER#u1|PAY#"+w.partRefunded.ID]), payerEmail) ||
		!bytes.Contains(w.docs.Bodies()[ReceiptObjectKey("u1", w.partRefunded.ID)][0], []byte(payerEmail)) ||
		len(w.docs.Versions(ReceiptObjectKey("u1", w.partRefunded.ID))) != 3 {
		t.Fatal("the set-up lacks the person's data")
	}
	if p := before["USER#u1|PAY#"+w.partRefunded.ID]; privacy.Str(p, "paymentMethod") == "" {
		t.Fatalf("the set-up's payment has no card: %v", p)
	}

	changed, holds := privacytest.RunToEnd(t, w.eraser(), w.subj, "")
	// u1's payments but the disputed one (3 + the 2 extra), 2 refunds (part and full), the lost
	// dispute.
	if changed != 5+2+1 {
		t.Fatalf("changed %d, want 8", changed)
	}
	if len(holds) != 1 || holds[0].Reason != privacy.HoldOpenDispute || holds[0].Ref != "dispute:"+w.openDispute ||
		!strings.Contains(holds[0].What, w.disputed.ID) {
		t.Fatalf("holds %+v", holds)
	}
	after := rows(t, w.s)
	if got := invariants(t, w.s, w.clock.Now()); got != inv {
		t.Fatalf("invariants moved:\n%s\n%s", inv, got)
	}

	// Every item but the subject's kept records is as it was; those changed only in the erased
	// attributes, and carry the pseudonym. The disputed payment and its dispute are held as they were.
	heldKeys := map[string]bool{"USER#u1|PAY#" + w.disputed.ID: true, "USER#u1|DISPUTE#" + w.openDispute: true}
	for k, b := range before {
		a, ok := after[k]
		if !ok {
			t.Errorf("%s was deleted", k)
			continue
		}
		subjects := strings.HasPrefix(k, "USER#u1|") && !heldKeys[k] &&
			(strings.Contains(k, "|PAY#") || strings.Contains(k, "|REFUND#") || strings.Contains(k, "|DISPUTE#"))
		if !subjects {
			if jsonOf(t, a) != jsonOf(t, b) && !isAuditKey(k) {
				t.Errorf("%s changed:\n%v\n%v", k, b, a)
			}
			continue
		}
		if privacy.Str(a, "erasedAs") != w.subj.Pseudonym {
			t.Errorf("%s not marked: %v", k, a)
		}
		for attr := range mergeKeys(a, b) {
			if !erasedAttrs[attr] && jsonOf(t, a[attr]) != jsonOf(t, b[attr]) {
				t.Errorf("%s: %s changed from %v to %v", k, attr, b[attr], a[attr])
			}
		}
		if privacy.Str(a, "type") == "payment" {
			// The receipt keeps its key: it was rendered again.
			if privacy.Str(a, "customerEmail") != w.subj.PseudonymEmail() || a["paymentMethod"] != nil ||
				privacy.Str(a, "receiptKey") == "" || a["receiptKey"] != b["receiptKey"] {
				t.Errorf("%s: %v", k, a)
			}
		}
	}
	for k := range after {
		if _, ok := before[k]; !ok && !isAuditKey(k) {
			t.Errorf("new item %s", k)
		}
	}
	// The address is left only on the held payment; the card likewise (of the subject's items).
	for k, a := range after {
		js := jsonOf(t, a)
		if (strings.Contains(js, payerEmail) || (strings.HasPrefix(k, "USER#u1|") && strings.Contains(js, "•••• 4242"))) &&
			k != "USER#u1|PAY#"+w.disputed.ID {
			t.Errorf("%s still holds the person's data: %s", k, js)
		}
	}

	// The bucket: the subject's documents are rendered again, billed to the pseudonym's address
	// without the card, as their only version; the held payment's receipt is as it was, the other
	// user's untouched. No version anywhere holds the address, but the held receipt's.
	held := ReceiptObjectKey("u1", w.disputed.ID)
	if !reflect.DeepEqual(w.docs.Keys(), docsBefore.Keys()) {
		t.Fatalf("documents %v, were %v", w.docs.Keys(), docsBefore.Keys())
	}
	rerendered := 0
	for _, k := range docsBefore.Keys() {
		switch {
		case k == held || strings.HasPrefix(k, "receipts/u2/"):
			if !reflect.DeepEqual(w.docs.Versions(k), docsBefore.Versions(k)) {
				t.Errorf("%s changed", k)
			}
		default:
			vs := w.docs.Versions(k)
			if len(vs) != 1 || vs[0].Marker || !bytes.HasPrefix(vs[0].Body, []byte("%PDF")) ||
				!bytes.Contains(vs[0].Body, []byte(w.subj.PseudonymEmail())) || bytes.Contains(vs[0].Body, []byte("4242")) {
				t.Errorf("%s: %d versions, not the erased rendering", k, len(vs))
			}
			rerendered++
		}
	}
	if rerendered != 5+2 { // the 5 erased payments' receipts and the 2 credit notes
		t.Fatalf("%d documents rendered again", rerendered)
	}
	for k, bodies := range w.docs.Bodies() {
		for _, b := range bodies {
			if bytes.Contains(b, []byte(payerEmail)) && k != held {
				t.Errorf("%s still holds the address", k)
			}
		}
	}

	// Audit: one record per change, by the erasure, naming the pseudonym and ids only.
	var recs []map[string]any
	for k, a := range after {
		if strings.HasPrefix(k, "AUDIT#") && privacy.Str(a, "actor") == privacy.ActorErasure {
			recs = append(recs, a)
		}
	}
	if len(recs) != changed {
		t.Fatalf("%d audit records, want %d", len(recs), changed)
	}
	for _, r := range recs {
		js := jsonOf(t, r)
		if privacy.Str(r, "target") != w.subj.PseudonymTarget() || privacy.Str(r, "requestId") != w.subj.RequestID ||
			strings.Contains(js, `"u1"`) || strings.Contains(js, "USER#u1") || strings.Contains(js, "@") {
			t.Errorf("audit record %s", js)
		}
	}

	// Idempotent: a second run changes nothing, in the table or the bucket, and still holds.
	docsAfter := w.docs.Clone()
	again, holds := privacytest.RunToEnd(t, w.eraser(), w.subj, "")
	if again != 0 || len(holds) != 1 {
		t.Fatalf("second run: changed %d, holds %v", again, holds)
	}
	if final := rows(t, w.s); jsonOf(t, final) != jsonOf(t, after) {
		t.Fatal("the second run changed the table")
	}
	if !reflect.DeepEqual(w.docs.Bodies(), docsAfter.Bodies()) || !reflect.DeepEqual(w.docs.Keys(), docsAfter.Keys()) {
		t.Fatal("the second run changed the bucket")
	}

	// The dispute closes (won): a later run erases what it held, and nothing holds any more.
	dp := &stripe.Dispute{ID: w.openDispute, Amount: w.disputed.AmountCents, Currency: "usd", Charge: &stripe.Charge{ID: w.disputed.ChargeID},
		Reason: stripe.DisputeReasonFraudulent, Status: stripe.DisputeStatusWon, Created: w.clock.Now().Unix()}
	if err := w.disputes.Apply(ctx, dp, stripe.EventTypeChargeDisputeClosed, Source{EventID: "evt_won"}); err != nil {
		t.Fatal(err)
	}
	inv = invariants(t, w.s, w.clock.Now())
	changed, holds = privacytest.RunToEnd(t, w.eraser(), w.subj, "")
	if changed != 2 || len(holds) != 0 {
		t.Fatalf("after the dispute closed: changed %d, holds %v", changed, holds)
	}
	if got := invariants(t, w.s, w.clock.Now()); got != inv {
		t.Fatalf("invariants moved:\n%s\n%s", inv, got)
	}
	for k, a := range rows(t, w.s) {
		if strings.Contains(jsonOf(t, a), payerEmail) {
			t.Errorf("%s still holds the address", k)
		}
	}
	if vs := w.docs.Versions(held); len(vs) != 1 || bytes.Contains(vs[0].Body, []byte(payerEmail)) {
		t.Fatalf("the held receipt: %d versions, or still the address", len(vs))
	}
}

func mergeKeys(a, b map[string]any) map[string]bool {
	out := map[string]bool{}
	for k := range a {
		out[k] = true
	}
	for k := range b {
		out[k] = true
	}
	return out
}

// copyTable is a fresh table holding exactly s's items.
func copyTable(t *testing.T, s *store.Store) *store.Store {
	t.Helper()
	c := newTestStore(t, s.Clock)
	for _, it := range privacytest.Items(t, s) {
		if _, err := c.DB.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: &c.Table, Item: it}); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

// An erasure that fails midway — the table unreachable for one record's write in the second step,
// the bucket for one document — resumes from the last cursor the host saved and ends exactly as an
// uninterrupted erasure of the same table and bucket does.
func TestPaymentsEraserResumes(t *testing.T) {
	w := newPayEraseWorld(t, 110) // more than a step's page of payments: the erasure takes steps
	refStore, refDocs := copyTable(t, w.s), w.docs.Clone()
	refChanged, _ := privacytest.RunToEnd(t, PersonalDataEraser(privacy.Reader{S: refStore}, Repo{S: refStore}, refDocs, receiptpdf.Render, w.clock), w.subj, "")

	// The table fails the 105th write (a payment of the second step); the bucket the purge of the
	// full refund's credit note once.
	w.s.DB = &storetest.FailingWrites{DynamoAPI: w.s.DB, FailAt: 105}
	creditNote := CreditNoteObjectKey("u1", w.purchase.ID, "")
	failed := false
	w.docs.Fail = func(op, key string) error {
		if op == "purge" && strings.HasPrefix(key, strings.TrimSuffix(creditNote, ".pdf")) && !failed {
			failed = true
			return errors.New("injected: S3 unreachable")
		}
		return nil
	}
	er := w.eraser()
	cursor, changed, failures := "", 0, 0
	for steps := 0; steps < 100; steps++ {
		st, err := er(context.Background(), w.subj, cursor)
		if err != nil {
			failures++
			continue // the host retries the step from the cursor it saved
		}
		changed += st.Changed
		if st.Next == "" {
			break
		}
		if st.Next == cursor {
			t.Fatal("no progress")
		}
		cursor = st.Next
	}
	if failures != 2 || !failed {
		t.Fatalf("%d failed steps, want the table's and the bucket's", failures)
	}
	// Records erased by a step that then failed count again in none: the resumed step finds them
	// erased. So the changes add up to at most the uninterrupted run's.
	if changed > refChanged || changed == 0 {
		t.Fatalf("changed %d (uninterrupted %d)", changed, refChanged)
	}
	got, want := rows(t, w.s), rows(t, refStore)
	for k, v := range want {
		if !isAuditKey(k) && jsonOf(t, got[k]) != jsonOf(t, v) {
			t.Errorf("%s differs:\n got %v\nwant %v", k, got[k], v)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok && !isAuditKey(k) {
			t.Errorf("extra item %s", k)
		}
	}
	if !reflect.DeepEqual(w.docs.Keys(), refDocs.Keys()) || !reflect.DeepEqual(w.docs.Bodies(), refDocs.Bodies()) {
		t.Fatalf("the bucket differs:\n%v\n%v", w.docs.Keys(), refDocs.Keys())
	}
	count := func(rs map[string]map[string]any) int {
		n := 0
		for k, r := range rs {
			if strings.HasPrefix(k, "AUDIT#") && privacy.Str(r, "actor") == privacy.ActorErasure {
				n++
			}
		}
		return n
	}
	if count(got) != count(want) || count(want) != refChanged {
		t.Fatalf("audit records %d, uninterrupted %d (changed %d)", count(got), count(want), refChanged)
	}
	keys := w.docs.Keys()
	sort.Strings(keys)
	for _, k := range keys {
		if vs := w.docs.Versions(k); strings.HasPrefix(k, "receipts/u1/") && k != ReceiptObjectKey("u1", w.disputed.ID) &&
			(len(vs) != 1 || bytes.Contains(vs[0].Body, []byte(payerEmail))) {
			t.Errorf("%s: %d versions, or still the address", k, len(vs))
		}
	}
}

// The hook (receiptsender.ErasePersonalDataHooks passes the PDF renderer) registers payments' eraser when the host's bucket deletes old versions, and refuses a
// host without a bucket, or with one that cannot.
func TestErasePersonalDataHooks(t *testing.T) {
	rt, err := platform.New(context.Background(), manifest.Function{Name: manifest.ErasePersonalData}, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	var r privacy.Registry
	hooks := ErasureHooks(receiptpdf.Render)
	if err := hooks(rt, &r); err == nil {
		t.Fatal("registered without a bucket")
	}
	rt.Provide(platform.CapBlobs, blob.Store(plainStore{}))
	if err := hooks(rt, &r); err == nil || !strings.Contains(err.Error(), "old versions") {
		t.Fatalf("a bucket without version purges: %v", err)
	}
	rt.Provide(platform.CapBlobs, blob.Store(blobtest.New()))
	if err := hooks(rt, &r); err != nil {
		t.Fatal(err)
	}
	if _, ok := r.Eraser("payments"); !ok || len(r.EraseAreas()) != 1 {
		t.Fatalf("areas %v", r.EraseAreas())
	}
}

// plainStore is a blob.Store that neither deletes nor purges.
type plainStore struct{ blob.Store }

// racingLedger lets another writer change a payment between the eraser's read and its write.
type racingLedger struct {
	ErasureLedger
	race  func(p Payment)
	calls map[string]int
}

func (l *racingLedger) ErasePayment(ctx context.Context, p Payment, e Erasure) error {
	l.calls[p.ID]++
	if l.calls[p.ID] == 1 {
		l.race(p)
	}
	return l.ErasureLedger.ErasePayment(ctx, p, e)
}

// A refund booked while the eraser holds a payment it read: the eraser's write, conditioned on the
// version read, fails and is done again over the new version, so the refund is not lost (the
// payment counts it) and the new refund is erased as well.
func TestPaymentsEraserConcurrentRefund(t *testing.T) {
	ctx := context.Background()
	w := newPayEraseWorld(t, 0)
	l := &racingLedger{ErasureLedger: w.repo, calls: map[string]int{}}
	l.race = func(p Payment) {
		if p.ID != w.partRefunded.ID {
			return
		}
		w.stripe.dashboardRefund(p.ChargeID, 200)
		if err := w.refunds.ChargeRefunded(ctx, ChargeRef{ChargeID: p.ChargeID, AmountRefundedCents: 500},
			Source{EventID: "evt_race"}); err != nil {
			t.Fatal(err)
		}
	}
	changed, _ := privacytest.RunToEnd(t, PersonalDataEraser(privacy.Reader{S: w.s}, l, w.docs, receiptpdf.Render, w.clock), w.subj, "")
	if l.calls[w.partRefunded.ID] != 2 {
		t.Fatalf("%d writes of the raced payment, want the lost one and its retry", l.calls[w.partRefunded.ID])
	}
	p, err := w.repo.GetPayment(ctx, "u1", w.partRefunded.ID)
	if err != nil || p.RefundedCents != 500 || p.ErasedAs != w.subj.Pseudonym || p.CustomerEmail != w.subj.PseudonymEmail() {
		t.Fatalf("payment %+v %v", p, err)
	}
	refs, err := w.repo.Refunds(ctx, "u1", p.ID)
	if err != nil || len(refs) != 2 {
		t.Fatalf("refunds %+v %v", refs, err)
	}
	for _, r := range refs {
		if r.ErasedAs != w.subj.Pseudonym {
			t.Fatalf("refund %+v not erased", r)
		}
	}
	if changed != 3+3+1 { // 3 payments (not the disputed one), 3 refunds, the lost dispute
		t.Fatalf("changed %d", changed)
	}
	invariants(t, w.s, w.clock.Now()) // the books still hold (it fails the test otherwise)
}

// A refund booked after the erasure (Stripe's dashboard, a late event) rewrites the whole payment:
// it keeps erasedAs and the pseudonym's address (ErasedAs is a field of the payment).
func TestErasedPaymentStaysErased(t *testing.T) {
	ctx := context.Background()
	w := newPayEraseWorld(t, 0)
	privacytest.RunToEnd(t, w.eraser(), w.subj, "")
	p := w.partRefunded
	w.stripe.dashboardRefund(p.ChargeID, 100)
	if err := w.refunds.ChargeRefunded(ctx, ChargeRef{ChargeID: p.ChargeID, AmountRefundedCents: 400}, Source{EventID: "evt_late"}); err != nil {
		t.Fatal(err)
	}
	got, err := w.repo.GetPayment(ctx, "u1", p.ID)
	if err != nil || got.RefundedCents != 400 || got.ErasedAs != w.subj.Pseudonym || got.CustomerEmail != w.subj.PseudonymEmail() {
		t.Fatalf("payment after a late refund: %+v %v", got, err)
	}
}

// After the erasure, a refund notice (a late refund) or a dunning e-mail for the person is not sent:
// their records name the pseudonym's ".invalid" address. The message is acknowledged once.
func TestNoMailToAnErasedPerson(t *testing.T) {
	ctx := logging.With(context.Background(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	w := newPayEraseWorld(t, 0)
	privacytest.RunToEnd(t, w.eraser(), w.subj, "")
	// The billing profile is erased too (billing's eraser): the address the mailer falls back on.
	if _, err := w.s.DB.PutItem(ctx, &dynamodb.PutItemInput{TableName: &w.s.Table, Item: map[string]types.AttributeValue{
		"PK": store.S(store.UserKey("u1").PK), "SK": store.S(store.UserKey("u1").SK), "type": store.S("user"),
		"userId": store.S("u1"), "email": store.S(w.subj.PseudonymEmail())}}); err != nil {
		t.Fatal(err)
	}
	sent := &mailtest.Recorder{}
	m := &Mailer{Source: w.repo, Claims: w.s, Docs: w.docs, Mail: sent, From: "receipts@liberation.local", Render: receiptpdf.Render}
	p := w.partRefunded
	dash := w.stripe.dashboardRefund(p.ChargeID, 100)
	if err := w.refunds.ChargeRefunded(ctx, ChargeRef{ChargeID: p.ChargeID, AmountRefundedCents: 400}, Source{EventID: "evt_late"}); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		for _, mm := range []queueMsg{
			{MsgRefundReceipt, RefundDedupeID(dash.ID), ReceiptJob{UserID: "u1", PaymentID: p.ID, RefundID: dash.ID}},
			{MsgDunning, DunningDedupeID("in_late", 1), DunningJob{UserID: "u1", InvoiceID: "in_late", Attempt: 1, AmountCents: 999, Currency: "usd"}},
		} {
			if err := m.Handle(ctx, msg(t, mm.typ, mm.dedupe, mm.job)); err != nil {
				t.Fatalf("%s: %v", mm.typ, err)
			}
		}
	}
	if n := len(sent.Sent()); n != 0 {
		t.Fatalf("%d e-mails sent to an erased person", n)
	}
	// Another user's mail still goes out.
	if err := m.Handle(ctx, msg(t, MsgDunning, DunningDedupeID("in_u2", 1), DunningJob{UserID: "u2", InvoiceID: "in_u2", Attempt: 1,
		AmountCents: 999, Currency: "usd", Email: "grace@example.com"})); err != nil || len(sent.Sent()) != 1 {
		t.Fatalf("u2's e-mail: %v, %d sent", err, len(sent.Sent()))
	}
}

type queueMsg struct {
	typ, dedupe string
	job         any
}

// A refund whose payment is missing (a broken table: they are written together) fails the step,
// naming it, and changes nothing: its credit note cannot be rendered without the payment.
func TestPaymentsEraserRefundWithoutPayment(t *testing.T) {
	w := newPayEraseWorld(t, 0)
	k := store.RefundKey("u1", "pay_gone", "re_orphan")
	if _, err := w.s.DB.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: &w.s.Table, Item: map[string]types.AttributeValue{
		"PK": store.S(k.PK), "SK": store.S(k.SK), "type": store.S("refund"), "id": store.S("re_orphan"), "paymentId": store.S("pay_gone"),
		"userId": store.S("u1"), "amountCents": store.N(100), "currency": store.S("usd"), "status": store.S(RefundSucceeded)}}); err != nil {
		t.Fatal(err)
	}
	var err error
	cursor := ""
	for i := 0; i < 10 && err == nil; i++ {
		var st privacy.Step
		st, err = w.eraser()(context.Background(), w.subj, cursor)
		if st.Next == "" && err == nil {
			t.Fatal("the erasure ended over a refund without its payment")
		}
		cursor = st.Next
	}
	if err == nil || !strings.Contains(err.Error(), "re_orphan") {
		t.Fatalf("err %v", err)
	}
	if r, _ := w.repo.Refund(context.Background(), "u1", "pay_gone", "re_orphan"); r.ErasedAs != "" {
		t.Fatal("the orphan refund was marked")
	}
}
