//go:build integration

package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/liberation/monetization/infra/local/localtest"
	"github.com/liberation/monetization/infra/local/stripeevents"
	"github.com/liberation/monetization/infra/local/stripestate"
	"github.com/liberation/monetization/shared/books"
	"github.com/liberation/monetization/shared/books/journal"
	"github.com/liberation/monetization/shared/books/reconcile"
	"github.com/liberation/monetization/shared/clock"
	"github.com/liberation/monetization/shared/manifest"
	"github.com/liberation/monetization/shared/marketplace"
)

// kindReconcileFiller is this test's rule for entries that move no clearing account (a release
// stands for them): enough of them that the job pages the journal with a store cursor.
const kindReconcileFiller = "e2erec.filler"

func init() {
	journal.Register(journal.Rule{Area: "marketplace", Kind: kindReconcileFiller, Summary: "an e2e release",
		Accounts: []journal.AccountID{journal.InstructorPayablePending, journal.InstructorPayableAvailable}})
}

// The daily reconciliation end to end, against the local Stripe that remembers (stripestate in
// front of the test's stripe-mock): a course bought through the API, its charge known to the
// stand-in (with Stripe's fee), the marketplace's sale entry posted by the webhook; the reconcile
// job run for that day through the gateway reports zero differences, posts the charge's balance
// transaction (fee included), the trial balance balances and stripe_in_flight is back to zero;
// a refund made at Stripe that we never saw is reported the next day with its id and parked in
// suspense; re-running a day changes nothing.
func TestBooksReconcile(t *testing.T) {
	// Noon UTC two days ago, on one clock for the functions and the stand-in: the job reconciles
	// "yesterday", so the clock moves a day on before each run.
	start := time.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, -2).Add(12 * time.Hour)
	clk := clock.NewFake(start)
	var st *stripestate.Server
	var stURL string
	h := Start(t, WithSetup(func(t testing.TB, env *localtest.Env) {
		st, stURL = stripestate.Start(t, stripestate.Config{StripeMock: env.Getenv(manifest.EnvStripeAPIBase), Clock: clk})
		env.Runtime.Config.StripeAPIBase = stURL
		env.Clock, env.Runtime.Clock, env.Store().Clock = clk, clk, clk // before the handlers copy them
	}))
	repo := journal.Repo{S: h.Env.Store()}
	run := strconv.FormatInt(time.Now().UnixNano(), 36)
	instructor, learner := "instr-"+run, "learner-"+run
	itok := h.Token(t, instructor, instructor+"@example.com", "instructor")
	ltok := h.Token(t, learner, learner+"@example.com")
	admin := h.Token(t, "admin-"+run, "ops@example.com", "admin")

	// 1. A course bought through the API, paid: the checkout completion reaches the stand-in (it
	// becomes a charge with its balance transaction) and the webhook (the marketplace books it).
	m := &market{Harness: h, run: run}
	c, _ := m.publishedCourse(t, itok, "Ledgers "+run, 4999)
	var checkout marketplace.PurchaseResponse
	h.Call(t, "POST", "/courses/"+c.ID+"/purchase", ltok, map[string]string{"successUrl": "https://app.example.com/ok",
		"cancelUrl": "https://app.example.com/no"}, 201, &checkout)
	o := stripeevents.CoursePurchase(learner, c.ID, 4999)
	intent := "pi_" + run
	charge := "ch_" + run // the stand-in names a checkout's charge after its PaymentIntent
	o.SessionID, o.PaymentIntentID, o.ChargeID, o.Created, o.EventID = checkout.SessionID, intent, charge, clk.Now(), "evt_"+run
	paid := stripeevents.MustBuild(stripeevents.CheckoutSessionCompleted, o)
	if err := st.Observe(paid); err != nil {
		t.Fatalf("stand-in: %v", err)
	}
	post(t, h, paid)
	day := start.Truncate(24 * time.Hour)
	var sale journal.Entry
	if err := repo.EachEntry(t.Context(), day, day.AddDate(0, 0, 1), func(e journal.Entry) error {
		if e.Kind == marketplace.JournalSale {
			sale = e
		}
		return nil
	}); err != nil || sale.ID == "" || sale.Source != charge && sale.Source != intent {
		t.Fatalf("the sale's entry: %+v, %v", sale, err)
	}

	// Entries that move no clearing account, enough for the job to read the journal in pages.
	postFillers(t, repo, day, 501)

	// 2. The next day, the job reconciles the purchase day: zero differences, the charge matched.
	clk.Advance(24 * time.Hour)
	rep := runReconcile(t, h)
	if rep.Day != day.Format(time.DateOnly) || rep.Differences != 0 || rep.Transactions != 1 || rep.Posted != 1 || rep.MatchedCount != 1 {
		t.Fatalf("reconcile %s: %+v", day.Format(time.DateOnly), rep)
	}
	got := rep.Matched[0]
	fee := stripestate.Pricing{}.ChargeFee(4999)
	if !slices.Contains(got.Objects, charge) || got.StripeCents != 4999 || got.BooksCents != 4999 || got.FeeCents != fee ||
		!slices.Contains(got.Entries, sale.ID) {
		t.Fatalf("matched: %+v", got)
	}
	tb := trialBalanceRoute(t, h, admin, day)
	if tb["stripe_in_flight"] != 0 || tb["stripe_balance"] != 4999-fee || tb["fees_stripe_processing"] != fee || tb["suspense"] != 0 {
		t.Fatalf("after reconciliation: %v", tb)
	}

	// 3. Re-running the day (as the schedule would at 02:30 the next day) changes nothing.
	clk.Set(day.AddDate(0, 0, 1).Add(2*time.Hour + 30*time.Minute))
	again := runReconcile(t, h)
	if again.Posted != 0 || again.AlreadyPosted != 1 || again.Differences != 0 {
		t.Fatalf("re-run: %+v", again)
	}
	if tb2 := trialBalanceRoute(t, h, admin, day); fmt.Sprint(tb2) != fmt.Sprint(tb) {
		t.Fatalf("re-run changed the books:\n%v\n%v", tb, tb2)
	}

	// 4. A refund made at Stripe that we never saw (no event reaches the webhook): the next day's
	// run reports it, with its id, and parks it in suspense.
	refundID := stripeRefund(t, stURL, charge, 1200)
	clk.Advance(24 * time.Hour)
	faulty := runReconcile(t, h)
	if faulty.Differences != 1 || faulty.MissingInBooksCount != 1 || !slices.Contains(faulty.MissingInBooks[0].Objects, refundID) ||
		faulty.MissingInBooks[0].StripeCents != -1200 || faulty.MissingInBooks[0].Posted != "suspense" {
		t.Fatalf("a refund we never saw: %+v", faulty)
	}
	next := day.AddDate(0, 0, 1)
	tb3 := trialBalanceRoute(t, h, admin, next)
	if tb3["suspense"] != 1200 || tb3["stripe_balance"] != 4999-fee-1200 {
		t.Fatalf("after the unseen refund: %v", tb3)
	}
	if again := runReconcile(t, h); again.Posted != 0 || again.Differences != 1 || fmt.Sprint(trialBalanceRoute(t, h, admin, next)) != fmt.Sprint(tb3) {
		t.Fatalf("re-run of the faulty day: %+v", again)
	}
	if !strings.HasPrefix(refundID, "re_") {
		t.Fatalf("refund id %q", refundID)
	}
}

