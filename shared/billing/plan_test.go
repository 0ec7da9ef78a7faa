package billing

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v76"

	"github.com/liberation/monetization/infra/local/stripeevents"
	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/httpapi"
)

// The plan routes' remaining decisions on the fakes: what each answers, what it asks Stripe and
// what it stores (docs/decisions/0009).

type planRoutes struct{ change, cancel, resume httpapi.Lambda }

func (w *world) planRoutes() planRoutes {
	return planRoutes{change: HandleChangeSubscription(fn("change-subscription"), w.plan()),
		cancel: HandleCancelSubscription(fn("cancel-subscription"), w.plan()),
		resume: HandleResumeSubscription(fn("resume-subscription"), w.plan())}
}

// subscribed delivers a subscription of u on tier whose period ends at end; it returns its id.
func subscribed(t *testing.T, w *world, u, tier string, end time.Time) string {
	t.Helper()
	w.mustDeliver(t, stripeevents.CustomerSubscriptionCreated, stripeevents.Options{UserID: u, Tier: tier, Created: t0,
		PeriodStart: end.AddDate(0, -1, 0), PeriodEnd: end})
	return stripeevents.SubscriptionIDFor(u)
}

// wantAnswer fails unless the call answered status with a message starting with prefix.
func wantAnswer(t *testing.T, what string, code int, body map[string]any, status int, prefix string) {
	t.Helper()
	if code != status || !strings.HasPrefix(errMessage(body), prefix) {
		t.Fatalf("%s: %d %v, want %d %q", what, code, body, status, prefix)
	}
}

// "free" is a cancellation at the period end; asking again changes nothing, and a canceling
// subscription neither changes tier nor takes a downgrade until it is resumed.
func TestChangeToFreeCancelsAtThePeriodEnd(t *testing.T) {
	w := newWorld(t)
	const u = "u-free"
	end := t0.AddDate(0, 0, 20)
	sub := subscribed(t, w, u, TierPro, end)
	p := w.planRoutes()

	code, body := call(t, p.change, u, `{"tier":"free"}`, callOpts{})
	up := w.stripe.called("UpdateSubscription")
	if code != http.StatusOK || body["cancelAtPeriodEnd"] != true || body["tier"] != TierPro ||
		body["accessUntil"] != end.Format(time.RFC3339) || len(up) != 1 || up[0].ID != sub ||
		!*up[0].Params.(*stripe.SubscriptionParams).CancelAtPeriodEnd || !strings.HasPrefix(up[0].Key, "cancel-"+sub+"-free-v") {
		t.Fatalf("change to free: %d %v %+v", code, body, up)
	}
	if s := w.repo.sub(u); !s.CancelAtPeriodEnd || countActions(w.repo.auditActions(), "subscription.cancel") != 1 {
		t.Fatalf("stored %+v, audits %v", s, w.repo.auditActions())
	}
	calls := w.stripe.count()
	for _, h := range []httpapi.Lambda{p.cancel, p.change} {
		if code, body := call(t, h, u, `{"tier":"free"}`, callOpts{}); code != http.StatusOK || body["cancelAtPeriodEnd"] != true {
			t.Fatalf("canceling again: %d %v", code, body)
		}
	}
	code, body = call(t, p.change, u, `{"tier":"enterprise"}`, callOpts{})
	wantAnswer(t, "upgrade while canceling", code, body, http.StatusUnprocessableEntity, "the subscription is set to cancel; resume it first")
	code, body = call(t, p.change, u, `{"tier":"pro"}`, callOpts{})
	wantAnswer(t, "the same tier", code, body, http.StatusUnprocessableEntity, "you are on the Pro tier already")
	if w.stripe.count() != calls || countActions(w.repo.auditActions(), "subscription.cancel") != 1 {
		t.Fatalf("refused or repeated calls reached Stripe (%d → %d) or were audited", calls, w.stripe.count())
	}

	// Once the period is over, there is nothing left to change or cancel.
	w.clock.Set(end.Add(time.Hour))
	code, body = call(t, p.change, u, `{"tier":"free"}`, callOpts{})
	wantAnswer(t, "free after the end", code, body, http.StatusUnprocessableEntity, "you are on the Free tier already")
	code, body = call(t, p.cancel, u, "", callOpts{})
	wantAnswer(t, "cancel after the end", code, body, http.StatusUnprocessableEntity, "there is no active subscription to cancel")
}

