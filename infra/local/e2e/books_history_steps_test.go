//go:build integration

package e2e

// The steps of TestBooksOneHistory (books_history_test.go): a harness whose Stripe is the local
// stand-in that remembers, on one fake clock with the functions, with every step driven through
// the API, the webhook and the jobs as production would see it.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/liberation/monetization/infra/local/gateway"
	"github.com/liberation/monetization/infra/local/localtest"
	"github.com/liberation/monetization/infra/local/stripeevents"
	"github.com/liberation/monetization/infra/local/stripestate"
	"github.com/liberation/monetization/shared/books/journal"
	"github.com/liberation/monetization/shared/books/reconcile"
	"github.com/liberation/monetization/shared/clock"
	"github.com/liberation/monetization/shared/manifest"
	"github.com/liberation/monetization/shared/marketplace"
	paymentsarea "github.com/liberation/monetization/shared/payments"
	"github.com/liberation/monetization/shared/rewards"
	"github.com/liberation/monetization/shared/rewards/rewardcatalog"
	"github.com/liberation/monetization/shared/store"
)

// booksHistory is one history in the making: the system, the stand-in, the clock, the random
// source, and what the history did so far (the checks compare the books with it).
type booksHistory struct {
	t     *testing.T
	h     *Harness
	m     *market // for its course and ledger helpers
	st    *stripestate.Server
	stURL string
	clk   *clock.Fake
	rng   *rand.Rand
	seed  int64
	run   string
	admin string
	repo  journal.Repo
	start time.Time // the history's first day (UTC)

	n         int      // ids drawn so far
	moves     int      // steps of the history taken so far
	delivered int      // the stand-in's deliveries checked so far
	steps     []string // what the history did, in order
	runs      int      // reconcile runs
	// expect checks the report of a day on which a fault was injected ("" when it is right); any
	// other day must reconcile with zero differences.
	expect  map[string]func(reconcile.Report) string
	reports map[string]reconcile.Report // each day's first report

	instructors []*bhInstructor
	subscribers []*bhSubscriber
	sales       []*bhSale
	firstSale   map[*bhInstructor]*bhSale
	subPays     []*bhSubPay
	disputes    []*bhDispute
	refundIDs   []string // the Stripe refunds made through the admin route
	paidOut     []marketplace.Payout
	later       []func() // steps moneyBack leaves for after the release
}

type bhInstructor struct {
	id, tok, course string
	price           int64
	connected       bool
}

type bhSubscriber struct {
	id, tok, customer string
	credit            int64 // customer-balance credit granted and not used yet
}

type bhSale struct {
	ins                                 *bhInstructor
	learner, session, pi, charge, payID string
	amount, lastRefund                  int64
	coupon, touched, disputed           bool
	at                                  time.Time
}

type bhSubPay struct {
	user                       *bhSubscriber
	invoice, charge, pi, payID string
	amount, credit             int64 // charged, and customer credit used on top
	touched                    bool
}

// bhTarget is a charge the history refunds or disputes: a course sale's or a subscription
// payment's.
type bhTarget struct {
	sale *bhSale
	sub  *bhSubPay
}

func (x bhTarget) charge() string {
	if x.sale != nil {
		return x.sale.charge
	}
	return x.sub.charge
}

func (x bhTarget) payID() string {
	if x.sale != nil {
		return x.sale.payID
	}
	return x.sub.payID
}

func (x bhTarget) amount() int64 {
	if x.sale != nil {
		return x.sale.amount
	}
	return x.sub.amount
}

func (x bhTarget) touch() {
	if x.sale != nil {
		x.sale.touched = true
	} else {
		x.sub.touched = true
	}
}

func (x bhTarget) String() string {
	if x.sale != nil {
		return "course sale " + x.sale.charge
	}
	return "subscription payment " + x.sub.charge
}

type bhDispute struct {
	id      string
	on      bhTarget
	outcome string // won or lost
	open    bool
}

