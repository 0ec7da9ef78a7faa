package billing

import (
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/liberation/monetization/infra/local/stripeevents"
	"github.com/liberation/monetization/shared/store"
	"github.com/liberation/monetization/shared/webhook"
)

// Billing's Stripe events through the real webhook frame (signature, dedupe, dispatch) with the
// in-memory repository: what used to be shared/webhook's billing tests.

func TestSubscriptionCreatedThenDuplicates(t *testing.T) {
	w := newWorld(t)
	payload := stripeevents.MustBuild(stripeevents.CustomerSubscriptionCreated, stripeevents.Options{EventID: "evt_dup", UserID: "u-dup", Created: t0})
	var outcomes []string
	for i := 0; i < 3; i++ {
		status, outcome := w.deliver(t, payload)
		if status != 200 {
			t.Fatalf("delivery %d: %d", i, status)
		}
		outcomes = append(outcomes, outcome)
	}
	if !slices.Equal(outcomes, []string{webhook.OutcomeApplied, "duplicate", "duplicate"}) {
		t.Fatalf("outcomes %v", outcomes)
	}
	s := w.repo.sub("u-dup")
	if s.Version != 1 || s.Tier != TierPro || s.PlanTier != TierPro || s.Status != StatusActive || !s.PayingSince.Equal(t0) {
		t.Fatalf("subscription %+v", s)
	}
	if got := w.repo.auditActions(); !slices.Equal(got, []string{"subscription.sync"}) {
		t.Fatalf("audits %v", got)
	}
	if g := w.repo.gaugeSnapshot(); !equalNonZero(g, map[string]int64{"payingCustomers": 1, "mrrCents": 999, "subs_pro": 1}) {
		t.Fatalf("gauges %v", g)
	}
	if c := w.repo.dayCounters(t0); !equalNonZero(c, map[string]int64{"newPaying": 1}) {
		t.Fatalf("day counters %v", c)
	}
}

// permutations returns every ordering of n indexes.
func permutations(n int) [][]int {
	if n == 1 {
		return [][]int{{0}}
	}
	var out [][]int
	for _, p := range permutations(n - 1) {
		for i := 0; i <= len(p); i++ {
			out = append(out, slices.Insert(slices.Clone(p), i, n-1))
		}
	}
	return out
}

// All 120 orders of created(incomplete) / updated(active, same second) / invoice.paid /
// updated(cancel at period end) / deleted, every third one delivered twice, end in one state, and
// the gauges net to zero.
func TestAnyArrivalOrderGivesTheSameState(t *testing.T) {
	w := newWorld(t)
	base := t0.Add(-4 * time.Minute)
	periodEnd := base.AddDate(0, 1, 0)
	build := func(user string) [][]byte {
		o := func(typ string, off time.Duration, mod func(*stripeevents.Options)) []byte {
			opts := stripeevents.Options{UserID: user, Created: base.Add(off), PeriodStart: base, PeriodEnd: periodEnd}
			if mod != nil {
				mod(&opts)
			}
			return stripeevents.MustBuild(typ, opts)
		}
		return [][]byte{
			o(stripeevents.CustomerSubscriptionCreated, 0, func(o *stripeevents.Options) { o.Status = "incomplete" }),
			o(stripeevents.CustomerSubscriptionUpdated, 0, nil), // same second as created: rank orders them
			o(stripeevents.InvoicePaid, 10*time.Second, nil),
			o(stripeevents.CustomerSubscriptionUpdated, 20*time.Second, func(o *stripeevents.Options) { o.CancelAtPeriodEnd = true }),
			o(stripeevents.CustomerSubscriptionDeleted, 30*time.Second, func(o *stripeevents.Options) { o.CancelAtPeriodEnd = true }),
		}
	}
	type final struct {
		tier, plan, status, price string
		cancel                    bool
		end, paid                 time.Time
	}
	perms := permutations(5)
	var first final
	for i, perm := range perms {
		user := fmt.Sprintf("u-perm-%03d", i)
		evs := build(user)
		for _, j := range perm {
			if status, outcome := w.deliver(t, evs[j]); status != 200 {
				t.Fatalf("perm %v event %d: %d %s", perm, j, status, outcome)
			}
		}
		if i%3 == 0 { // and again, as Stripe may redeliver
			for _, j := range perm {
				if status, outcome := w.deliver(t, evs[j]); status != 200 || outcome != "duplicate" {
					t.Fatalf("redelivery: %d %s", status, outcome)
				}
			}
		}
		s := w.repo.sub(user)
		got := final{s.Tier, s.PlanTier, s.Status, s.PriceID, s.CancelAtPeriodEnd, s.CurrentPeriodEnd, s.PaidThrough}
		if i == 0 {
			first = got
			if got.status != StatusCanceled || got.tier != TierFree || !got.paid.Equal(periodEnd) || !got.cancel {
				t.Fatalf("final state %+v", got)
			}
		}
		if got != first {
			t.Fatalf("perm %v: %+v, want %+v", perm, got, first)
		}
	}
	if g := w.repo.gaugeSnapshot(); len(g) != 0 {
		t.Fatalf("gauges must net to zero: %v", g)
	}
	c := w.repo.dayCounters(base)
	// Every subscription that became paying stopped paying the same day: all of them joined and
	// left inside any window.
	if c[store.CtrNewPaying] == 0 || c[store.CtrNewPaying] != c[store.CtrChurnedPaying] ||
		c[store.CtrChurnedJoinedPrefix+dayOf(base)] != c[store.CtrChurnedPaying] {
		t.Fatalf("day counters %v", c)
	}
}

