//go:build integration

package licensing

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/liberation/monetization/infra/local/localtest"
	"github.com/liberation/monetization/shared/clock"
	"github.com/liberation/monetization/shared/ids"
	"github.com/liberation/monetization/shared/manifest"
	"github.com/liberation/monetization/shared/store"
)

type jobEnv struct {
	*localtest.Env
	d   *Deps
	clk *clock.Fake
}

func newJobEnv(t *testing.T, fn string, at time.Time) *jobEnv {
	t.Helper()
	env := localtest.New(t)
	clk := env.WithFakeClock()
	clk.Set(at)
	d, err := NewDeps(env.RuntimeFor(t, manifest.MustByName(fn)))
	if err != nil {
		t.Fatal(err)
	}
	return &jobEnv{Env: env, d: d, clk: clk}
}

// seed writes an activated license (and its share of the gauges) as the API would have.
func (e *jobEnv) seed(t *testing.T, seats, used int64, expiresIn time.Duration, overage, expiration string, admins ...string) License {
	t.Helper()
	now := e.clk.Now()
	at := now.Add(-30 * 24 * time.Hour)
	l := License{ID: ids.New("lic", now), OrgID: ids.New("org", now), OrgName: "Org " + strings.Join(admins, ","), Seats: seats,
		SeatsUsed: used, StartsAt: at, ExpiresAt: now.Add(expiresIn), OveragePolicy: overage, ExpirationPolicy: expiration,
		AdminEmails: admins, Features: EnterpriseFeatures(), ActivatedAt: &at, KeyVersion: 1, Version: 2, CreatedAt: at}
	l.setKeys()
	l.Status, l.Counted = StatusActive, true // active as of its last write (the job finds expiries)
	if err := e.d.Store.Put(context.Background(), l, "", nil, nil); err != nil {
		t.Fatal(err)
	}
	it := store.AddCounters(store.MetricsCurrentKey(), gaugeDeltas(License{}, l))
	if err := e.d.Store.Transact(context.Background(), store.Append(nil, it)); err != nil {
		t.Fatal(err)
	}
	return l
}