// startBooksHistory starts the system with the stand-in as its Stripe. The stand-in is built before
// the functions (they copy STRIPE_API_BASE when built) but sends its events to the webhook's function
// URL, known only once the gateway listens: a relay forwards them there.
func startBooksHistory(t *testing.T, seed int64) *booksHistory {
	rng := rand.New(rand.NewSource(seed))
	// A day drawn from a year well in the past (so that every day of the history is over before
	// the real today, and month ends fall anywhere), 09:00 UTC. Only the seed decides it.
	start := time.Date(2025, 6, 1, 9, 0, 0, 0, time.UTC).AddDate(0, 0, rng.Intn(365))
	clk := clock.NewFake(start)
	var hook atomic.Value
	relay := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		target, _ := hook.Load().(string)
		if target == "" {
			http.Error(w, "the webhook is not up yet", http.StatusServiceUnavailable)
			return
		}
		req, _ := http.NewRequest(http.MethodPost, target, bytes.NewReader(body))
		for _, k := range []string{"Content-Type", "Stripe-Signature", "User-Agent"} {
			req.Header.Set(k, r.Header.Get(k))
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer res.Body.Close()
		w.WriteHeader(res.StatusCode)
		_, _ = io.Copy(w, res.Body)
	}))
	t.Cleanup(relay.Close)
	var st *stripestate.Server
	var stURL string
	h := Start(t, WithSetup(func(t testing.TB, env *localtest.Env) {
		st, stURL = stripestate.Start(t, stripestate.Config{StripeMock: env.Getenv(manifest.EnvStripeAPIBase), Clock: clk,
			WebhookURL: relay.URL, WebhookSecret: env.Getenv(manifest.EnvWebhookSecret)})
		env.Runtime.Config.StripeAPIBase = stURL
		env.Clock, env.Runtime.Clock, env.Store().Clock = clk, clk, clk // before the handlers copy them
	}))
	hook.Store(h.URL + webhookPath(t))
	run := strconv.FormatInt(time.Now().UnixNano(), 36)
	return &booksHistory{t: t, h: h, m: &market{Harness: h, run: run}, st: st, stURL: stURL, clk: clk, rng: rng, seed: seed,
		run: run, repo: journal.Repo{S: h.Env.Store()}, start: start.Truncate(24 * time.Hour),
		expect: map[string]func(reconcile.Report) string{}, reports: map[string]reconcile.Report{},
		firstSale: map[*bhInstructor]*bhSale{}}
}

func (b *booksHistory) nextID() string {
	b.n++
	return fmt.Sprintf("%s%03d", b.run, b.n)
}

func (b *booksHistory) day(t time.Time) time.Time { return t.UTC().Truncate(24 * time.Hour) }

// note records a step of the history (logged, and listed when a check fails).
func (b *booksHistory) note(format string, args ...any) {
	line := b.clk.Now().Format("2006-01-02 15:04") + " " + fmt.Sprintf(format, args...)
	b.steps = append(b.steps, line)
	b.t.Log(line)
}

// fatalf fails the test with the seed and the history so far.
func (b *booksHistory) fatalf(format string, args ...any) {
	b.t.Helper()
	b.t.Fatalf("%s\nseed %d (replay with %s=%d); the history:\n  %s", fmt.Sprintf(format, args...), b.seed, EnvBooksSeed,
		b.seed, strings.Join(b.steps, "\n  "))
}

// passTo moves the clock on to `to`; at each midnight on the way, the reconcile job reconciles the
// day that ended, as its schedule would.
func (b *booksHistory) passTo(to time.Time) {
	for {
		next := b.day(b.clk.Now()).AddDate(0, 0, 1)
		if to.Before(next) {
			break
		}
		b.clk.Set(next)
		b.reconcileDay(next.AddDate(0, 0, -1))
	}
	b.clk.Set(to)
}

func (b *booksHistory) pass(d time.Duration) { b.passTo(b.clk.Now().Add(d)) }

// shuffled runs steps in a random order, minH..maxH hours (and some minutes) apart.
func (b *booksHistory) shuffled(steps []func(), minH, maxH int) {
	b.rng.Shuffle(len(steps), func(i, j int) { steps[i], steps[j] = steps[j], steps[i] })
	for _, step := range steps {
		b.pass(time.Duration(minH+b.rng.Intn(maxH-minH+1))*time.Hour + time.Duration(b.rng.Intn(60))*time.Minute)
		b.do(step)
	}
}

// do takes one step of the history.
func (b *booksHistory) do(step func()) {
	b.moves++
	step()
}