func TestIncompleteAfterActiveInTheSameSecond(t *testing.T) {
	w := newWorld(t)
	w.mustDeliver(t, stripeevents.CustomerSubscriptionUpdated, stripeevents.Options{UserID: "u-inc", Created: t0})
	w.mustDeliver(t, stripeevents.CustomerSubscriptionCreated, stripeevents.Options{UserID: "u-inc", Created: t0, Status: "incomplete"})
	if s := w.repo.sub("u-inc"); s.Status != StatusActive || s.Tier != TierPro {
		t.Fatalf("late created(incomplete) overwrote active: %+v", s)
	}
}

// The rule: a past_due subscription keeps its tier until paid-through + grace, not until
// current_period_end (which Stripe moved a month ahead at the failed renewal).
func TestPastDueAccessEndsAtPaidThroughPlusGrace(t *testing.T) {
	w := newWorld(t)
	const u = "u-pd"
	start := t0.AddDate(0, -1, 0)
	w.mustDeliver(t, stripeevents.CustomerSubscriptionCreated, stripeevents.Options{UserID: u, Created: start, PeriodStart: start, PeriodEnd: t0})
	w.mustDeliver(t, stripeevents.InvoicePaid, stripeevents.Options{UserID: u, Created: start, PeriodStart: start, PeriodEnd: t0})
	// Renewal at t0: the period moves to [t0, t0+1 month), the charge fails.
	w.clock.Set(t0.Add(time.Hour))
	w.mustDeliver(t, stripeevents.CustomerSubscriptionUpdated, stripeevents.Options{UserID: u, Created: t0.Add(time.Hour),
		Status: "past_due", PeriodStart: t0, PeriodEnd: t0.AddDate(0, 1, 0)})

	s := w.repo.sub(u)
	graceEnd := t0.Add(testRules.Grace)
	if a := AccessAt(s, graceEnd.Add(-time.Second), testRules.Grace); a.Tier != TierPro || !a.AccessUntil.Equal(graceEnd) {
		t.Fatalf("past_due within grace: %+v", a)
	}
	if a := AccessAt(s, graceEnd, testRules.Grace); a.Tier != TierFree {
		t.Fatalf("past_due beyond paid-through + grace (period ends %v): %+v", s.CurrentPeriodEnd, a)
	}
	if s.Tier != TierPro || !s.ReviewAt.Equal(t0) {
		t.Fatalf("stored: tier %s reviewAt %v", s.Tier, s.ReviewAt)
	}
	if g := w.repo.gaugeSnapshot(); g[store.GaugePayingCustomers] != 1 {
		t.Fatalf("past_due within grace still counts as paying: %v", g)
	}

	// A late event after the grace ended writes the tier Free at once (the write applies the rule).
	w.clock.Set(graceEnd.Add(time.Hour))
	w.mustDeliver(t, stripeevents.CustomerSubscriptionUpdated, stripeevents.Options{UserID: u, Created: graceEnd,
		Status: "past_due", PeriodStart: t0, PeriodEnd: t0.AddDate(0, 1, 0), Metadata: map[string]string{"retry": "2"}})
	s = w.repo.sub(u)
	if s.Tier != TierFree || s.PlanTier != TierPro || s.Status != StatusPastDue {
		t.Fatalf("after the grace: %+v", s)
	}
	if g := w.repo.gaugeSnapshot(); len(g) != 0 {
		t.Fatalf("past_due beyond grace is not paying: %v", g)
	}
	if c := w.repo.dayCounters(graceEnd); c[store.CtrChurnedPaying] != 1 {
		t.Fatalf("the churn is counted on the day the grace ended: %v", c)
	}

	// The payment is recovered: Stripe says active again and the tier comes back.
	w.mustDeliver(t, stripeevents.InvoicePaid, stripeevents.Options{UserID: u, Created: graceEnd.Add(time.Hour), PeriodStart: t0, PeriodEnd: t0.AddDate(0, 1, 0)})
	w.mustDeliver(t, stripeevents.CustomerSubscriptionUpdated, stripeevents.Options{UserID: u, Created: graceEnd.Add(time.Hour),
		PeriodStart: t0, PeriodEnd: t0.AddDate(0, 1, 0)})
	if s := w.repo.sub(u); s.Tier != TierPro || s.Status != StatusActive || !s.PaidThrough.Equal(t0.AddDate(0, 1, 0)) {
		t.Fatalf("recovered: %+v", s)
	}
	if g := w.repo.gaugeSnapshot(); g[store.GaugePayingCustomers] != 1 || g[store.GaugeMRRCents] != 999 {
		t.Fatalf("recovered gauges: %v", g)
	}
}