func (e *jobEnv) license(t *testing.T, id string) License {
	t.Helper()
	l, err := getLicense(context.Background(), e.d.Licenses, id)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func (e *jobEnv) usage(t *testing.T, id, m string) Usage {
	t.Helper()
	var u Usage
	if err := e.d.Store.GetConsistent(context.Background(), store.LicenseUsageKey(id, m), &u); err != nil {
		t.Fatal(err)
	}
	return u
}

func (e *jobEnv) gauges(t *testing.T) map[string]int64 {
	t.Helper()
	var g map[string]any
	if err := e.d.Store.GetConsistent(context.Background(), store.MetricsCurrentKey(), &g); err != nil {
		t.Fatal(err)
	}
	out := map[string]int64{}
	for _, k := range []string{gaugeActive, gaugeSold, gaugeUsed} {
		f, _ := g[k].(float64)
		out[k] = int64(f)
	}
	return out
}

func addr(t *testing.T, who string) string {
	return who + "-" + strings.ToLower(t.Name()[len(t.Name())-6:]) + "-" + ids.Random(3) + "@acme.example"
}

// The daily job, run twice a day for several days: one notice per threshold and address, expiry
// applied once with its gauges, overage seat-days counted once per day.
func TestExpiryJob(t *testing.T) {
	e := newJobEnv(t, "license-expiry", time.Date(2026, 11, 20, 0, 30, 0, 0, time.UTC))
	ctx := context.Background()
	a1, a2, c1 := addr(t, "a1"), addr(t, "a2"), addr(t, "c1")
	soon := e.seed(t, 10, 4, 5*24*time.Hour, OverageBlock, ExpireRestrict, a1, a2) // 7-day notice due
	e.seed(t, 10, 1, 40*24*time.Hour, OverageBlock, ExpireRestrict, addr(t, "b1")) // nothing due
	gone := e.seed(t, 10, 3, -time.Hour, OverageBlock, ExpireRevoke, c1)           // expired an hour ago
	over := e.seed(t, 2, 5, 200*24*time.Hour, OverageAllow, ExpireMaintain, addr(t, "d1"))

	first, err := RunExpiry(ctx, e.d)
	if err != nil {
		t.Fatal(err)
	}
	second, err := RunExpiry(ctx, e.d)
	if err != nil {
		t.Fatal(err)
	}
	if first != (ExpiryReport{Licenses: 4, Expired: 1, NoticesSent: 2, Sampled: 4}) ||
		second != (ExpiryReport{Licenses: 4, NoticesAlreadySent: 2}) {
		t.Fatalf("runs: %+v then %+v", first, second)
	}
	for _, to := range []string{a1, a2} {
		msgs := e.Mailpit.WaitFor(t, "to:"+to, 1)
		if len(msgs) != 1 || !strings.Contains(msgs[0].Subject, "expires in 7 days") {
			t.Fatalf("%s: %+v", to, msgs)
		}
	}
	if n := len(e.Mailpit.Search(t, "to:"+c1)); n != 0 {
		t.Fatalf("the expired license's admin got %d notices", n)
	}
	if g := e.license(t, gone.ID); g.Status != StatusExpired || g.Counted || g.Version != gone.Version+1 {
		t.Fatalf("expired license %+v", g)
	}
	if g := e.gauges(t); g[gaugeActive] != 3 || g[gaugeSold] != 22 || g[gaugeUsed] != 10 {
		t.Fatalf("gauges %v", g)
	}
	if u := e.usage(t, over.ID, "2026-11"); u.OverageSeatDays != 3 || u.PeakSeats != 5 || u.LastSampledDay != "2026-11-20" {
		t.Fatalf("overage usage %+v", u)
	}

	// The next day: one more overage day; the 7-day notice is not sent again.
	e.clk.Advance(24 * time.Hour)
	third, _ := RunExpiry(ctx, e.d)
	if third.NoticesSent != 0 || third.Sampled != 4 || third.Expired != 0 {
		t.Fatalf("next day %+v", third)
	}
	if u := e.usage(t, over.ID, "2026-11"); u.OverageSeatDays != 6 {
		t.Fatalf("overage seat-days %d", u.OverageSeatDays)
	}
	// Half a day before expiry: the 1-day notice, once.
	e.clk.Set(soon.ExpiresAt.Add(-12 * time.Hour))
	fourth, _ := RunExpiry(ctx, e.d)
	fifth, _ := RunExpiry(ctx, e.d)
	if fourth.NoticesSent != 2 || fifth.NoticesSent != 0 {
		t.Fatalf("1-day notices: %+v then %+v", fourth, fifth)
	}
	for _, to := range []string{a1, a2} {
		msgs := e.Mailpit.Search(t, "to:"+to)
		if len(msgs) != 2 || !strings.Contains(msgs[0].Subject+msgs[1].Subject, "expires in 1 day") {
			t.Fatalf("%s: %+v", to, msgs)
		}
	}
	// A restrict license past expiry keeps its seat holders' access: expired, but granted.
	e.clk.Set(soon.ExpiresAt.Add(time.Hour))
	if _, err := RunExpiry(ctx, e.d); err != nil {
		t.Fatal(err)
	}
	l := e.license(t, soon.ID)
	if a := l.AccessAt(e.clk.Now()); l.Status != StatusExpired || !a.Granted {
		t.Fatalf("restrict after expiry: %+v %+v", l, a)
	}
}

// The monthly job closes last month once: one true-up line per license, the month's totals in the
// metrics, one report e-mail per admin address.
func TestUsageReportJob(t *testing.T) {
	e := newJobEnv(t, "license-usage-report", time.Date(2026, 11, 29, 0, 30, 0, 0, time.UTC))
	ctx := context.Background()
	admin := addr(t, "adm")
	over := e.seed(t, 2, 5, 200*24*time.Hour, OverageAllow, ExpireMaintain, admin)
	plain := e.seed(t, 10, 1, 200*24*time.Hour, OverageBlock, ExpireRestrict, addr(t, "adm2"))
	for day := 0; day < 2; day++ { // two sampled November days: 3 overage seats each
		if _, err := sampleDay(ctx, e.d.Usage, over, e.clk.Now()); err != nil {
			t.Fatal(err)
		}
		e.clk.Advance(24 * time.Hour)
	}
	if err := e.d.Activity.CountOnce(ctx, store.LicenseActiveKey(over.ID, "2026-11", "u1"), over.ID,
		time.Date(2026, 11, 29, 0, 0, 0, 0, time.UTC), map[string]int64{"activeLearners": 1}); err != nil {
		t.Fatal(err)
	}
	e.clk.Set(time.Date(2026, 12, 1, 6, 0, 0, 0, time.UTC))
	first, err := RunUsageReport(ctx, e.d)
	if err != nil {
		t.Fatal(err)
	}
	second, err := RunUsageReport(ctx, e.d)
	if err != nil {
		t.Fatal(err)
	}
	if first != (UsageReport{Month: "2026-11", Licenses: 2, TrueUpLines: 2, OverageSeatDays: 6, ReportsSent: 2}) ||
		second != (UsageReport{Month: "2026-11", Licenses: 2, ReportsAlreadySent: 2}) {
		t.Fatalf("runs: %+v then %+v", first, second)
	}
	var month map[string]any
	if err := e.d.Store.GetConsistent(ctx, store.MetricsMonthKey("2026-11"), &month); err != nil {
		t.Fatal(err)
	}
	if month[store.CtrEntOverageSeatDays] != float64(6) || month[store.CtrEntTrueUpLines] != float64(1) {
		t.Fatalf("month metrics %v", month)
	}
	v, err := usageOf(ctx, e.d.Usage, e.license(t, over.ID), "2026-11", false)
	if err != nil || !v.Closed || v.TrueUp == nil || v.TrueUp.OverageSeatDays != 6 || v.TrueUp.PeakSeats != 5 ||
		v.SeatsAssigned != 5 || v.MonthlyActiveLearners != 1 {
		t.Fatalf("closed November %+v %v", v, err)
	}
	msgs := e.Mailpit.WaitFor(t, "to:"+admin, 1)
	m := e.Mailpit.Get(t, msgs[0].ID)
	if len(msgs) != 1 || !strings.Contains(m.Subject, "usage report for 2026-11") || !strings.Contains(m.Text, "Overage seat-days (true-up): 6") ||
		!strings.Contains(m.Text, "Monthly active learners: 1") {
		t.Fatalf("report e-mail %q:\n%s", m.Subject, m.Text)
	}
	_ = plain
}

// RecordActivity counts a seat holder once per month and keeps the e-mail directory current.
func TestRecordActivity(t *testing.T) {
	e := newJobEnv(t, "join-license", time.Date(2026, 11, 10, 9, 0, 0, 0, time.UTC))
	ctx := context.Background()
	l := e.seed(t, 10, 1, 200*24*time.Hour, OverageBlock, ExpireRestrict, addr(t, "adm"))
	user := "active-" + ids.Random(4)
	mk := store.SeatHolderKey(user)
	if err := e.d.Store.Put(ctx, Membership{PK: mk.PK, SK: mk.SK, UserID: user, LicenseID: l.ID, SeatID: "s1"}, "", nil, nil); err != nil {
		t.Fatal(err)
	}
	for _, at := range []time.Time{e.clk.Now(), e.clk.Now().Add(time.Hour), e.clk.Now().Add(25 * 24 * time.Hour)} {
		if err := RecordActivity(ctx, e.d.Store, user, "Active@Acme.example", at); err != nil {
			t.Fatal(err)
		}
	}
	forgetSeen(user) // a new container: the marker, not the memo, keeps the count at one
	if err := RecordActivity(ctx, e.d.Store, user, "active@acme.example", e.clk.Now()); err != nil {
		t.Fatal(err)
	}
	if u := e.usage(t, l.ID, "2026-11"); u.ActiveLearners != 1 {
		t.Fatalf("November active learners %d", u.ActiveLearners)
	}
	if u := e.usage(t, l.ID, "2026-12"); u.ActiveLearners != 1 {
		t.Fatalf("December active learners %d", u.ActiveLearners)
	}
	var dir UserByEmail
	if err := e.d.Store.GetConsistent(ctx, store.UserByEmailKey("active@acme.example"), &dir); err != nil || dir.UserID != user {
		t.Fatalf("directory %+v %v", dir, err)
	}
	if err := RecordEnrolment(ctx, e.d.Store, user, "course-1", e.clk.Now()); err != nil {
		t.Fatal(err)
	}
	if err := RecordEnrolment(ctx, e.d.Store, user, "course-1", e.clk.Now()); err != nil {
		t.Fatal(err)
	}
	if u := e.usage(t, l.ID, "2026-11"); u.Enrolments != 1 {
		t.Fatalf("enrolments %d", u.Enrolments)
	}
}
