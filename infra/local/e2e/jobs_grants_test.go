//go:build integration

package e2e

// Scheduled jobs the rest of the suite never ran, each taken through the local jobs endpoint on
// real state, so the grant-vs-use check (grants_test.go, docs/decisions/0076) sees the calls their
// grants exist for: license-expiry and license-usage-report (every table action; their e-mails in
// mailpit), refresh-catalog (the snapshot written to catalog/ and the stamp moved),
// release-earnings' requeue of a stuck payout (sqs:SendMessage to the payouts queue) and
// billing-cycle applying Stripe's word (the subscription's write with its gauges).

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/liberation/monetization/infra/local/localtest"
	"github.com/liberation/monetization/infra/local/stripeevents"
	"github.com/liberation/monetization/infra/local/stripefake"
	"github.com/liberation/monetization/shared/manifest"
	"github.com/liberation/monetization/shared/marketplace"
	"github.com/liberation/monetization/shared/marketplace/catalog"
	"github.com/liberation/monetization/shared/store"
	"github.com/liberation/monetization/shared/stripeapi"
)

// orgExpiring creates (platform admin) and activates (org admin) a license expiring at expiresAt;
// newOrg's licenses run for a year.
func orgExpiring(t *testing.T, h *Harness, seats int64, overage, expiration string, expiresAt time.Time) org {
	t.Helper()
	now := h.Clock.Now()
	platform := h.Token(t, "ops-"+suffix(), "ops@liberation.example", "admin")
	email := "exp-" + suffix() + "@acme.example"
	var lic license
	h.Call(t, http.MethodPost, "/admin/licenses", platform, map[string]any{
		"orgName": "Expiring " + suffix(), "seats": seats, "startsAt": now.Add(-time.Hour), "expiresAt": expiresAt,
		"overagePolicy": overage, "expirationPolicy": expiration, "adminEmails": []string{email},
	}, http.StatusCreated, &lic)
	admin := h.Token(t, "admin-"+suffix(), email)
	h.Call(t, http.MethodPost, "/licenses/activate", admin, map[string]string{"key": lic.Key}, http.StatusOK, &lic)
	return org{lic: lic, admin: admin, adminEmail: email}
}

type usageView struct {
	Month                 string `json:"month"`
	Closed                bool   `json:"closed"`
	PeakSeats             int64  `json:"peakSeats"`
	OverageSeatDays       int64  `json:"overageSeatDays"`
	MonthlyActiveLearners int64  `json:"monthlyActiveLearners"`
	TrueUp                *struct {
		Seats           int64 `json:"seats"`
		PeakSeats       int64 `json:"peakSeats"`
		OverageSeatDays int64 `json:"overageSeatDays"`
	} `json:"trueUp"`
}

func (o org) usage(t *testing.T, h *Harness, month string) usageView {
	t.Helper()
	var u usageView
	h.Call(t, http.MethodGet, "/licenses/"+o.lic.ID+"/usage?month="+month, o.admin, nil, http.StatusOK, &u)
	return u
}