// runReconcile runs the reconcile job through the gateway's jobs endpoint (what make job runs):
// yesterday by the functions' clock.
func runReconcile(t *testing.T, h *Harness) reconcile.Report {
	t.Helper()
	res := h.RunJob(t, "reconcile")
	var rep reconcile.Report
	if err := json.Unmarshal(res.Result, &rep); err != nil {
		t.Fatalf("reconcile's report: %v: %s", err, res.Result)
	}
	return rep
}

// trialBalanceRoute reads the trial balance through its route: balanced, and each usd account's
// balance on its normal side (debit − credit for assets, as the chart says).
func trialBalanceRoute(t *testing.T, h *Harness, admin string, day time.Time) map[string]int64 {
	t.Helper()
	var tb books.TrialBalanceView
	h.Call(t, "GET", "/admin/books/trial-balance?date="+day.Format(time.DateOnly), admin, nil, 200, &tb)
	if !tb.Balanced {
		t.Fatalf("the trial balance does not balance: %+v", tb)
	}
	out := map[string]int64{}
	for _, c := range tb.Currencies {
		if c.Currency != "usd" {
			continue
		}
		for _, a := range c.Accounts {
			out[a.Account] = a.Balance
		}
	}
	return out
}

// stripeRefund refunds part of a charge at the stand-in directly (a Dashboard refund): no event
// reaches our webhook, so nothing of ours books it.
func stripeRefund(t *testing.T, base, charge string, amount int64) string {
	t.Helper()
	form := url.Values{"charge": {charge}, "amount": {strconv.FormatInt(amount, 10)}}
	req, _ := http.NewRequest(http.MethodPost, base+"/v1/refunds", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "Bearer "+localtest.StripeKey)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var rf struct {
		ID     string `json:"id"`
		Amount int64  `json:"amount"`
	}
	if err := json.NewDecoder(res.Body).Decode(&rf); err != nil || res.StatusCode != http.StatusOK || rf.Amount != amount {
		t.Fatalf("refund at the stand-in: %d %+v %v", res.StatusCode, rf, err)
	}
	return rf.ID
}

// postFillers posts n entries on day that move no clearing account, four at a time.
func postFillers(t *testing.T, repo journal.Repo, day time.Time, n int) {
	t.Helper()
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
		next = make(chan int)
	)
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				src := fmt.Sprintf("sale_fill_%04d", i)
				err := repo.Post(t.Context(), journal.Entry{ID: journal.EntryID(kindReconcileFiller, src), Kind: kindReconcileFiller,
					Area: "marketplace", Source: src, Date: day.Add(time.Duration(i) * time.Second), Currency: "usd",
					Lines: []journal.Line{{Account: journal.InstructorPayablePending, Debit: 1}, {Account: journal.InstructorPayableAvailable, Credit: 1}}})
				if err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
			}
		}()
	}
	for i := 0; i < n; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
	if len(errs) > 0 {
		t.Fatalf("filler entries: %v", errs[0])
	}
}
