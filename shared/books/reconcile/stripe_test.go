package reconcile

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v76"

	"github.com/liberation/monetization/infra/local/stripestate"
	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/clock"
	"github.com/liberation/monetization/shared/stripeapi"
)

// The Stripe port against the local Stripe that remembers (its upstream a stub: every call here is
// one it answers itself): the day's balance transactions, paged, with the fee, and the ids a
// charge (its PaymentIntent) and a transfer (our payout id, its group) carry — from the expanded
// sources, as Stripe answers expand[]=data.source, and read on their own from a Stripe that
// leaves them unexpanded (the stand-in behind a proxy that drops expand).
func TestStripePortListsTheDay(t *testing.T) {
	t.Run("expanded", func(t *testing.T) { testStripePortListsTheDay(t, true) })
	t.Run("read on their own", func(t *testing.T) { testStripePortListsTheDay(t, false) })
}

func testStripePortListsTheDay(t *testing.T, expand bool) {
	stub := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, `{"error":{"type":"invalid_request_error","message":"not stubbed"}}`, http.StatusNotFound)
	}))
	t.Cleanup(stub.Close)
	clk := clock.NewFake(day0.Add(-time.Hour)) // one charge the day before
	st, base := stripestate.Start(t, stripestate.Config{StripeMock: stub.URL, Clock: clk})
	var reads atomic.Int64 // charges and transfers read one by one
	if !expand {
		noExpand := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			q := r.URL.Query()
			for k := range q {
				if strings.HasPrefix(k, "expand") {
					q.Del(k)
				}
			}
			r.URL.RawQuery = q.Encode()
			if r.Method == http.MethodGet && (strings.HasPrefix(r.URL.Path, "/v1/charges/") || strings.HasPrefix(r.URL.Path, "/v1/transfers/")) {
				reads.Add(1)
			}
			st.ServeHTTP(w, r)
		}))
		t.Cleanup(noExpand.Close)
		base = noExpand.URL
	}
	c := stripeapi.New("sk_test_reconcile", base, 30*time.Second)
	api, err := c.API(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	charge := func(amount int64) *stripe.Charge {
		p := &stripe.ChargeParams{Amount: stripe.Int64(amount), Currency: stripe.String("usd")}
		p.Context = t.Context()
		ch, err := api.Charges.New(p)
		if err != nil {
			t.Fatal(err)
		}
		return ch
	}
	charge(100)
	clk.Set(day0.Add(time.Hour))
	var want []string
	for i := 0; i < pageSize+3; i++ { // more than one page
		want = append(want, charge(1000+int64(i)).PaymentIntent.ID)
	}
	tp := &stripe.TransferParams{Amount: stripe.Int64(7000), Currency: stripe.String("usd"), Destination: stripe.String("acct_1"),
		TransferGroup: stripe.String("po_2026-10_ins_1")}
	tp.AddMetadata("payoutId", "po_2026-10_ins_1")
	tp.Context = t.Context()
	if _, err := api.Transfers.New(tp); err != nil {
		t.Fatal(err)
	}
	clk.Set(day0.AddDate(0, 0, 1)) // one the next day
	charge(200)

	got, err := NewStripePort(c).BalanceTransactions(t.Context(), day0, day0.AddDate(0, 0, 1))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != pageSize+4 {
		t.Fatalf("%d transactions, want %d", len(got), pageSize+4)
	}
	var pis []string
	var transfers int
	for _, x := range got {
		switch x.Type {
		case "charge":
			if x.Fee != (x.Amount*290+5000)/10000+30 || x.Currency != "usd" || x.Created.Before(day0) || len(x.Refs) == 0 {
				t.Fatalf("charge %+v", x)
			}
			pis = append(pis, x.Refs[0])
		case "transfer":
			transfers++
			if x.Amount != -7000 || !slices.Contains(x.Refs, "po_2026-10_ins_1") {
				t.Fatalf("transfer %+v", x)
			}
		default:
			t.Fatalf("unexpected %+v", x)
		}
	}
	slices.Sort(pis)
	slices.Sort(want)
	if !slices.Equal(pis, want) || transfers != 1 {
		t.Fatalf("PaymentIntents %v, want %v; %d transfers", pis, want, transfers)
	}
	// Expanded sources need no read of their own; unexpanded ones one each (the day's charges and
	// the transfer).
	if n := reads.Load(); expand && n != 0 || !expand && n != int64(len(got)) {
		t.Fatalf("%d charges and transfers read one by one (expand %v, %d transactions)", n, expand, len(got))
	}

	// Stripe refusing the list is an error the job fails on (and is retried the next day).
	bad := stripeapi.New("sk_test_reconcile", stub.URL, 30*time.Second)
	if _, err := NewStripePort(bad).BalanceTransactions(t.Context(), day0, day0.AddDate(0, 0, 1)); err == nil || apperr.CodeOf(err) == "" {
		t.Fatalf("a refused list: %v", err)
	}
}