// The daily license-expiry job over a license in overage: the 7-day notice once, the overage
// seat-day counted once per day, then expiry applied; the monthly license-usage-report closes the
// month with its true-up line and mails the admin the report, once however often it runs.
func TestLicenseExpiryAndUsageReportJobs(t *testing.T) {
	h := Start(t, WithFakeClock())
	t0 := time.Date(2026, 11, 20, 0, 30, 0, 0, time.UTC) // the daily job's hour, mid-month
	h.Clock.Set(t0)
	o := orgExpiring(t, h, 1, "allow", "restrict", t0.Add(5*24*time.Hour))
	code := o.invite(t, h, 2)
	o.member(t, h, code)
	o.member(t, h, code) // one seat beyond the license's one: allowed, counted for the true-up

	run := func(name string, out any) {
		t.Helper()
		res := h.RunJob(t, name)
		if err := json.Unmarshal(res.Result, out); err != nil {
			t.Fatalf("%s report %s: %v", name, res.Result, err)
		}
	}
	type expiryReport struct {
		Licenses, Expired, NoticesSent, NoticesAlreadySent, Sampled, Failures int
	}
	var first, again expiryReport
	run("license-expiry", &first)
	run("license-expiry", &again) // same day: nothing sent or sampled twice
	if first != (expiryReport{Licenses: 1, NoticesSent: 1, Sampled: 1}) || again != (expiryReport{Licenses: 1, NoticesAlreadySent: 1}) {
		t.Fatalf("license-expiry: %+v then %+v", first, again)
	}
	notices := h.Env.Mailpit.WaitFor(t, "to:"+o.adminEmail, 1)
	if len(notices) != 1 || !strings.Contains(notices[0].Subject, "expires in 7 days") {
		t.Fatalf("expiry notices: %+v", notices)
	}
	if u := o.usage(t, h, "2026-11"); u.OverageSeatDays != 1 || u.PeakSeats != 2 {
		t.Fatalf("usage after the first day: %+v", u)
	}

	// Six days on the license is past its expiry: expired once, the day's overage counted again.
	h.Clock.Set(t0.Add(6 * 24 * time.Hour))
	var expired expiryReport
	run("license-expiry", &expired)
	if expired != (expiryReport{Licenses: 1, Expired: 1, Sampled: 1}) {
		t.Fatalf("license-expiry after the expiry date: %+v", expired)
	}
	var lic license
	h.Call(t, http.MethodGet, "/licenses/"+o.lic.ID, o.admin, nil, http.StatusOK, &lic)
	if lic.Status != "expired" {
		t.Fatalf("license after the job: %+v", lic)
	}

	// The first of the next month: November is closed once, the admin mailed its report once.
	h.Clock.Set(time.Date(2026, 12, 1, 6, 0, 0, 0, time.UTC))
	type usageReport struct {
		Month                                     string
		Licenses, TrueUpLines                     int
		OverageSeatDays                           int64
		ReportsSent, ReportsAlreadySent, Failures int
	}
	var closed, rerun usageReport
	run("license-usage-report", &closed)
	run("license-usage-report", &rerun)
	if closed != (usageReport{Month: "2026-11", Licenses: 1, TrueUpLines: 1, OverageSeatDays: 2, ReportsSent: 1}) ||
		rerun != (usageReport{Month: "2026-11", Licenses: 1, ReportsAlreadySent: 1}) {
		t.Fatalf("license-usage-report: %+v then %+v", closed, rerun)
	}
	reports := h.Env.Mailpit.WaitFor(t, "to:"+o.adminEmail+` subject:"usage report"`, 1)
	if len(reports) != 1 || !strings.Contains(reports[0].Subject, "2026-11") {
		t.Fatalf("usage reports: %+v", reports)
	}
	if n := len(h.Env.Mailpit.Search(t, "to:"+o.adminEmail)); n != 2 {
		t.Fatalf("%d e-mails to the admin, want the notice and the report", n)
	}
	if u := o.usage(t, h, "2026-11"); !u.Closed || u.TrueUp == nil || u.TrueUp.OverageSeatDays != 2 || u.TrueUp.PeakSeats != 2 || u.TrueUp.Seats != 1 {
		t.Fatalf("November after the report: %+v (true-up %+v)", u, u.TrueUp)
	}
}