// reconcileDay runs the reconcile job for day through the gateway (what `make job NAME=reconcile
// DAY=…` does) and checks its report: zero differences, or what the day's fault expects.
func (b *booksHistory) reconcileDay(day time.Time) reconcile.Report {
	b.t.Helper()
	d := day.Format(time.DateOnly)
	var res gateway.JobResult
	b.h.Call(b.t, http.MethodPost, "/_local/jobs/reconcile", "", map[string]string{"day": d}, http.StatusOK, &res)
	var rep reconcile.Report
	if err := json.Unmarshal(res.Result, &rep); err != nil || rep.Day != d {
		b.fatalf("reconcile %s: %v %s", d, err, res.Result)
	}
	b.runs++
	if check := b.expect[d]; check != nil {
		if msg := check(rep); msg != "" {
			b.fatalf("reconcile %s (a fault's day): %s\nreport: %s", d, msg, res.Result)
		}
	} else if rep.Differences != 0 || len(rep.Unposted) > 0 {
		b.fatalf("reconcile %s: %d differences, unposted %v\nreport: %s", d, rep.Differences, rep.Unposted, res.Result)
	}
	if _, seen := b.reports[d]; !seen {
		b.reports[d] = rep
	}
	return rep
}

// observe tells the stand-in an event the test sends to the webhook itself (what `make trigger`
// does before posting it): a paid checkout or invoice becomes a charge at Stripe.
func (b *booksHistory) observe(payload []byte) {
	b.t.Helper()
	if err := b.st.Observe(payload); err != nil {
		b.fatalf("the stand-in refused an event: %v", err)
	}
}

// flush waits until the stand-in has delivered every event it queued and checks that the webhook
// took each one (a 2xx, after Stripe-like retries).
func (b *booksHistory) flush() {
	b.t.Helper()
	b.st.Flush()
	all := b.st.Deliveries()
	for _, d := range all[b.delivered:] {
		if d.Status < 200 || d.Status > 299 {
			b.fatalf("the webhook did not take %s %s of %s: status %d after %d attempts (%s)", d.Type, d.EventID, d.Object,
				d.Status, d.Attempts, d.Err)
		}
	}
	b.delivered = len(all)
}

// stripe calls the stand-in directly, as the Dashboard or a person would (GET, or POST a form).
func (b *booksHistory) stripe(method, path string, form url.Values, out any) {
	b.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, b.stURL+path, body)
	req.Header.Set("Authorization", "Bearer "+localtest.StripeKey)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		b.fatalf("%s %s at the stand-in: %v", method, path, err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		b.fatalf("%s %s at the stand-in: %d %s", method, path, res.StatusCode, raw)
	}
	if err := json.Unmarshal(raw, out); err != nil {
		b.fatalf("%s %s at the stand-in: %v", method, path, err)
	}
}

func (b *booksHistory) payments() paymentsarea.Repo { return paymentsarea.Repo{S: b.h.Env.Store()} }

