package marketplace

// The marketplace's erasure (privacy_erase.go) on the table (in process; moto with the integration
// tag, decision 0073): the items are made by the area's own code paths — courses, sales booked and
// released, reviews, payouts, disputes, an open checkout — so what is checked is what production
// holds.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/liberation/monetization/shared/audit"
	"github.com/liberation/monetization/shared/auth"
	"github.com/liberation/monetization/shared/books/journal"
	"github.com/liberation/monetization/shared/marketplace/catalog"
	"github.com/liberation/monetization/shared/marketplace/ledger"
	"github.com/liberation/monetization/shared/privacy"
	"github.com/liberation/monetization/shared/privacy/privacytest"
	"github.com/liberation/monetization/shared/store"
	"github.com/liberation/monetization/shared/store/storetest"
)

const (
	subj      = "alice"
	subjEmail = "alice.person@example.com"
	subjName  = "Alice Quimby"
	subjText  = "Alice wrote this about the course"
)

var subject = privacy.ErasureSubject{UserID: subj, Emails: []string{subjEmail}, Pseudonym: "anon_01JERASEDALICE0000000000", RequestID: "era_1"}

// onTable is a world whose books and courses are the table.
func onTable(t *testing.T) (*world, *store.Store) {
	w := newWorld(t)
	s := newTestStore(t, w.clk)
	w.d.Store, w.d.Books, w.d.Courses = s, &dynamoBooks{s: s}, NewCourses(s)
	return w, s
}

func (w *world) mkCourse(id, instructor, name, email string, price int64) {
	w.t.Helper()
	now := w.clk.Now().UTC()
	c := Course{ID: id, InstructorID: instructor, InstructorName: name, Title: "Course " + id, Description: "All about " + id,
		Category: "development", Level: "beginner", Language: "en", PriceCents: price, Currency: Currency,
		Status: catalog.StatusPublished, CreatedAt: now, UpdatedAt: now, PublishedAt: &now, Version: 1}
	if err := w.d.Courses.CreateCourse(context.Background(), c, auth.Principal{UserID: instructor, Email: email},
		audit.Entry{Actor: instructor, Action: "marketplace.course_created", Target: "course:" + id}); err != nil {
		w.t.Fatal(err)
	}
}

func (w *world) connectOnTable(instructor, email string) {
	w.t.Helper()
	ctx := context.Background()
	acct := "acct_" + instructor
	if _, _, err := w.d.Books.SaveAccount(ctx, instructor, acct, email, w.clk.Now()); err != nil {
		w.t.Fatal(err)
	}
	if err := w.d.Books.RecordAccount(ctx, AccountState{InstructorID: instructor, AccountID: acct, PayoutsEnabled: true,
		EventAt: w.clk.Now().Unix(), At: w.clk.Now()}, false, audit.Entry{Actor: "stripe", Action: "marketplace.account_updated",
		Target: "instructor:" + instructor}); err != nil {
		w.t.Fatal(err)
	}
	w.stripe.accounts[acct] = true
}

func (w *world) sell(session, buyer, course string, amount int64) Purchase {
	w.t.Helper()
	p := w.paid(session, buyer, course, amount)
	ctx := context.Background()
	if err := RecordSale(ctx, w.d, p, "evt_"+session); err != nil {
		w.t.Fatal(err)
	}
	if err := settleBooking(ctx, w.d, p.SessionID, "evt_"+session); err != nil {
		w.t.Fatal(err)
	}
	return p
}

func (w *world) review(course, user, author string, rating int, text string) {
	w.t.Helper()
	if _, _, err := putReview(context.Background(), w.d, course, user, author, rating, text); err != nil {
		w.t.Fatal(err)
	}
}

func (w *world) releaseAndPay(instructors ...string) {
	w.t.Helper()
	ctx := context.Background()
	w.clk.Advance(RefundWindow + time.Hour)
	if _, err := RunRelease(ctx, w.d); err != nil {
		w.t.Fatal(err)
	}
	for _, ins := range instructors {
		if err := ProcessPayout(ctx, w.d, ins, Period(w.clk.Now())); err != nil {
			w.t.Fatal(err)
		}
	}
}