// waitSearch polls the public search until q finds want courses (the snapshot is rebuilt
// asynchronously) and returns the last answer.
func waitSearch(t *testing.T, h *Harness, q string, want func(catalog.SearchResponse) bool) catalog.SearchResponse {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var found catalog.SearchResponse
		h.Call(t, http.MethodGet, "/courses?q="+url.QueryEscape(q), "", nil, http.StatusOK, &found)
		if want(found) || time.Now().After(deadline) {
			return found
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// A rating changes no catalog message; the 5-minute refresh writes a new snapshot object under
// catalog/ and moves the stamp, and once it is current a second run writes nothing.
func TestRefreshCatalogPicksUpARating(t *testing.T) {
	m := startMarket(t)
	itok := m.Token(t, m.id("instr"), "", "instructor")
	word := "qrefresh" + m.run
	c, _ := m.publishedCourse(t, itok, "Refreshed "+word, 999)
	waitSearch(t, m.Harness, word, func(r catalog.SearchResponse) bool { return r.Total == 1 })
	m.Drain(t, manifest.CatalogQueue) // the publish's rebuild is done: nothing else rebuilds now

	learner := m.id("learner")
	_, paid := m.purchase(learner, c.ID, 999, time.Now().Add(-time.Minute))
	post(t, m.Harness, paid)
	m.Call(t, http.MethodPut, "/courses/"+c.ID+"/review", m.Token(t, learner, ""), map[string]any{"rating": 5}, http.StatusCreated, nil)
	if r := waitSearch(t, m.Harness, word, func(catalog.SearchResponse) bool { return false }); r.Total != 1 || r.Courses[0].RatingCount != 0 {
		t.Fatalf("the snapshot changed without a rebuild: %+v", r)
	}

	rep := decode[catalog.BuildReport](t, m.RunJob(t, "refresh-catalog").Result)
	if !rep.Changed || rep.Published != 1 || !strings.HasPrefix(rep.Key, manifest.CatalogSnapshotPrefix) || rep.Version < 2 {
		t.Fatalf("refresh: %+v", rep)
	}
	zr, err := gzip.NewReader(bytes.NewReader(s3Object(t, m.Harness, rep.Key)))
	if err != nil {
		t.Fatalf("snapshot %s: %v", rep.Key, err)
	}
	body, err := io.ReadAll(zr)
	if err != nil || !bytes.Contains(body, []byte(c.ID)) {
		t.Fatalf("snapshot %s does not hold the course (%v)", rep.Key, err)
	}
	if r := waitSearch(t, m.Harness, word, func(r catalog.SearchResponse) bool { return r.Total == 1 && r.Courses[0].RatingCount == 1 }); r.Total != 1 ||
		r.Courses[0].RatingCount != 1 || r.Courses[0].RatingAverage != 5 {
		t.Fatalf("search after the refresh: %+v", r)
	}
	if again := decode[catalog.BuildReport](t, m.RunJob(t, "refresh-catalog").Result); again.Changed || again.Key != rep.Key || again.Version != rep.Version {
		t.Fatalf("a second refresh with nothing new: %+v (first %+v)", again, rep)
	}
}

// A payout whose transfer never got an answer (Stripe unreachable for every attempt) is
// dead-lettered in transferring; the daily release-earnings run sends it to the payouts queue again
// after an hour, and the consumer then pays it exactly once and mails the statement.
func TestReleaseEarningsRequeuesAStuckPayout(t *testing.T) {
	h := Start(t, WithFakeClock())
	fake := stripefake.Start(t, h.Env.Getenv(manifest.EnvStripeAPIBase))
	rec := &stripefake.Recorder{}
	stripeapi.Open(h.Env.Runtime).Set(stripefake.Client(localtest.StripeKey, fake.URL, rec))
	m := &market{Harness: h, fake: fake, run: strconv.FormatInt(time.Now().UnixNano(), 36)}

	instr := m.id("stuck")
	email := instr + "@example.com"
	itok := m.Token(t, instr, email, "instructor")
	c, _ := m.publishedCourse(t, itok, "Stuck payout course", 9999)
	var conn marketplace.ConnectResponse
	m.Call(t, http.MethodPost, "/instructors/me/connect", itok, map[string]string{"returnUrl": "https://app.example.com/p", "refreshUrl": "https://app.example.com/r"}, http.StatusOK, &conn)
	post(t, h, stripeevents.MustBuild(stripeevents.AccountUpdated, stripeevents.Options{UserID: instr, AccountID: conn.AccountID}))
	_, paid := m.purchase(m.id("buyer"), c.ID, 9999, time.Now().Add(-40*24*time.Hour))
	post(t, h, paid)
	if rel := decode[marketplace.ReleaseReport](t, m.RunJob(t, "release-earnings").Result); rel.Released != 1 || rel.RequeuedPayouts != 0 {
		t.Fatalf("release: %+v", rel)
	}
	available := m.earnings(t, itok).AvailableCents
	if available <= 0 {
		t.Fatalf("nothing available after the release: %+v", m.earnings(t, itok))
	}

	// Every Stripe request fails until the queue gives up on the message (five receives).
	rec.FailNext(1 << 20)
	if q := decode[marketplace.EnqueueReport](t, m.RunJob(t, "payouts").Result); q.Queued != 1 {
		t.Fatalf("payouts queued: %+v", q)
	}
	dlq := h.Env.Resources.DLQURLs[manifest.PayoutsQueue]
	for deadline := time.Now().Add(60 * time.Second); h.queueDepth(t, dlq) != 1; time.Sleep(200 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the failing payout message was not dead-lettered")
		}
	}
	payouts := func() []marketplace.PayoutView {
		var mine marketplace.PayoutList
		m.Call(t, http.MethodGet, "/instructors/me/payouts", itok, nil, http.StatusOK, &mine)
		return mine.Payouts
	}
	if p := payouts(); len(p) != 1 || p[0].Status != marketplace.PayoutTransferring || p[0].AmountCents != available {
		t.Fatalf("payouts while Stripe is unreachable: %+v", p)
	}
	if n := len(fake.Transfers()); n != 0 {
		t.Fatalf("%d transfers reached Stripe while it failed", n)
	}
	rec.FailNext(0)

	// Too early: a payout transferring for less than an hour is left alone.
	if rel := decode[marketplace.ReleaseReport](t, m.RunJob(t, "release-earnings").Result); rel.RequeuedPayouts != 0 {
		t.Fatalf("requeued before the hour: %+v", rel)
	}
	h.Clock.Advance(2 * time.Hour)
	if rel := decode[marketplace.ReleaseReport](t, m.RunJob(t, "release-earnings").Result); rel.RequeuedPayouts != 1 {
		t.Fatalf("release after two hours: %+v", rel)
	}
	var p []marketplace.PayoutView
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		if p = payouts(); len(p) == 1 && p[0].Status == marketplace.PayoutPaid || time.Now().After(deadline) {
			break
		}
	}
	trs := fake.Transfers()
	if len(p) != 1 || p[0].Status != marketplace.PayoutPaid || len(trs) != 1 || trs[0].Amount != available || p[0].TransferID != trs[0].ID {
		t.Fatalf("after the requeue: payouts %+v, transfers %+v", p, trs)
	}
	for deadline := time.Now().Add(30 * time.Second); h.queueDepth(t, h.Env.Resources.QueueURLs[manifest.PayoutsQueue]) != 0; time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the requeued payout message was not consumed")
		}
	}
	if e := m.earnings(t, itok); e.AvailableCents != 0 || e.PaidCents != available {
		t.Fatalf("earnings after the payout: %+v", e)
	}
	m.Env.Mailpit.WaitFor(t, "to:"+email, 1)
	if n := len(m.Env.Mailpit.Search(t, "to:"+email)); n != 1 {
		t.Fatalf("%d statements, want 1", n)
	}
}