// sale: a learner buys the instructor's course through POST /courses/{id}/purchase (with a rewards
// coupon redeemed and approved first, if coupon); Stripe's checkout completion — the session the
// route created, its metadata, the amount after the coupon — reaches the stand-in (a charge with
// its fee) and the webhook (payments' record and the marketplace's sale, in one transaction).
func (b *booksHistory) sale(ins *bhInstructor, coupon bool) *bhSale {
	t := b.t
	id := b.nextID()
	s := &bhSale{ins: ins, learner: "learner-" + id, amount: ins.price, coupon: coupon, pi: "pi_" + id, charge: "ch_" + id}
	ltok := b.h.Token(t, s.learner, s.learner+"@example.com")
	body := map[string]string{"successUrl": "https://app.example.com/ok", "cancelUrl": "https://app.example.com/no"}
	if coupon {
		rw, _ := rewardcatalog.ByID(rewardcatalog.CourseCoupon)
		rwGrant(t, b.h, b.admin, s.learner, rw.Cost)
		var red rewards.RedemptionView
		b.h.Call(t, http.MethodPost, "/tokens/redemptions", ltok, map[string]string{"rewardId": rw.ID}, http.StatusCreated, &red,
			map[string]string{"Idempotency-Key": "coupon-" + id})
		var v rewards.AdminRedemptionView
		b.h.Call(t, http.MethodPost, "/admin/redemptions/"+red.ID+"/approve", b.admin, nil, http.StatusOK, &v)
		if v.Status != rewards.Fulfilled || v.CouponCode == "" {
			b.fatalf("coupon redemption: %+v", v)
		}
		body["couponCode"] = v.CouponCode
		s.amount -= (ins.price*rw.PercentOff + 50) / 100 // Stripe's percent-off, rounded to the cent
	}
	var pr marketplace.PurchaseResponse
	b.h.Call(t, http.MethodPost, "/courses/"+ins.course+"/purchase", ltok, body, http.StatusCreated, &pr)
	md := map[string]string{}
	for _, f := range b.st.Checkouts() {
		if f.Get("metadata[userId]") != s.learner {
			continue
		}
		for k, v := range f {
			if strings.HasPrefix(k, "metadata[") && strings.HasSuffix(k, "]") && len(v) > 0 {
				md[k[len("metadata["):len(k)-1]] = v[0]
			}
		}
		if coupon && f.Get("discounts[0][coupon]") != body["couponCode"] {
			b.fatalf("the coupon is not the session's discount: %v", f)
		}
	}
	if md["courseId"] != ins.course || pr.SessionID == "" {
		b.fatalf("the purchase's Checkout Session: %+v, metadata %v", pr, md)
	}
	s.session, s.at = pr.SessionID, b.clk.Now()
	o := stripeevents.CoursePurchase(s.learner, ins.course, s.amount)
	o.Metadata, o.SessionID, o.PaymentIntentID, o.ChargeID, o.Created, o.EventID = md, s.session, s.pi, s.charge, s.at, "evt_"+id
	paid := stripeevents.MustBuild(stripeevents.CheckoutSessionCompleted, o)
	b.observe(paid)
	post(t, b.h, paid)
	p, err := b.payments().PaymentByStripe(context.Background(), "", s.pi)
	if err != nil || p.AmountCents != s.amount || p.Kind == paymentsarea.PaymentKindSubscription {
		b.fatalf("payments' record of sale %s: %+v %v", s.charge, p, err)
	}
	s.payID = p.ID
	b.sales = append(b.sales, s)
	if b.firstSale[ins] == nil {
		b.firstSale[ins] = s
	}
	how := ""
	if coupon {
		how = " with a rewards coupon"
	}
	b.note("sale %s: %s's course for %d%s", s.charge, ins.id, s.amount, how)
	return s
}

// invoice: a subscription invoice paid (invoice.paid, observed at the stand-in so that its charge
// exists), of total, credit of it paid from the customer's balance (Stripe's starting and ending
// balance say so; the charge is the rest).
func (b *booksHistory) invoice(u *bhSubscriber, reason string, total, credit int64) *bhSubPay {
	t := b.t
	id := b.nextID()
	sp := &bhSubPay{user: u, invoice: "in_" + id, charge: "ch_in" + id, pi: "pi_in" + id, amount: total - credit, credit: credit}
	o := stripeevents.Options{UserID: u.id, Email: u.id + "@example.com", CustomerID: u.customer, InvoiceID: sp.invoice,
		ChargeID: sp.charge, PaymentIntentID: sp.pi, AmountCents: total, Created: b.clk.Now(), BillingReason: reason, EventID: "evt_" + id}
	if total >= 9900 {
		o.Tier = "enterprise"
	}
	paid := stripeevents.MustBuild(stripeevents.InvoicePaid, o)
	if credit > 0 {
		var ev map[string]any
		if err := json.Unmarshal(paid, &ev); err != nil {
			t.Fatal(err)
		}
		inv := ev["data"].(map[string]any)["object"].(map[string]any)
		inv["starting_balance"], inv["ending_balance"] = -credit, 0
		inv["amount_due"], inv["amount_paid"] = total-credit, total-credit
		paid, _ = json.Marshal(ev)
	}
	b.observe(paid)
	post(t, b.h, paid)
	p, err := b.payments().PaymentByStripe(context.Background(), "", sp.pi)
	if err != nil || p.Kind != paymentsarea.PaymentKindSubscription || p.AmountCents != sp.amount || p.CreditAppliedCents != credit {
		b.fatalf("payments' record of invoice %s: %+v %v", sp.invoice, p, err)
	}
	sp.payID = p.ID
	u.credit -= credit
	if u.customer != "" && b.st.CustomerBalance(u.customer) != -u.credit {
		b.fatalf("customer %s's balance at Stripe %d after invoice %s, want −%d", u.customer, b.st.CustomerBalance(u.customer),
			sp.invoice, u.credit)
	}
	b.subPays = append(b.subPays, sp)
	b.note("invoice %s (%s) of %s: %d charged, %d of credit", sp.invoice, reason, u.id, sp.amount, credit)
	return sp
}

