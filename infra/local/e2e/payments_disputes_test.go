//go:build integration

package e2e

import (
	"fmt"
	"testing"
	"time"

	"github.com/liberation/monetization/infra/local/stripeevents"
)

// Dispute events for two payments — one lost, one won — delivered shuffled and twice each: the
// disputed amount and each outcome are counted exactly once, the lost payment is marked and can no
// longer be refunded, the won one is marked won.
func TestDisputeLostAndWonAccounting(t *testing.T) {
	lost := startPayStand(t, 4000, false)
	h := lost.h
	wonUser := "won-" + lost.user
	wonOpts := stripeevents.Options{UserID: wonUser, Email: wonUser + "@example.com", AmountCents: 1500,
		InvoiceID: "in_" + wonUser, ChargeID: "ch_" + wonUser, PaymentIntentID: "pi_" + wonUser}
	post(t, h, stripeevents.MustBuild(stripeevents.InvoicePaid, wonOpts))
	before := counters(t, h, time.Now())

	events := func(o stripeevents.Options, closeStatus string) [][]byte {
		o.DisputeID = "dp_" + o.UserID
		var out [][]byte
		for i, typ := range []string{stripeevents.ChargeDisputeCreated, stripeevents.ChargeDisputeFundsWithdrawn,
			stripeevents.ChargeDisputeUpdated, stripeevents.ChargeDisputeClosed} {
			e := o
			e.EventID = fmt.Sprintf("evt_%s_%d", o.UserID, i)
			if typ == stripeevents.ChargeDisputeClosed {
				e.Status = closeStatus
			}
			out = append(out, stripeevents.MustBuild(typ, e))
		}
		if closeStatus == "won" {
			e := o
			e.EventID = "evt_reinstated_" + o.UserID
			out = append(out, stripeevents.MustBuild(stripeevents.ChargeDisputeFundsReinstate, e))
		}
		return out
	}
	lostEvents := events(lost.o, "lost")
	wonEvents := events(wonOpts, "won")
	// Closing first, the opening last, the others in between; every event twice.
	for _, evs := range [][]byte{lostEvents[3], wonEvents[4], wonEvents[3], lostEvents[1], wonEvents[0], lostEvents[2],
		wonEvents[1], lostEvents[0], wonEvents[2]} {
		post(t, h, evs)
		post(t, h, evs)
	}

	c := counters(t, h, time.Now())
	if got := [3]int64{c.DisputedCents - before.DisputedCents, c.DisputeLostCents - before.DisputeLostCents,
		c.DisputeWonCents - before.DisputeWonCents}; got != [3]int64{5500, 4000, 1500} {
		t.Fatalf("disputed/lost/won = %v, want 5500/4000/1500", got)
	}
	type view struct {
		Disputed      bool   `json:"disputed"`
		DisputeStatus string `json:"disputeStatus"`
	}
	if v := getJSON[view](t, h, "/payments/"+lost.payID, lost.tok); !v.Disputed || v.DisputeStatus != "lost" {
		t.Fatalf("lost payment %+v", v)
	}
	wonTok := h.Token(t, wonUser, wonOpts.Email)
	wonPays := payments(t, h, wonTok)
	if v := getJSON[view](t, h, "/payments/"+wonPays[0].ID, wonTok); !v.Disputed || v.DisputeStatus != "won" {
		t.Fatalf("won payment %+v", v)
	}
	// The lost money is gone: nothing is left to refund on that payment.
	if status, body := lost.refund(1, "k-after-loss"); status != 422 {
		t.Fatalf("refund after a lost dispute: %d %s, want 422", status, body)
	}
}