// A pending downgrade is undone by asking for the current tier (the schedule released), replaced by
// an upgrade, and asking for it twice changes nothing.
func TestDowngradeScheduledAndUndone(t *testing.T) {
	w := newWorld(t)
	const u = "u-down"
	end := t0.AddDate(0, 0, 20)
	sub := subscribed(t, w, u, TierEnterprise, end)
	p := w.planRoutes()
	phaseStart := end.AddDate(0, -1, 1).Unix()
	w.stripe.schedules["sub_sched_1"] = &stripe.SubscriptionSchedule{ID: "sub_sched_1",
		CurrentPhase: &stripe.SubscriptionScheduleCurrentPhase{StartDate: phaseStart}}

	code, body := call(t, p.change, u, `{"tier":"pro"}`, callOpts{})
	if code != http.StatusOK || body["tier"] != TierEnterprise || body["pendingTier"] != TierPro {
		t.Fatalf("downgrade: %d %v", code, body)
	}
	created := w.stripe.called("CreateSchedule")
	if len(created) != 1 || *created[0].Params.(*stripe.SubscriptionScheduleParams).FromSubscription != sub ||
		!strings.HasPrefix(created[0].Key, "schedule-"+sub+"-pro-v") {
		t.Fatalf("schedule created %+v", created)
	}
	upd := w.stripe.called("UpdateSchedule")
	phases := upd[0].Params.(*stripe.SubscriptionScheduleParams).Phases
	if len(upd) != 1 || upd[0].ID != "sub_sched_1" || *phases[0].StartDate != phaseStart || *phases[0].EndDate != end.Unix() ||
		*phases[0].Items[0].Price != stripeevents.DefaultPriceEnterprise || *phases[1].Items[0].Price != stripeevents.DefaultPricePro ||
		*phases[1].ProrationBehavior != "none" {
		t.Fatalf("phases %+v", upd)
	}
	calls := w.stripe.count()
	if code, body := call(t, p.change, u, `{"tier":"pro"}`, callOpts{}); code != http.StatusOK || body["pendingTier"] != TierPro ||
		w.stripe.count() != calls {
		t.Fatalf("the same downgrade again: %d %v (Stripe calls %d → %d)", code, body, calls, w.stripe.count())
	}

	code, body = call(t, p.change, u, `{"tier":"enterprise"}`, callOpts{})
	rel := w.stripe.called("ReleaseSchedule")
	if code != http.StatusOK || body["pendingTier"] != nil || len(rel) != 1 || rel[0].ID != "sub_sched_1" ||
		!strings.HasPrefix(rel[0].Key, "release-"+sub+"-sub_sched_1-v") {
		t.Fatalf("undo: %d %v %+v", code, body, rel)
	}
	if s := w.repo.sub(u); s.PendingTier != "" || s.ScheduleID != "" || s.PlanTier != TierEnterprise ||
		countActions(w.repo.auditActions(), "subscription.downgrade_undone") != 1 {
		t.Fatalf("after undo %+v %v", s, w.repo.auditActions())
	}
	code, body = call(t, p.change, u, `{"tier":"enterprise"}`, callOpts{})
	wantAnswer(t, "the same tier", code, body, http.StatusUnprocessableEntity, "you are on the Enterprise tier already")
}

// A schedule already attached (without a pending tier on file) is read, not created; its first
// phase's start is kept, else the month before the period end.
func TestDowngradeOverAnExistingSchedule(t *testing.T) {
	end := t0.AddDate(0, 0, 20)
	for name, c := range map[string]struct {
		sched *stripe.SubscriptionSchedule
		start int64
	}{
		"FirstPhase": {&stripe.SubscriptionSchedule{ID: "sub_sched_x", Phases: []*stripe.SubscriptionSchedulePhase{{StartDate: 1700000000}}}, 1700000000},
		"NoPhases":   {&stripe.SubscriptionSchedule{ID: "sub_sched_x"}, end.AddDate(0, -1, 0).Unix()},
	} {
		t.Run(name, func(t *testing.T) {
			w := newWorld(t)
			const u = "u-sched"
			subscribed(t, w, u, TierEnterprise, end)
			s := w.repo.sub(u)
			s.ScheduleID = "sub_sched_x"
			w.repo.put(s)
			w.stripe.schedules["sub_sched_x"] = c.sched
			if code, body := call(t, w.planRoutes().change, u, `{"tier":"pro"}`, callOpts{}); code != http.StatusOK || body["pendingTier"] != TierPro {
				t.Fatalf("%d %v", code, body)
			}
			upd := w.stripe.called("UpdateSchedule")
			if len(w.stripe.called("GetSchedule")) != 1 || len(w.stripe.called("CreateSchedule")) != 0 || len(upd) != 1 ||
				upd[0].ID != "sub_sched_x" || *upd[0].Params.(*stripe.SubscriptionScheduleParams).Phases[0].StartDate != c.start {
				t.Fatalf("Stripe calls %+v", w.stripe.calls)
			}
			if s := w.repo.sub(u); s.ScheduleID != "sub_sched_x" || s.PendingTier != TierPro {
				t.Fatalf("stored %+v", s)
			}
		})
	}
}