// creditRedemption: the subscriber redeems tokens for a $5 customer-balance credit, which an admin
// approves: the credit is made at Stripe (the stand-in keeps the customer's balance).
func (b *booksHistory) creditRedemption(u *bhSubscriber) {
	t := b.t
	rw, _ := rewardcatalog.ByID(rewardcatalog.SubscriptionCredit)
	rwGrant(t, b.h, b.admin, u.id, rw.Cost)
	var red rewards.RedemptionView
	b.h.Call(t, http.MethodPost, "/tokens/redemptions", u.tok, map[string]string{"rewardId": rw.ID}, http.StatusCreated, &red,
		map[string]string{"Idempotency-Key": "credit-" + b.nextID()})
	var v rewards.AdminRedemptionView
	b.h.Call(t, http.MethodPost, "/admin/redemptions/"+red.ID+"/approve", b.admin, nil, http.StatusOK, &v)
	if v.Status != rewards.Fulfilled || v.StripeCustomerID == "" || v.BalanceTransaction == "" {
		b.fatalf("credit redemption: %+v", v)
	}
	u.customer = v.StripeCustomerID
	u.credit += rw.CreditCents
	if got := b.st.CustomerBalance(u.customer); got != -u.credit {
		b.fatalf("customer %s's balance at Stripe %d, want −%d", u.customer, got, u.credit)
	}
	b.note("credit redemption %s: %d on %s's balance at Stripe", red.ID, rw.CreditCents, u.id)
}

// refund: POST /admin/refunds of the target's payment (amount 0: what is left); the stand-in makes
// the refund and sends charge.refunded and refund.created, which reach both areas.
func (b *booksHistory) refund(x bhTarget, amount int64) string {
	t := b.t
	req := map[string]any{"paymentId": x.payID(), "reason": "requested_by_customer"}
	if amount > 0 {
		req["amountCents"] = amount
	}
	var res paymentsarea.CreateRefundResponse
	b.h.Call(t, http.MethodPost, "/admin/refunds", b.admin, req, http.StatusCreated, &res,
		map[string]string{"Idempotency-Key": "refund-" + b.nextID()})
	b.flush()
	var rf struct {
		ID     string `json:"id"`
		Amount int64  `json:"amount"`
		Charge string `json:"charge"`
	}
	b.stripe(http.MethodGet, "/v1/refunds/"+res.Refund.ID, nil, &rf)
	if rf.Charge != x.charge() || rf.Amount != res.Refund.AmountCents || amount > 0 && rf.Amount != amount {
		b.fatalf("refund %+v at Stripe, the route answered %+v (asked %d of %s)", rf, res.Refund, amount, x)
	}
	x.touch()
	if x.sale != nil {
		x.sale.lastRefund = rf.Amount
	}
	b.refundIDs = append(b.refundIDs, rf.ID)
	b.note("refund %s of %s: %d", rf.ID, x, rf.Amount)
	return rf.ID
}

// failRefund: the bank returns a refund; the stand-in sends refund.updated and
// charge.refund.updated.
func (b *booksHistory) failRefund(id string) {
	if err := b.st.SetRefundStatus(id, "failed"); err != nil {
		b.fatalf("fail refund %s: %v", id, err)
	}
	b.flush()
	b.note("refund %s failed at Stripe", id)
}

// openDispute: the cardholder disputes the whole charge (Stripe withdraws it and its fee).
func (b *booksHistory) openDispute(x bhTarget, outcome string) {
	id, err := b.st.OpenDispute(x.charge(), 0)
	if err != nil {
		b.fatalf("open a dispute of %s: %v", x, err)
	}
	b.flush()
	x.touch()
	if x.sale != nil {
		x.sale.disputed = true
	}
	b.disputes = append(b.disputes, &bhDispute{id: id, on: x, outcome: outcome, open: true})
	b.note("dispute %s opened on %s (to be %s)", id, x, outcome)
}

func (b *booksHistory) closeDispute(d *bhDispute) {
	if err := b.st.CloseDispute(d.id, d.outcome); err != nil {
		b.fatalf("close dispute %s: %v", d.id, err)
	}
	b.flush()
	d.open = false
	b.note("dispute %s %s", d.id, d.outcome)
}