// marketWorld is the subject as an instructor (two courses, sales to others, a paid payout) and as a
// learner (a course of bob's bought and reviewed, an open checkout for another), beside bob (an
// instructor) and two learners who review both instructors' courses.
func marketWorld(t *testing.T) (*world, *store.Store) {
	w, s := onTable(t)
	ctx := context.Background()
	w.mkCourse("crs_a1", subj, subjName, subjEmail, 4999)
	w.mkCourse("crs_a2", subj, subjName, subjEmail, 2999)
	w.mkCourse("crs_b1", "bob", "Bob Teacher", "bob@example.com", 3999)
	w.mkCourse("crs_b2", "bob", "Bob Teacher", "bob@example.com", 1999)
	w.connectOnTable(subj, subjEmail)
	w.connectOnTable("bob", "bob@example.com")
	w.sell("cs_1", "lee", "crs_a1", 4999)
	w.sell("cs_2", "kim", "crs_a1", 4999)
	w.sell("cs_3", "kim", "crs_a2", 2999)
	w.sell("cs_4", subj, "crs_b1", 3999)
	w.sell("cs_5", "lee", "crs_b1", 3999)
	w.sell("cs_6", "kim", "crs_b2", 1999)
	w.review("crs_a1", "lee", "Lee", 5, "clear and kind")
	w.review("crs_a1", "kim", "Kim", 3, "a bit fast")
	w.review("crs_b1", subj, subjName, 4, subjText)
	w.review("crs_b1", "lee", "Lee", 2, "not for me")
	w.releaseAndPay(subj, "bob")
	// A sale after the payout (pending), a partial refund of another (a refund ledger entry).
	w.sell("cs_7", "lee", "crs_a2", 2999)
	w.stripe.refunds["pi_7"] = []StripeRefund{{ID: "re_1", AmountCents: 1000, Status: "succeeded", Created: w.clk.Now()}}
	if err := w.refundEvent("pi_7", "evt_re_1", 1000); err != nil {
		t.Fatal(err)
	}
	// The subject's open checkout of bob's second course.
	if err := w.d.Books.SaveCheckout(ctx, OpenCheckout{UserID: subj, CourseID: "crs_b2", SessionID: "cs_open", URL: "https://checkout.stripe.com/c/pay/cs_open",
		PriceCents: 1999, CreatedAt: w.clk.Now(), ExpiresAt: w.clk.Now().Add(time.Hour)}, ""); err != nil {
		t.Fatal(err)
	}
	return w, s
}

// ----- reading the table -----

// decodeRow reads an item of table() back, numbers as json.Number (as privacy.Row gives them).
func decodeRow(v string) map[string]any {
	dec := json.NewDecoder(strings.NewReader(v))
	dec.UseNumber()
	var row map[string]any
	_ = dec.Decode(&row)
	return row
}

func isAudit(key string) bool { return strings.HasPrefix(key, "AUDIT") }

// invariants are the marketplace's sums (CheckInvariants: every instructor's balance against Σ its
// ledger entries, every sale's split, every listing's rating counters against its published
// reviews) and the journal's trial balance.
type invariants struct {
	Balances map[string]ledger.Buckets
	Splits   map[string][2]int64 // sale → (Σ shares + platform, amount)
	Ratings  map[string][7]int64 // course → count, sum, r1..r5 (from the listing)
	Trial    journal.TrialBalance
}