// billing-cycle reads a subscription whose period has ended from Stripe and stores Stripe's word
// (canceled): the user is Free at once and the gauges move with it.
func TestBillingCycleStoresStripesEndedSubscription(t *testing.T) {
	h := Start(t)
	u := uniq("cycle")
	subID := stripeevents.SubscriptionIDFor(u)
	now := time.Now().Truncate(time.Second)
	ended := now.Add(-2 * time.Hour)

	// Stripe's side: the subscription canceled at its period end; every other request goes to
	// stripe-mock.
	deleted := stripeevents.MustBuild(stripeevents.CustomerSubscriptionDeleted, stripeevents.Options{UserID: u,
		Created: ended, PeriodStart: ended.AddDate(0, -1, 0), PeriodEnd: ended})
	var ev struct {
		Data struct {
			Object json.RawMessage `json:"object"`
		} `json:"data"`
	}
	if err := json.Unmarshal(deleted, &ev); err != nil || len(ev.Data.Object) == 0 {
		t.Fatalf("subscription object: %v", err)
	}
	target, err := url.Parse(h.Env.Getenv(manifest.EnvStripeAPIBase))
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(target)
	reads := make(chan struct{}, 16)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && r.URL.Path == "/v1/subscriptions/"+subID {
			reads <- struct{}{}
			w.Header().Set("content-type", "application/json")
			_, _ = w.Write(ev.Data.Object)
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	stripeapi.Open(h.Env.Runtime).Set(stripefake.Client(localtest.StripeKey, srv.URL, nil))

	// Our side: active and paying, its period ended two hours ago (due for review); neither a
	// renewal nor the deletion event was delivered.
	post(t, h, stripeevents.MustBuild(stripeevents.CustomerSubscriptionUpdated, stripeevents.Options{UserID: u,
		Created: ended.AddDate(0, 0, -10), PeriodStart: ended.AddDate(0, -1, 0), PeriodEnd: ended}))
	tok := h.Token(t, u, u+"@example.com")
	if s := getJSON[subscriptionView](t, h, "/subscription", tok); s.Status != "active" || s.Tier != "pro" {
		t.Fatalf("before the job: %+v", s)
	}
	mrr := func() int64 {
		t.Helper()
		var g map[string]any
		if err := h.Env.Store().GetConsistent(context.Background(), store.MetricsCurrentKey(), &g); err != nil {
			t.Fatal(err)
		}
		f, _ := g[store.GaugeMRRCents].(float64)
		return int64(f)
	}
	before := mrr()
	if before <= 0 {
		t.Fatalf("MRR %d before the job: the paying subscription is not counted", before)
	}

	rep := decode[cycleReportView](t, h.RunJob(t, "billing-cycle").Result)
	if rep.Checked != 1 || rep.Reconciled != 1 || rep.SkippedUnreachable != 0 || rep.ReconcileSkipped != 0 || len(reads) != 1 {
		t.Fatalf("billing-cycle: %+v, %d Stripe reads", rep, len(reads))
	}
	if s := getJSON[subscriptionView](t, h, "/subscription", tok); s.Status != "canceled" || s.Tier != "free" {
		t.Fatalf("after the job: %+v", s)
	}
	if after := mrr(); after >= before {
		t.Fatalf("MRR gauge %d → %d: the canceled subscription still counts", before, after)
	}
	if again := decode[cycleReportView](t, h.RunJob(t, "billing-cycle").Result); again.Reconciled != 0 {
		t.Fatalf("a second run reconciled again: %+v", again)
	}
}