// An item id not on file is read from Stripe before the upgrade (none there: 422), a pending
// downgrade's schedule is released first, and the stored item follows.
func TestUpgradeFindsTheItemAndReleasesADowngrade(t *testing.T) {
	w := newWorld(t)
	const u = "u-up"
	end := t0.AddDate(0, 0, 20)
	sub := subscribed(t, w, u, TierPro, end)
	s := w.repo.sub(u)
	s.StripeItemID, s.ScheduleID, s.PendingTier = "", "sub_sched_old", ""
	w.repo.put(s)
	change := w.planRoutes().change

	w.stripe.setSub(&stripe.Subscription{ID: sub})
	code, body := call(t, change, u, `{"tier":"enterprise"}`, callOpts{})
	wantAnswer(t, "no item", code, body, http.StatusUnprocessableEntity, "the subscription has no item to change")
	if len(w.stripe.called("UpdateSubscription")) != 0 {
		t.Fatal("updated without an item")
	}
	w.stripe.setSub(&stripe.Subscription{ID: sub, Items: &stripe.SubscriptionItemList{Data: []*stripe.SubscriptionItem{{ID: "si_read"}}}})
	code, body = call(t, change, u, `{"tier":"enterprise"}`, callOpts{})
	up := w.stripe.called("UpdateSubscription")
	if code != http.StatusOK || body["tier"] != TierEnterprise || len(up) != 1 ||
		*up[0].Params.(*stripe.SubscriptionParams).Items[0].ID != "si_read" {
		t.Fatalf("upgrade: %d %v %+v", code, body, up)
	}
	if rel := w.stripe.called("ReleaseSchedule"); len(rel) != 2 || rel[1].ID != "sub_sched_old" {
		t.Fatalf("releases %+v", rel)
	}
	if s := w.repo.sub(u); s.StripeItemID != "si_read" || s.PlanTier != TierEnterprise || s.ScheduleID != "" ||
		s.PriceID != stripeevents.DefaultPriceEnterprise {
		t.Fatalf("stored %+v", s)
	}
}

// What Stripe refuses is the answer, and nothing is stored or audited.
func TestPlanChangesStripeRefuses(t *testing.T) {
	declined := apperr.New(apperr.Unprocessable, "the change was refused by the payment provider (card_declined)")
	down := apperr.Wrap(errors.New("timeout"), apperr.Unavailable, "the payment provider is unavailable")
	for name, c := range map[string]struct {
		fail   string
		err    error
		route  func(planRoutes) httpapi.Lambda
		body   string
		status int
		setup  func(w *world, u string)
	}{
		"UpgradeDeclined":      {"UpdateSubscription", declined, func(p planRoutes) httpapi.Lambda { return p.change }, `{"tier":"enterprise"}`, 422, nil},
		"ItemReadFails":        {"GetSubscription", down, func(p planRoutes) httpapi.Lambda { return p.change }, `{"tier":"enterprise"}`, 503, noItem},
		"ReleaseFails":         {"ReleaseSchedule", down, func(p planRoutes) httpapi.Lambda { return p.change }, `{"tier":"enterprise"}`, 503, withSchedule},
		"ScheduleFails":        {"CreateSchedule", down, func(p planRoutes) httpapi.Lambda { return p.change }, `{"tier":"pro"}`, 503, enterprise},
		"SchedulePhasesFail":   {"UpdateSchedule", down, func(p planRoutes) httpapi.Lambda { return p.change }, `{"tier":"pro"}`, 503, enterprise},
		"ScheduleReadFails":    {"GetSchedule", down, func(p planRoutes) httpapi.Lambda { return p.change }, `{"tier":"pro"}`, 503, enterpriseWithSchedule},
		"CancelFails":          {"UpdateSubscription", down, func(p planRoutes) httpapi.Lambda { return p.cancel }, "", 503, nil},
		"CancelReleaseFails":   {"ReleaseSchedule", down, func(p planRoutes) httpapi.Lambda { return p.cancel }, "", 503, withSchedule},
		"UndoReleaseFails":     {"ReleaseSchedule", down, func(p planRoutes) httpapi.Lambda { return p.change }, `{"tier":"pro"}`, 503, pendingDowngrade},
		"ResumeFails":          {"UpdateSubscription", down, func(p planRoutes) httpapi.Lambda { return p.resume }, "", 503, canceling},
		"ResumeDeclined":       {"UpdateSubscription", declined, func(p planRoutes) httpapi.Lambda { return p.resume }, "", 422, canceling},
		"UnknownTier":          {"", nil, func(p planRoutes) httpapi.Lambda { return p.change }, `{"tier":"gold"}`, 400, nil},
		"NoSubscriptionChange": {"", nil, func(p planRoutes) httpapi.Lambda { return p.change }, `{"tier":"pro"}`, 422, ended},
	} {
		t.Run(name, func(t *testing.T) {
			w := newWorld(t)
			const u = "u-refused"
			subscribed(t, w, u, TierPro, t0.AddDate(0, 0, 20))
			if c.setup != nil {
				c.setup(w, u)
			}
			before, audits := w.repo.sub(u), len(w.repo.auditActions())
			if c.fail != "" {
				w.stripe.fail[c.fail] = c.err
			}
			if code, body := call(t, c.route(w.planRoutes()), u, c.body, callOpts{}); code != c.status {
				t.Fatalf("%d %v, want %d", code, body, c.status)
			}
			if after := w.repo.sub(u); after != before || len(w.repo.auditActions()) != audits {
				t.Fatalf("stored %+v → %+v, audits %d → %d", before, after, audits, len(w.repo.auditActions()))
			}
		})
	}
}