func measure(t *testing.T, w *world, s *store.Store) invariants {
	t.Helper()
	ctx := context.Background()
	sums, err := CheckInvariants(slices.Collect(maps.Values(privacytest.Items(t, s))))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range sums.Problems {
		t.Error(p)
	}
	inv := invariants{Balances: sums.Balances, Splits: sums.Splits, Ratings: sums.Ratings}
	tb, err := journal.Repo{S: s}.TrialBalance(ctx, w.clk.Now().Add(24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(tb.Currencies) == 0 || tb.Currencies[0].Debits == 0 {
		t.Errorf("no journal to balance: %+v", tb)
	}
	for _, cb := range tb.Currencies {
		if !cb.Balanced {
			t.Errorf("trial balance of %s: dr %d cr %d", cb.Currency, cb.Debits, cb.Credits)
		}
	}
	inv.Trial = tb
	return inv
}

func eraserOn(w *world, s *store.Store) privacy.Eraser {
	return PersonalDataEraser(privacy.Reader{S: s}, NewCourses(s), w.clk)
}

// subjectsItem reports the items the erasure may change: the subject's partitions, their reviews,
// their courses and those courses' listings (the instructor name), and the audit trail.
func subjectsItem(key string, ownCourses map[string]bool) bool {
	pk, sk, _ := strings.Cut(key, "|")
	switch {
	case isAudit(key), pk == store.UserPK(subj), pk == store.InstructorPK(subj), sk == "REVIEW#"+subj:
		return true
	case strings.HasPrefix(pk, "COURSE#") && sk == "COURSE":
		return ownCourses[strings.TrimPrefix(pk, "COURSE#")]
	case strings.HasPrefix(pk, "CATALOG#"):
		return ownCourses[sk]
	}
	return false
}

// Erasing alice — an instructor with sales, a payout and reviewed courses, and a learner with a
// review and an open checkout — keeps every balance equal to its ledger, every split, every rating
// aggregate and the journal's trial balance; leaves every other person's items byte for byte; and
// leaves no trace of her address, name or review text in the table (the audit trail included). A
// second run changes nothing.
func TestEraseMarketplaceKeepsInvariantsAndOthers(t *testing.T) {
	w, s := marketWorld(t)
	before := privacytest.Table(t, s)
	invBefore := measure(t, w, s)
	if len(invBefore.Balances) != 2 || len(invBefore.Splits) != 7 || invBefore.Ratings["crs_b1"][0] != 2 {
		t.Fatalf("the world is not what the test means: %+v", invBefore)
	}
	found := false
	for _, v := range before {
		found = found || strings.Contains(v, subjEmail) && strings.Contains(v, "connectAccountId")
	}
	if !found {
		t.Fatal("the instructor profile does not hold the address before the erasure")
	}

	w.clk.Advance(time.Hour)
	changed, holds := privacytest.RunToEnd(t, eraserOn(w, s), subject, "")
	if len(holds) != 0 {
		t.Fatalf("holds %+v", holds)
	}
	after := privacytest.Table(t, s)
	invAfter := measure(t, w, s)
	if !reflect.DeepEqual(invBefore, invAfter) {
		t.Fatalf("invariants moved:\nbefore %+v\nafter  %+v", invBefore, invAfter)
	}

	own := map[string]bool{"crs_a1": true, "crs_a2": true}
	for k, v := range before {
		if !subjectsItem(k, own) && after[k] != v {
			t.Errorf("another person's item changed: %s\nbefore %s\nafter  %s", k, v, after[k])
		}
	}
	for k := range after {
		if _, ok := before[k]; !ok && !isAudit(k) {
			t.Errorf("new item %s", k)
		}
	}
	for k, v := range after {
		for _, never := range []string{subjEmail, subjName, subjText, "checkout.stripe.com/c/pay/cs_open"} {
			if strings.Contains(v, never) {
				t.Errorf("%s still holds %q: %s", k, never, v)
			}
		}
	}

	// What each kind of record became.
	want := map[string]int{}
	tagged := map[string]int{}
	for k, v := range after {
		row := decodeRow(v)
		typ := privacy.Str(row, "type")
		if subjectsItem(k, own) && !isAudit(k) && !strings.HasPrefix(k, "CATALOG#") {
			want[typ]++
			if privacy.Str(row, "erasedAs") == subject.Pseudonym {
				tagged[typ]++
			}
		}
		switch {
		case typ == "review" && privacy.Str(row, "userId") == subj:
			if privacy.Str(row, "text") != privacy.ErasedText || privacy.Str(row, "authorName") != subject.Pseudonym || num(row, "rating") != 4 {
				t.Errorf("review after erasure: %s", v)
			}
		case typ == "instructor" && privacy.Str(row, "id") == subj:
			if privacy.Str(row, "email") != subject.PseudonymEmail() || privacy.Str(row, "connectAccountId") != "acct_"+subj {
				t.Errorf("profile after erasure: %s", v)
			}
		case typ == "course" && own[privacy.Str(row, "id")], typ == "listing" && own[privacy.Str(row, "SK")]:
			if privacy.Str(row, "instructorName") != subject.Pseudonym {
				t.Errorf("course after erasure: %s", v)
			}
		}
	}
	if _, ok := after[store.OpenCheckoutKey(subj, "crs_b2").String()]; ok {
		t.Error("the open checkout is still there")
	}
	for typ, n := range want {
		if tagged[typ] != n {
			t.Errorf("%s: %d of the subject's %d items carry erasedAs", typ, tagged[typ], n)
		}
	}
	if want["sale"] != 4 || want["ledger"] == 0 || want["payout"] != 1 || want["enrollment"] != 1 || want["review"] != 1 || want["course"] != 2 {
		t.Errorf("the subject's kept items: %v", want)
	}
	// 1 enrolment with its review (one row) + 1 checkout + 2 courses + 4 sales + ledger + 1 payout +
	// balance + profile.
	if wantChanged := 1 + 1 + 2 + 4 + want["ledger"] + 1 + 1 + 1; changed != wantChanged {
		t.Errorf("changed %d records, want %d", changed, wantChanged)
	}
	audits := 0
	for k, v := range after {
		if _, ok := before[k]; ok || !strings.HasPrefix(k, "AUDIT#") {
			continue
		}
		audits++
		for _, never := range []string{subj + `"`, "alice"} {
			if strings.Contains(v, never) {
				t.Errorf("audit record names the person: %s", v)
			}
		}
		if !strings.Contains(v, privacy.ActorErasure) || !strings.Contains(v, subject.PseudonymTarget()) || !strings.Contains(v, subject.RequestID) {
			t.Errorf("audit record of the erasure: %s", v)
		}
	}
	if audits != 3 { // the profile and the two courses
		t.Errorf("%d audit records written, want 3", audits)
	}

	// A second run finds everything done.
	again, holds := privacytest.RunToEnd(t, eraserOn(w, s), subject, "")
	if again != 0 || len(holds) != 0 {
		t.Fatalf("second run changed %d records, holds %v", again, holds)
	}
	if final := privacytest.Table(t, s); !reflect.DeepEqual(final, after) {
		t.Fatal("the second run changed the table")
	}
}

// ----- interruption -----

// copyTable puts every item of from into a fresh table: the same world twice.
func copyTable(t *testing.T, w *world, from *store.Store) *store.Store {
	t.Helper()
	to := newTestStore(t, w.clk)
	for _, it := range privacytest.Items(t, from) {
		if _, err := to.DB.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: &to.Table, Item: it}); err != nil {
			t.Fatal(err)
		}
	}
	return to
}