func TestUnknownTypeAndUnknownUserStoreNothing(t *testing.T) {
	w := newWorld(t)
	unknown := stripeevents.MustBuild("customer.created", stripeevents.Options{EventID: "evt_unknown",
		Object: map[string]any{"id": "cus_x", "object": "customer"}})
	if status, outcome := w.deliver(t, unknown); status != 200 || outcome != webhook.OutcomeIgnored {
		t.Fatalf("%d %s", status, outcome)
	}
	if st := w.idem.Status(webhook.DedupeScope, "evt_unknown"); st != "" {
		t.Fatalf("unknown type stored a dedupe record: %s", st)
	}

	// A subscription event without metadata.userId for a customer we do not know.
	var ev map[string]any
	if err := json.Unmarshal(stripeevents.MustBuild(stripeevents.CustomerSubscriptionCreated,
		stripeevents.Options{EventID: "evt_nouser", UserID: "u-ghost", Created: t0}), &ev); err != nil {
		t.Fatal(err)
	}
	delete(ev["data"].(map[string]any)["object"].(map[string]any)["metadata"].(map[string]any), "userId")
	payload, _ := json.Marshal(ev)
	if status, outcome := w.deliver(t, payload); status != 200 || outcome != outcomeUnknownUser {
		t.Fatalf("%d %s", status, outcome)
	}
	if st := w.idem.Status(webhook.DedupeScope, "evt_nouser"); st != "" {
		t.Fatalf("unknown user stored a dedupe record: %s", st)
	}
	if s := w.repo.sub("u-ghost"); s.Exists() {
		t.Fatalf("unknown user got a subscription: %+v", s)
	}
	if g := w.repo.gaugeSnapshot(); len(g) != 0 {
		t.Fatalf("gauges changed: %v", g)
	}

	// A price of no tier of ours: "not ours", nothing stored.
	if status, outcome := w.deliver(t, stripeevents.MustBuild(stripeevents.CustomerSubscriptionCreated,
		stripeevents.Options{UserID: "u-other-price", PriceID: "price_someone_else", Created: t0})); status != 200 || outcome != outcomeNotOurs {
		t.Fatalf("%d %s", status, outcome)
	}

	// Once the customer is linked (checkout.session.completed), the same kind of event resolves.
	w.mustDeliver(t, stripeevents.CheckoutSessionCompleted, stripeevents.Options{UserID: "u-ghost", Created: t0})
	ev["id"] = "evt_nouser_2"
	payload, _ = json.Marshal(ev)
	if status, outcome := w.deliver(t, payload); status != 200 || outcome != webhook.OutcomeApplied {
		t.Fatalf("%d %s", status, outcome)
	}
	if s := w.repo.sub("u-ghost"); s.Tier != TierPro {
		t.Fatalf("resolved by customer: %+v", s)
	}
}

