package billing

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v76"

	"github.com/liberation/monetization/infra/local/stripeevents"
	"github.com/liberation/monetization/shared/apperr"
)

// The job leaves alone what Stripe's answer does not let it decide: a subscription Stripe says is
// someone else's (or another one), and a state with no price of ours. Nothing is stored, expired or
// audited for them; the counts say why.
func TestCycleLeavesWhatStripeDoesNotSettle(t *testing.T) {
	w := newWorld(t)
	end := t0.AddDate(0, 0, 20)
	users := []string{"u-elsewhere", "u-other-id", "u-no-price"}
	for _, u := range users {
		subscribed(t, w, u, TierPro, end)
	}
	elsewhere := stripeSub(t, stripeevents.CustomerSubscriptionUpdated, stripeevents.Options{UserID: "u-elsewhere", Created: end})
	elsewhere.Metadata = map[string]string{"userId": "someone-else"}
	w.stripe.setSub(elsewhere)
	otherID := stripeSub(t, stripeevents.CustomerSubscriptionUpdated, stripeevents.Options{UserID: "u-other-id", Created: end})
	otherID.ID = "sub_not_this_one"
	w.stripe.subs[stripeevents.SubscriptionIDFor("u-other-id")] = otherID
	noPrice := stripeSub(t, stripeevents.CustomerSubscriptionUpdated, stripeevents.Options{UserID: "u-no-price", Created: end})
	noPrice.Items.Data[0].Price = &stripe.Price{ID: "price_not_ours"}
	w.stripe.setSub(noPrice)
	before := map[string]Subscription{}
	for _, u := range users {
		before[u] = w.repo.sub(u)
	}
	audits := len(w.repo.auditActions())

	w.clock.Set(end.Add(time.Hour)) // due: the period has ended
	rep := w.runJob(t)
	if rep.Checked != 3 || rep.ReconcileSkipped != 3 || rep.Reconciled != 0 || rep.Expired != 0 || rep.SkippedUnreachable != 0 {
		t.Fatalf("report %+v", rep)
	}
	for u, b := range before {
		if a := w.repo.sub(u); a != b {
			t.Fatalf("%s changed:\n%+v\n%+v", u, b, a)
		}
	}
	if n := len(w.repo.auditActions()); n != audits {
		t.Fatalf("audits %d → %d", audits, n)
	}
}

// Other-subscription records the job cannot settle stay open for the next run; one that has become
// the stored subscription is closed as such.
func TestCycleOtherSubscriptionsLeftOpen(t *testing.T) {
	ctx := context.Background()
	down := apperr.Wrap(errors.New("timeout"), apperr.Unavailable, "reading the subscription failed")
	for name, c := range map[string]struct {
		setup       func(w *world, stored, other string)
		resolution  string
		unreachable int
		skipped     int
	}{
		"OtherUnreachable": {setup: func(w *world, stored, other string) {
			w.stripe.fail["GetSubscription:"+other] = down
		}, unreachable: 1},
		"OtherNotOurs": {setup: func(w *world, stored, other string) {
			s := stripeSub(t, stripeevents.CustomerSubscriptionCreated, stripeevents.Options{UserID: "u-o", SubscriptionID: other, Created: t0})
			s.Items.Data[0].Price = &stripe.Price{ID: "price_not_ours"}
			w.stripe.setSub(s)
		}, skipped: 1},
		"StoredUnreachable": {setup: func(w *world, stored, other string) {
			w.stripe.setSub(stripeSub(t, stripeevents.CustomerSubscriptionCreated, stripeevents.Options{UserID: "u-o", SubscriptionID: other, Created: t0}))
			w.stripe.fail["GetSubscription:"+stored] = down
		}, unreachable: 1},
		"BecameTheStoredOne": {setup: func(w *world, stored, other string) {
			if err := w.repo.RecordOtherSubscription(ctx, "u-o", stored, StatusActive, t0); err != nil {
				t.Fatal(err)
			}
			w.stripe.fail["GetSubscription:"+other] = down
		}, resolution: "stored", unreachable: 1},
	} {
		t.Run(name, func(t *testing.T) {
			w := newWorld(t)
			w.mustDeliver(t, stripeevents.CustomerSubscriptionCreated, stripeevents.Options{UserID: "u-o", SubscriptionID: "sub_a", Created: t0})
			w.mustDeliver(t, stripeevents.CustomerSubscriptionCreated, stripeevents.Options{UserID: "u-o", SubscriptionID: "sub_b", Created: t0})
			c.setup(w, "sub_a", "sub_b")
			stored := w.repo.sub("u-o")
			rep := w.runJob(t)
			if rep.SkippedUnreachable != c.unreachable || rep.ReconcileSkipped != c.skipped || rep.Adopted != 0 || rep.DuplicateLive != 0 {
				t.Fatalf("report %+v", rep)
			}
			if o := w.repo.others["u-o#sub_b"]; o.Resolution != "" {
				t.Fatalf("the record was closed: %+v", o)
			}
			if o := w.repo.others["u-o#sub_a"]; o.Resolution != c.resolution {
				t.Fatalf("the stored one's record %+v, want %q", o, c.resolution)
			}
			if s := w.repo.sub("u-o"); s != stored {
				t.Fatalf("stored changed:\n%+v\n%+v", stored, s)
			}
		})
	}
}
