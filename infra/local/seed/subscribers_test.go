package seed

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"
)

// event is what these tests read of a built Stripe event.
type event struct {
	ID   string `json:"id"`
	Type string `json:"type"`
	Data struct {
		Object struct {
			ID                 string            `json:"id"`
			AmountPaid         int64             `json:"amount_paid"`
			BillingReason      string            `json:"billing_reason"`
			CurrentPeriodStart int64             `json:"current_period_start"`
			CurrentPeriodEnd   int64             `json:"current_period_end"`
			Status             string            `json:"status"`
			Metadata           map[string]string `json:"metadata"`
		} `json:"object"`
	} `json:"data"`
}

func decode(t *testing.T, payloads [][]byte) []event {
	t.Helper()
	var out []event
	for _, p := range payloads {
		var e event
		if err := json.Unmarshal(p, &e); err != nil {
			t.Fatal(err)
		}
		out = append(out, e)
	}
	return out
}

// A subscriber's first events are the same on every run of a day (fixed ids: the webhook drops a
// second run's), a live subscription of its tier whose period is current, and its invoice paid
// at the tier's price; the subscribers started before and inside the metrics' 30-day window.
func TestSubscribeEventsAreFixedAndCurrent(t *testing.T) {
	now := time.Date(2026, 12, 7, 6, 0, 0, 0, time.UTC)
	before, inside, enterprise := 0, 0, 0
	for n := 1; n <= Subscribers; n++ {
		a, err := subscribeEvents(now, n)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := subscribeEvents(now.Add(3*time.Hour), n)
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("%s: two runs on one day send different events", subscriberID(n))
		}
		ev := decode(t, a)
		price := map[string]int64{"pro": proPriceCents, "enterprise": enterprisePriceCents}[subscriberTier(n)]
		sub, inv := ev[0], ev[1]
		if sub.Type != "customer.subscription.created" || sub.ID != "evt_seed_subscribed_"+subscriberID(n) ||
			sub.Data.Object.Status != "active" || sub.Data.Object.Metadata["userId"] != subscriberID(n) ||
			sub.Data.Object.Metadata["tier"] != subscriberTier(n) {
			t.Fatalf("%s: subscription event %+v", subscriberID(n), sub)
		}
		if inv.Type != "invoice.paid" || inv.Data.Object.AmountPaid != price || inv.ID == sub.ID {
			t.Fatalf("%s: invoice event %+v, want %d paid", subscriberID(n), inv, price)
		}
		start := time.Unix(sub.Data.Object.CurrentPeriodStart, 0)
		if start.After(now) || !start.After(now.AddDate(0, 0, -60)) {
			t.Fatalf("%s: started %s", subscriberID(n), start)
		}
		if start.Before(now.AddDate(0, 0, -30)) {
			before++
		} else {
			inside++
		}
		if subscriberTier(n) == "enterprise" {
			enterprise++
		}
	}
	if before == 0 || inside == 0 || enterprise == 0 || enterprise == Subscribers {
		t.Fatalf("%d started before the window, %d inside; %d on enterprise", before, inside, enterprise)
	}
}

// A renewal moves the period a month on from the end the API has and pays the cycle's invoice; its
// ids name that period, so each renewal is sent once whichever run sends it.
func TestRenewalEventsFollowThePeriod(t *testing.T) {
	end := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	ev := decode(t, must(renewalEvents(6, end)))
	upd, inv := ev[0], ev[1]
	if upd.Type != "customer.subscription.updated" || upd.Data.Object.CurrentPeriodStart != end.Unix() ||
		upd.Data.Object.CurrentPeriodEnd != end.AddDate(0, 1, 0).Unix() || upd.ID != "evt_seed_renewed_seed-subscriber-06_20261201" {
		t.Fatalf("renewal %+v", upd)
	}
	if inv.Type != "invoice.paid" || inv.Data.Object.BillingReason != "subscription_cycle" || inv.Data.Object.AmountPaid != enterprisePriceCents ||
		inv.Data.Object.ID != "in_seed_seed-subscriber-06_20261201" {
		t.Fatalf("renewal invoice %+v", inv)
	}
	next := decode(t, must(renewalEvents(6, end.AddDate(0, 1, 0))))
	if next[0].ID == upd.ID || next[1].Data.Object.ID == inv.Data.Object.ID {
		t.Fatal("the next renewal reuses this one's ids")
	}
}

func must(b [][]byte, err error) [][]byte {
	if err != nil {
		panic(err)
	}
	return b
}