func edit(w *world, u string, f func(*Subscription)) {
	s := w.repo.sub(u)
	f(&s)
	w.repo.put(s)
}

func noItem(w *world, u string) { edit(w, u, func(s *Subscription) { s.StripeItemID = "" }) }
func withSchedule(w *world, u string) {
	edit(w, u, func(s *Subscription) { s.ScheduleID = "sub_sched_old" })
}
func enterprise(w *world, u string) {
	edit(w, u, func(s *Subscription) {
		s.Tier, s.PlanTier, s.PriceID = TierEnterprise, TierEnterprise, stripeevents.DefaultPriceEnterprise
	})
}
func enterpriseWithSchedule(w *world, u string) { enterprise(w, u); withSchedule(w, u) }
func pendingDowngrade(w *world, u string) {
	edit(w, u, func(s *Subscription) { s.ScheduleID, s.PendingTier = "sub_sched_old", TierFree })
}
func canceling(w *world, u string) {
	edit(w, u, func(s *Subscription) { s.CancelAtPeriodEnd = true })
}
func ended(w *world, u string) {
	edit(w, u, func(s *Subscription) { s.Status, s.Tier = StatusCanceled, TierFree })
}

// Resume undoes a pending cancellation only; an ended or lapsed subscription is not resumed.
func TestResumeDecisions(t *testing.T) {
	w := newWorld(t)
	end := t0.AddDate(0, 0, 20)
	resume := w.planRoutes().resume
	subscribed(t, w, "u-live", TierPro, end)
	code, body := call(t, resume, "u-live", "", callOpts{})
	wantAnswer(t, "nothing to resume", code, body, http.StatusUnprocessableEntity, "there is no pending cancellation to resume")
	code, body = call(t, resume, "u-none", "", callOpts{})
	wantAnswer(t, "no subscription", code, body, http.StatusUnprocessableEntity, "there is no pending cancellation to resume")

	subscribed(t, w, "u-ended", TierPro, end)
	ended(w, "u-ended")
	code, body = call(t, resume, "u-ended", "", callOpts{})
	wantAnswer(t, "ended", code, body, http.StatusUnprocessableEntity, "the subscription has ended; start a new one")

	subscribed(t, w, "u-lapsed", TierPro, end)
	canceling(w, "u-lapsed")
	w.clock.Set(end.Add(time.Minute))
	code, body = call(t, resume, "u-lapsed", "", callOpts{})
	wantAnswer(t, "past its end", code, body, http.StatusUnprocessableEntity, "the subscription has ended; start a new one")
	if n := len(w.stripe.called("UpdateSubscription")); n != 0 {
		t.Fatalf("refused resumes called Stripe %d times", n)
	}
}