// An erasure that dies on a write — the review, the checkout, a course (a transaction with its
// audit record), a sale, a ledger entry, the profile — and is resumed from the last cursor it
// returned ends exactly where an uninterrupted one does: every item but the audit records' random
// ids and chain, which must be the same actions.
func TestEraseMarketplaceResumesAfterAnInterruption(t *testing.T) {
	w, a := marketWorld(t)
	copies := map[int]*store.Store{}
	failPoints := []int{1, 3, 4, 6, 10, 20}
	for _, n := range failPoints {
		copies[n] = copyTable(t, w, a)
	}
	w.clk.Advance(time.Hour)
	if n, _ := privacytest.RunToEnd(t, eraserOn(w, a), subject, ""); n == 0 {
		t.Fatal("nothing erased")
	}
	ta := privacytest.Table(t, a)
	actions := func(tab map[string]string) []string {
		var out []string
		for k, v := range tab {
			if strings.HasPrefix(k, "AUDIT#") && strings.Contains(v, privacy.ActorErasure) {
				var row map[string]any
				_ = json.Unmarshal([]byte(v), &row)
				d, _ := json.Marshal(row["details"])
				out = append(out, privacy.Str(row, "action")+" "+string(d))
			}
		}
		sort.Strings(out)
		return out
	}
	for _, failAt := range failPoints {
		b := copies[failAt]
		fdb := &storetest.FailingWrites{DynamoAPI: b.DB, FailAt: int64(failAt)}
		fs := *b
		fs.DB = fdb
		er := eraserOn(w, &fs)
		cursor, steps, failures := "", 0, 0
		for {
			steps++
			if steps > 1000 {
				t.Fatal("never ends")
			}
			st, err := er(context.Background(), subject, cursor)
			if err != nil {
				if !errors.Is(err, storetest.ErrInjected) {
					t.Fatalf("write %d: step %d: %v", failAt, steps, err)
				}
				failures++
				continue // the host resumes from the last checkpoint: the same cursor
			}
			if st.Next == "" {
				break
			}
			cursor = st.Next
		}
		if failures != 1 || fdb.Failed() != 1 {
			t.Fatalf("write %d: %d failures, %d injected", failAt, failures, fdb.Failed())
		}
		tb := privacytest.Table(t, b)
		if aa, ab := actions(ta), actions(tb); !reflect.DeepEqual(aa, ab) || len(aa) != 3 {
			t.Errorf("write %d: audit records: uninterrupted %v, interrupted %v", failAt, aa, ab)
		}
		for k, v := range ta {
			if !isAudit(k) && tb[k] != v {
				t.Errorf("write %d: %s differs:\nuninterrupted %s\ninterrupted   %s", failAt, k, v, tb[k])
			}
		}
		for k := range tb {
			if _, ok := ta[k]; !ok && !isAudit(k) {
				t.Errorf("write %d: %s only in the interrupted run", failAt, k)
			}
		}
	}
}