// One live subscription per user: events of a second live subscription do not overwrite the stored
// one; they are recorded for the billing-cycle job.
func TestSecondLiveSubscriptionIsRecordedNotStored(t *testing.T) {
	w := newWorld(t)
	const u = "u-two"
	w.mustDeliver(t, stripeevents.CustomerSubscriptionCreated, stripeevents.Options{UserID: u, SubscriptionID: "sub_a", Created: t0})
	w.mustDeliver(t, stripeevents.CustomerSubscriptionCreated, stripeevents.Options{UserID: u, SubscriptionID: "sub_b",
		Tier: "enterprise", Created: t0.Add(time.Minute)})
	if s := w.repo.sub(u); s.StripeSubscriptionID != "sub_a" || s.Tier != TierPro {
		t.Fatalf("the second live subscription overwrote the first: %+v", s)
	}
	o, ok := w.repo.others[u+"#sub_b"]
	if !ok || o.Status != StatusActive || !o.SeenAt.Equal(t0.Add(time.Minute)) {
		t.Fatalf("other subscription record %+v %v", o, ok)
	}
	if g := w.repo.gaugeSnapshot(); g[store.GaugeMRRCents] != 999 || g[store.GaugePayingCustomers] != 1 {
		t.Fatalf("gauges %v", g)
	}
	// Once the stored one has ended, the other one's next event is stored.
	w.mustDeliver(t, stripeevents.CustomerSubscriptionDeleted, stripeevents.Options{UserID: u, SubscriptionID: "sub_a", Created: t0.Add(2 * time.Minute)})
	w.mustDeliver(t, stripeevents.CustomerSubscriptionUpdated, stripeevents.Options{UserID: u, SubscriptionID: "sub_b",
		Tier: "enterprise", Created: t0.Add(time.Minute)}) // stamped before the deletion: a live one still replaces an ended one
	if s := w.repo.sub(u); s.StripeSubscriptionID != "sub_b" || s.Tier != TierEnterprise {
		t.Fatalf("after the first ended: %+v", s)
	}
}

// A terminal status we wrote ourselves (earlier versions of the job expired cancellations as
// "canceled") never blocks a later Stripe event for that subscription.
func TestOurOwnTerminalNeverBlocksStripe(t *testing.T) {
	w := newWorld(t)
	const u = "u-ours"
	w.mustDeliver(t, stripeevents.CustomerSubscriptionUpdated, stripeevents.Options{UserID: u, Created: t0, CancelAtPeriodEnd: true})
	s := w.repo.sub(u)
	s.Status, s.Tier = StatusCanceled, TierFree // as the old job's expiry wrote it, watermark untouched
	w.repo.put(s)
	w.mustDeliver(t, stripeevents.CustomerSubscriptionUpdated, stripeevents.Options{UserID: u, Created: t0.Add(time.Hour)}) // resumed in the portal
	if s := w.repo.sub(u); s.Status != StatusActive || s.Tier != TierPro || s.CancelAtPeriodEnd {
		t.Fatalf("Stripe's later state was blocked by our own terminal: %+v", s)
	}
	// A terminal status Stripe reported still blocks a late live state of the same subscription.
	w.mustDeliver(t, stripeevents.CustomerSubscriptionDeleted, stripeevents.Options{UserID: u, Created: t0.Add(2 * time.Hour)})
	w.mustDeliver(t, stripeevents.CustomerSubscriptionUpdated, stripeevents.Options{UserID: u, Created: t0.Add(3 * time.Hour)})
	if s := w.repo.sub(u); s.Status != StatusCanceled || s.Tier != TierFree {
		t.Fatalf("a canceled subscription came back: %+v", s)
	}
}

// A write that loses its race re-reads and lands exactly once (metric deltas included).
func TestLostRaceIsRetriedFromAFreshRead(t *testing.T) {
	w := newWorld(t)
	const u = "u-race"
	w.mustDeliver(t, stripeevents.CustomerSubscriptionCreated, stripeevents.Options{UserID: u, Created: t0})
	raced := false
	w.repo.beforeWrite = func(userID string) {
		if raced {
			return
		}
		raced = true
		s := w.repo.sub(userID) // another writer lands first: an upgrade
		s.Version++
		s.Tier, s.PlanTier = TierEnterprise, TierEnterprise
		w.repo.put(s)
		w.repo.gauges[store.GaugeMRRCents] += 9900 - 999
		w.repo.gauges["subs_pro"]--
		w.repo.gauges["subs_enterprise"]++
	}
	w.mustDeliver(t, stripeevents.CustomerSubscriptionDeleted, stripeevents.Options{UserID: u, Created: t0.Add(time.Minute)})
	if s := w.repo.sub(u); s.Status != StatusCanceled || s.Version != 3 {
		t.Fatalf("after the race: %+v", s)
	}
	// The retried write computed its deltas from the enterprise item it re-read: everything nets to 0.
	if g := w.repo.gaugeSnapshot(); len(g) != 0 {
		t.Fatalf("gauges %v", g)
	}
}