// A change whose subscription is replaced meanwhile (another Stripe subscription stored between
// the read and the write) is a 409, not a write over the new one. (The answer is the retry loop's
// "too many concurrent changes": store.LostRace retries patch's own Conflict until the bound.)
func TestPlanChangeOverAReplacedSubscription(t *testing.T) {
	w := newWorld(t)
	const u = "u-race"
	subscribed(t, w, u, TierPro, t0.AddDate(0, 0, 20))
	replaced := false
	w.repo.beforeWrite = func(userID string) {
		if userID == u && !replaced {
			replaced = true
			edit(w, u, func(s *Subscription) { s.StripeSubscriptionID, s.Version = "sub_new", s.Version+1 })
		}
	}
	code, body := call(t, w.planRoutes().cancel, u, "", callOpts{})
	if code != http.StatusConflict {
		t.Fatalf("replaced: %d %v", code, body)
	}
	if s := w.repo.sub(u); s.StripeSubscriptionID != "sub_new" || s.CancelAtPeriodEnd || s.Version != 2 ||
		countActions(w.repo.auditActions(), "subscription.cancel") != 0 {
		t.Fatalf("stored %+v, audits %v", s, w.repo.auditActions())
	}
}

// POST /subscription/portal: a session for the caller's own customer, returning to the web app.
func TestPortalSession(t *testing.T) {
	w := newWorld(t)
	h := HandleCreatePortalSession(fn("create-portal-session"), portalDeps{customers: w.repo, stripe: w.stripe, settings: testSettings})
	const body = `{"returnUrl":"https://app.example.com/account"}`
	code, out := call(t, h, "u-new", body, callOpts{})
	wantAnswer(t, "no customer", code, out, http.StatusUnprocessableEntity, "there is no billing account yet; subscribe first")
	code, out = call(t, h, "u-new", `{"returnUrl":"https://evil.example/account"}`, callOpts{})
	wantAnswer(t, "off origin", code, out, http.StatusBadRequest, "returnUrl must be on the web app's origin")
	if w.stripe.count() != 0 {
		t.Fatal("refused portal sessions called Stripe")
	}
	if _, err := w.repo.LinkStripeCustomer(t.Context(), "u-p", "p@example.com", "cus_p"); err != nil {
		t.Fatal(err)
	}
	code, out = call(t, h, "u-p", body, callOpts{})
	ps := w.stripe.called("CreatePortalSession")
	if code != http.StatusOK || out["url"] != "https://billing.stripe.com/p/session/test" || len(ps) != 1 ||
		*ps[0].Params.(*stripe.BillingPortalSessionParams).Customer != "cus_p" ||
		*ps[0].Params.(*stripe.BillingPortalSessionParams).ReturnURL != "https://app.example.com/account" ||
		!strings.HasPrefix(ps[0].Key, "portal-") {
		t.Fatalf("%d %v %+v", code, out, ps)
	}
	w.stripe.fail["CreatePortalSession"] = apperr.Wrap(errors.New("timeout"), apperr.Unavailable, "the payment provider is unavailable")
	if code, out := call(t, h, "u-p", body, callOpts{}); code != http.StatusServiceUnavailable {
		t.Fatalf("Stripe down: %d %v", code, out)
	}
}

// Checkout: a tier without a configured price is a configuration error (500), and Stripe's
// failures are the answer.
func TestCheckoutFailures(t *testing.T) {
	noPrice := testSettings
	noPrice.Prices.Enterprise = ""
	w := newWorld(t)
	code, body := call(t, w.checkout(noPrice), "u-c", `{"tier":"enterprise","successUrl":"https://app.example.com/ok","cancelUrl":"https://app.example.com/no"}`, callOpts{})
	if code != http.StatusInternalServerError || w.stripe.count() != 0 {
		t.Fatalf("no price: %d %v", code, body)
	}
	down := apperr.Wrap(errors.New("timeout"), apperr.Unavailable, "the payment provider is unavailable")
	for _, method := range []string{"CreateCustomer", "CreateCheckoutSession"} {
		w := newWorld(t)
		w.stripe.fail[method] = down
		if code, body := call(t, w.checkout(testSettings), "u-c", checkoutBody, callOpts{}); code != http.StatusServiceUnavailable {
			t.Fatalf("%s fails: %d %v", method, code, body)
		}
		if countActions(w.repo.auditActions(), "subscription.checkout") != 0 {
			t.Fatalf("%s fails: audited %v", method, w.repo.auditActions())
		}
	}
}