// release runs the release job: shares past the refund window become available.
func (b *booksHistory) release() {
	var rep marketplace.ReleaseReport
	if err := json.Unmarshal(b.h.RunJob(b.t, "release-earnings").Result, &rep); err != nil || rep.Released == 0 {
		b.fatalf("release: %+v %v", rep, err)
	}
	b.note("release: %d sales, %d cents", rep.Released, rep.ReleasedCents)
}

// payouts runs the monthly payout job twice, Stripe losing its answer to the first transfer: the
// queue's retry finds the transfer in Stripe's records (transfer group = payout id), so each
// connected instructor is paid exactly once.
func (b *booksHistory) payouts() {
	t := b.t
	b.st.LoseAnswers(http.MethodPost, "/v1/transfers", 1)
	for range 2 {
		b.h.RunJob(t, "payouts")
		b.h.Drain(t, manifest.PayoutsQueue)
	}
	b.flush()
	lost := b.st.Lost()
	if len(lost) != 1 {
		b.fatalf("lost answers %q, want the first transfer's", lost)
	}
	period := marketplace.Period(b.clk.Now())
	found := false
	for _, ins := range b.instructors {
		if !ins.connected {
			continue
		}
		var po marketplace.Payout
		if err := b.h.Env.Store().GetConsistent(context.Background(), store.PayoutKey(ins.id, period), &po); err != nil {
			b.fatalf("payout of %s: %v", ins.id, err)
		}
		var trs struct {
			Data []struct {
				ID     string `json:"id"`
				Amount int64  `json:"amount"`
			} `json:"data"`
		}
		b.stripe(http.MethodGet, "/v1/transfers?transfer_group="+url.QueryEscape(po.ID), nil, &trs)
		if po.Status != marketplace.PayoutPaid || len(trs.Data) != 1 || trs.Data[0].ID != po.TransferID || trs.Data[0].Amount != po.AmountCents {
			b.fatalf("payout %+v; its transfers at Stripe %+v (want exactly one, paid)", po, trs.Data)
		}
		found = found || lost[0] == "POST /v1/transfers "+po.TransferID
		b.paidOut = append(b.paidOut, po)
		b.note("payout %s: %d, transfer %s (attempts %d)", po.ID, po.AmountCents, po.TransferID, po.Attempts)
	}
	if !found {
		b.fatalf("the lost answer %q is no payout's transfer", lost[0])
	}
	b.note("the answer to %s was lost; the retry found the transfer", strings.TrimPrefix(lost[0], "POST /v1/transfers "))
}

// reverseTransfer: part of a payout transfer is reversed at Stripe (support, in the Dashboard);
// transfer.reversed reaches the marketplace, which owes the instructor that much again.
func (b *booksHistory) reverseTransfer() {
	po := b.paidOut[b.rng.Intn(len(b.paidOut))]
	amount := 1 + b.rng.Int63n(min(po.AmountCents, 2500))
	var rv struct {
		ID     string `json:"id"`
		Amount int64  `json:"amount"`
	}
	b.stripe(http.MethodPost, "/v1/transfers/"+po.TransferID+"/reversals", url.Values{"amount": {strconv.FormatInt(amount, 10)}}, &rv)
	b.flush()
	if rv.Amount != amount {
		b.fatalf("reversal %+v, want %d", rv, amount)
	}
	b.note("reversal %s of transfer %s: %d", rv.ID, po.TransferID, amount)
}

// clawback: a sale whose share was paid out is refunded (in full or in part): the instructor's
// available balance goes below zero until later earnings settle it.
func (b *booksHistory) clawback() {
	var whole []*bhSale
	for _, s := range b.sales {
		if s.ins.connected && !s.touched && !s.coupon {
			whole = append(whole, s)
		}
	}
	if len(whole) == 0 {
		b.fatalf("no paid-out sale left to claw back")
	}
	s := whole[b.rng.Intn(len(whole))]
	amount := int64(0)
	if b.rng.Intn(2) == 0 {
		amount = 1 + b.rng.Int63n(s.amount-1)
	}
	b.note("clawback of %s's sale %s:", s.ins.id, s.charge)
	b.refund(bhTarget{sale: s}, amount)
}