// ----- holds -----

func holdReasons(hs []privacy.Hold) map[string]int {
	out := map[string]int{}
	for _, h := range hs {
		out[h.Reason]++
	}
	return out
}

// A payout in flight, an open dispute and the negative balance the dispute leaves each keep the
// instructor profile as it is (one Hold per cause) and the records concerned untouched, while the
// rest — her review as a learner, her courses, her other sales — is erased. Once the transfer is
// known paid and the dispute won, a new run erases what was held.
func TestEraseMarketplaceHolds(t *testing.T) {
	w, s := onTable(t)
	ctx := context.Background()
	w.mkCourse("crs_a1", subj, subjName, subjEmail, 9999)
	w.mkCourse("crs_b1", "bob", "Bob Teacher", "bob@example.com", 3999)
	w.connectOnTable(subj, subjEmail)
	w.sell("cs_1", "lee", "crs_a1", 9999)
	w.sell("cs_2", "kim", "crs_a1", 9999)
	w.sell("cs_3", subj, "crs_b1", 3999)
	w.review("crs_b1", subj, subjName, 4, subjText)
	w.clk.Advance(RefundWindow + time.Hour)
	if _, err := RunRelease(ctx, w.d); err != nil {
		t.Fatal(err)
	}
	w.stripe.loseTransfer = true // the transfer is made, its answer lost: the payout stays transferring
	period := Period(w.clk.Now())
	if err := ProcessPayout(ctx, w.d, subj, period); err == nil {
		t.Fatal("a lost transfer answer must fail the payout")
	}
	dp := StripeDispute{ID: "dp_1", Status: "needs_response", AmountCents: 9999}
	if err := w.disputeEvent("pi_2", "evt_dp_1", dp); err != nil {
		t.Fatal(err)
	}
	bal, err := w.d.Books.Balance(ctx, subj)
	if err != nil || bal.Available >= 0 {
		t.Fatalf("the dispute after the payout's reservation should leave a negative balance: %+v %v", bal.Buckets, err)
	}
	inv := measure(t, w, s)
	profBefore := privacytest.Table(t, s)[store.InstructorKey(subj).String()]

	er := eraserOn(w, s)
	_, holds := privacytest.RunToEnd(t, er, subject, "")
	if got := holdReasons(holds); got[privacy.HoldOpenPayout] != 1 || got[privacy.HoldOpenDispute] != 1 || got[privacy.HoldNegativeBalance] != 1 || len(holds) != 3 {
		t.Fatalf("holds %+v", holds)
	}
	for _, h := range holds {
		if h.Ref == "" || h.What == "" || strings.Contains(h.Ref+h.What, subj) {
			t.Errorf("hold %+v", h)
		}
	}
	tab := privacytest.Table(t, s)
	if tab[store.InstructorKey(subj).String()] != profBefore {
		t.Error("the held profile changed")
	}
	rowOf := func(k store.Key) map[string]any {
		var row map[string]any
		_ = json.Unmarshal([]byte(tab[k.String()]), &row)
		return row
	}
	disputed, _ := w.d.Books.SaleOfCharge(ctx, "", "pi_2")
	other, _ := w.d.Books.SaleOfCharge(ctx, "", "pi_1")
	if privacy.Str(rowOf(store.SaleKey(subj, disputed.ID)), "erasedAs") != "" {
		t.Error("the disputed sale was tagged")
	}
	if privacy.Str(rowOf(store.SaleKey(subj, other.ID)), "erasedAs") != subject.Pseudonym {
		t.Error("the undisputed sale was not tagged")
	}
	if privacy.Str(rowOf(store.PayoutKey(subj, period)), "erasedAs") != "" || privacy.Str(rowOf(store.InstructorBalanceKey(subj)), "erasedAs") != "" {
		t.Error("the payout in flight or the negative balance was tagged")
	}
	if rv := rowOf(store.CourseReviewKey("crs_b1", subj)); privacy.Str(rv, "text") != privacy.ErasedText {
		t.Errorf("the learner side must be erased whatever holds the instructor side: %v", rv)
	}
	if c := rowOf(store.CourseKey("crs_a1")); privacy.Str(c, "instructorName") != subject.Pseudonym {
		t.Errorf("course not erased: %v", c)
	}
	if again := measure(t, w, s); !reflect.DeepEqual(inv, again) {
		t.Fatalf("invariants moved under holds")
	}

	// The holds end: the transfer is found paid, the dispute is won.
	if err := ProcessPayout(ctx, w.d, subj, period); err != nil {
		t.Fatal(err)
	}
	dp.Status = ledger.DisputeWon
	if err := w.disputeEvent("pi_2", "evt_dp_2", dp); err != nil {
		t.Fatal(err)
	}
	if bal, _ := w.d.Books.Balance(ctx, subj); bal.Available < 0 || bal.Pending < 0 || bal.Held < 0 {
		t.Fatalf("balance still negative: %+v", bal.Buckets)
	}
	// Left to erase: the disputed sale, the payout, the balance, the profile and the ledger entries
	// written since (the dispute won).
	untagged := 0
	for k, v := range privacytest.Table(t, s) {
		if strings.HasPrefix(k, store.InstructorPK(subj)+"|") && !strings.Contains(v, subject.Pseudonym) {
			untagged++
		}
	}
	changed, holds := privacytest.RunToEnd(t, er, subject, "")
	if len(holds) != 0 || untagged < 5 || changed != untagged {
		t.Fatalf("after the holds: changed %d of %d, holds %+v", changed, untagged, holds)
	}
	for k, v := range privacytest.Table(t, s) {
		if strings.Contains(v, subjEmail) || strings.Contains(v, subjName) {
			t.Errorf("%s still names her: %s", k, v)
		}
		if strings.HasPrefix(k, store.InstructorPK(subj)+"|") && !strings.Contains(v, `"erasedAs":"`+subject.Pseudonym) {
			t.Errorf("%s not tagged: %s", k, v)
		}
	}
	measure(t, w, s)

	// A dispute opened after the erasure: the sale's own whole-item write keeps erasedAs, and a new
	// run (the profile erased already) still reports the hold.
	if err := w.disputeEvent("pi_1", "evt_dp_3", StripeDispute{ID: "dp_2", Status: "needs_response", AmountCents: 9999}); err != nil {
		t.Fatal(err)
	}
	sl, err := w.d.Books.Sale(ctx, subj, other.ID)
	if err != nil || sl.Status != SaleDisputed || sl.ErasedAs != subject.Pseudonym {
		t.Fatalf("the sale after a later dispute: %+v %v", sl, err)
	}
	// The dispute holds the share back (the balance goes negative: a second hold); its ledger entry
	// is the one record to tag.
	changed, holds = privacytest.RunToEnd(t, er, subject, "")
	if got := holdReasons(holds); changed != 1 || len(holds) != 2 || got[privacy.HoldOpenDispute] != 1 || got[privacy.HoldNegativeBalance] != 1 ||
		!strings.Contains(fmt.Sprint(holds), "dispute:dp_2") {
		t.Fatalf("after a later dispute: changed %d, holds %+v", changed, holds)
	}
}

// A person who never taught: no profile, no holds, nothing of the instructor side to change.
func TestEraseMarketplaceLearnerOnly(t *testing.T) {
	w, s := onTable(t)
	w.mkCourse("crs_b1", "bob", "Bob Teacher", "bob@example.com", 3999)
	w.sell("cs_1", subj, "crs_b1", 3999)
	w.review("crs_b1", subj, subjName, 5, subjText)
	inv := measure(t, w, s)
	changed, holds := privacytest.RunToEnd(t, eraserOn(w, s), subject, "")
	if changed != 1 || len(holds) != 0 { // the enrolment with its review
		t.Fatalf("changed %d, holds %+v", changed, holds)
	}
	if !reflect.DeepEqual(inv, measure(t, w, s)) {
		t.Fatal("invariants moved")
	}
	for k, v := range privacytest.Table(t, s) {
		if strings.Contains(v, subjName) || strings.Contains(v, subjText) {
			t.Errorf("%s still holds her: %s", k, v)
		}
	}
}
