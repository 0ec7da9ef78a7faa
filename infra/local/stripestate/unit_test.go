//go:build !integration

package stripestate

import (
	"encoding/json"
	"fmt"
	"io"
	"math/rand"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v76"
)

// stub stands in for stripe-mock in the unit tests: it answers every request with a fixture-like
// object naming the path, and records what reached it (so tests see what was proxied).
type stub struct {
	URL  string
	mu   sync.Mutex
	seen []string
}

func newStub(t testing.TB) *stub {
	sb := &stub{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		sb.mu.Lock()
		sb.seen = append(sb.seen, r.Method+" "+r.URL.Path+" "+string(body))
		sb.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		switch {
		case strings.HasPrefix(r.URL.Path, "/v1/customers"):
			fmt.Fprint(w, `{"id":"cus_fixture","object":"customer","metadata":{}}`)
		case strings.HasPrefix(r.URL.Path, "/v1/refunds"):
			fmt.Fprint(w, `{"id":"re_fixture","object":"refund","amount":100,"charge":"ch_fixture","metadata":{},"status":"succeeded"}`)
		default:
			fmt.Fprintf(w, `{"id":"x_fixture","object":"unknown","path":%q}`, r.URL.Path)
		}
	}))
	t.Cleanup(srv.Close)
	sb.URL = srv.URL
	return sb
}

func (sb *stub) requests() []string {
	sb.mu.Lock()
	defer sb.mu.Unlock()
	return append([]string(nil), sb.seen...)
}

func TestChargeRefundDay(t *testing.T)        { testChargeRefundDay(t, newStub(t).URL) }
func TestCheckoutObserved(t *testing.T)       { testCheckoutObserved(t, newStub(t).URL) }
func TestRefundFails(t *testing.T)            { testRefundFails(t, newStub(t).URL) }
func TestDisputes(t *testing.T)               { testDisputes(t, newStub(t).URL) }
func TestConnectMoney(t *testing.T)           { testConnectMoney(t, newStub(t).URL) }
func TestCouponsAndCredits(t *testing.T)      { testCouponsAndCredits(t, newStub(t).URL) }
func TestExpandedSources(t *testing.T)        { testExpandedSources(t, newStub(t).URL) }
func TestLostAnswer(t *testing.T)             { testLostAnswer(t, newStub(t).URL) }
func TestStripeFee(t *testing.T)              { testStripeFee(t, newStub(t).URL) }
func TestCreditAppliedToInvoice(t *testing.T) { testCreditAppliedToInvoice(t, newStub(t).URL) }

// Stripe's US card fee: 2.9 % rounded half up to the cent, plus 30 ¢.
func TestChargeFee(t *testing.T) {
	for amount, want := range map[int64]int64{50: 31, 100: 33, 999: 59, 1000: 59, 1999: 88, 2000: 88, 1724: 80, 1725: 80, 1742: 81, 9900: 317, 100000: 2930} {
		if got := (Pricing{}).ChargeFee(amount); got != want {
			t.Errorf("fee of %d: %d, want %d", amount, got, want)
		}
	}
	if got := (Pricing{PercentBasisPoints: 150, FixedCents: 25}).ChargeFee(1000); got != 40 {
		t.Errorf("custom pricing: %d, want 40", got)
	}
}

// What the stand-in does not know goes to stripe-mock unchanged: other endpoints, and a refund
// of a charge it never saw.
func TestUnknownIsProxied(t *testing.T) {
	sb := newStub(t)
	st := newStand(t, sb.URL)
	c, err := st.API.Customers.New(&stripe.CustomerParams{Email: stripe.String("a@example.com")})
	if err != nil || c.ID != "cus_fixture" {
		t.Fatalf("customer: %v %+v", err, c)
	}
	rf, err := st.API.Refunds.New(&stripe.RefundParams{Charge: stripe.String("ch_never_seen"), Amount: stripe.Int64(100)})
	if err != nil || rf.ID != "re_fixture" {
		t.Fatalf("refund of an unknown charge: %v %+v", err, rf)
	}
	seen := sb.requests()
	if len(seen) != 2 || !strings.HasPrefix(seen[0], "POST /v1/customers ") || !strings.Contains(seen[1], "charge=ch_never_seen") {
		t.Fatalf("proxied: %q", seen)
	}
	if evs := st.events(t); len(evs) != 0 {
		t.Fatalf("proxied requests sent events: %v", types(evs))
	}
}

// Bad list parameters are Stripe's 400s (or 404 for a cursor it does not know), not empty lists.
func TestListParameters(t *testing.T) {
	st := newStand(t, newStub(t).URL)
	for q, want := range map[string]int{
		"created[gte]=yesterday":             400,
		"limit=0":                            400,
		"limit=101":                          400,
		"starting_after=txn_nope":            404,
		"starting_after=a&ending_before=b":   400,
		"created[gte]=0&created[lt]=9":       200,
		"type=charge&limit=100&currency=usd": 200,
	} {
		res, err := http.Get(st.URL + "/v1/balance_transactions?" + q)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != want {
			t.Errorf("%s: %d, want %d", q, res.StatusCode, want)
		}
	}
}

// ending_before walks back: the page before the oldest element is the rest, newest first.
func TestEndingBefore(t *testing.T) {
	st := newStand(t, newStub(t).URL)
	for i := range 5 {
		if _, err := st.API.Charges.New(&stripe.ChargeParams{Amount: stripe.Int64(int64(100 + i)), Currency: stripe.String("usd")}); err != nil {
			t.Fatal(err)
		}
		st.Clock.Advance(time.Second)
	}
	all := dayTxs(t, st.API, day, 10)
	// Raw: stripe-go's iterator reverses an ending_before page to walk backwards.
	res, err := http.Get(st.URL + "/v1/balance_transactions?limit=2&ending_before=" + all[4].ID)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var page stripe.BalanceTransactionList
	if err := json.NewDecoder(res.Body).Decode(&page); err != nil {
		t.Fatal(err)
	}
	if len(page.Data) != 2 || page.Data[0].ID != all[2].ID || page.Data[1].ID != all[3].ID || !page.HasMore {
		t.Fatalf("ending_before %s: %+v (all %s %s %s %s %s)", all[4].ID, page, all[0].ID, all[1].ID, all[2].ID, all[3].ID, all[4].ID)
	}
}

// A webhook that answers 500 gets the event again (the same event id), as Stripe retries.
func TestWebhookRetried(t *testing.T) {
	st := newStand(t, newStub(t).URL)
	st.Hooks.mu.Lock()
	st.Hooks.fail = 1
	st.Hooks.mu.Unlock()
	if _, err := st.API.Payouts.New(&stripe.PayoutParams{Amount: stripe.Int64(100), Currency: stripe.String("usd")}); err != nil {
		t.Fatal(err)
	}
	evs := st.events(t)
	d := st.Deliveries()
	if len(evs) != 2 || len(d) != 2 || d[0].Attempts != 2 || d[0].Status != 200 || d[1].Attempts != 1 ||
		d[0].EventID != evs[0].ID || d[0].Object == "" {
		t.Fatalf("events %v deliveries %+v", types(evs), d)
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	if _, err := New(Config{StripeMock: "not a url"}); err == nil {
		t.Error("a stripe-mock URL that is no URL was accepted")
	}
	if _, err := New(Config{StripeMock: "http://127.0.0.1:1", WebhookURL: "http://127.0.0.1:2"}); err == nil {
		t.Error("a webhook URL without a secret was accepted")
	}
}

// Random histories of charges, partial refunds, failed refunds, disputes, transfers, reversals and
// payouts over several days: listing each day page by page (random page sizes) returns every
// balance transaction of the day exactly once, newest first, and their net sums to what the
// model of the history says, to the cent; refunds and reversals beyond what is left are refused.
func TestRandomHistoriesBalance(t *testing.T) {
	seed := time.Now().UnixNano()
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewSource(seed))
	const histories = 25
	for h := range histories {
		st := newStand(t, newStub(t).URL)
		type chg struct {
			id        string
			amount    int64
			left      int64
			refunds   []string
			disputed  bool
			refundAmt map[string]int64
		}
		var charges []*chg
		type trf struct {
			id   string
			left int64
		}
		var transfers []*trf
		netByDay := map[time.Time]int64{}
		countByDay := map[time.Time]int{}
		book := func(net int64) {
			d := st.Clock.Now().Truncate(24 * time.Hour)
			netByDay[d] += net
			countByDay[d]++
		}
		for range 40 {
			st.Clock.Advance(time.Duration(rng.Intn(4*3600)) * time.Second)
			switch op := rng.Intn(7); {
			case op <= 1 || len(charges) == 0:
				amount := int64(50 + rng.Intn(20000))
				ch, err := st.API.Charges.New(&stripe.ChargeParams{Amount: stripe.Int64(amount), Currency: stripe.String("usd")})
				if err != nil {
					t.Fatal(err)
				}
				charges = append(charges, &chg{id: ch.ID, amount: amount, left: amount, refundAmt: map[string]int64{}})
				book(amount - (amount*290+5000)/10000 - 30)
			case op == 2:
				c := charges[rng.Intn(len(charges))]
				amount := int64(1 + rng.Intn(int(c.amount)))
				rf, err := st.API.Refunds.New(&stripe.RefundParams{Charge: stripe.String(c.id), Amount: stripe.Int64(amount)})
				if amount > c.left {
					if err == nil {
						t.Fatalf("history %d: refund of %d accepted with %d left", h, amount, c.left)
					}
					continue
				}
				if err != nil {
					t.Fatal(err)
				}
				c.left -= amount
				c.refunds = append(c.refunds, rf.ID)
				c.refundAmt[rf.ID] = amount
				book(-amount)
			case op == 3:
				c := charges[rng.Intn(len(charges))]
				if len(c.refunds) == 0 {
					continue
				}
				id := c.refunds[len(c.refunds)-1]
				c.refunds = c.refunds[:len(c.refunds)-1]
				if err := st.SetRefundStatus(id, "failed"); err != nil {
					t.Fatal(err)
				}
				c.left += c.refundAmt[id]
				book(c.refundAmt[id])
			case op == 4:
				c := charges[rng.Intn(len(charges))]
				if c.disputed {
					continue
				}
				c.disputed = true
				id, err := st.OpenDispute(c.id, c.amount)
				if err != nil {
					t.Fatal(err)
				}
				book(-c.amount - 1500)
				if rng.Intn(2) == 0 {
					if err := st.CloseDispute(id, "won"); err != nil {
						t.Fatal(err)
					}
					book(c.amount)
				} else if err := st.CloseDispute(id, "lost"); err != nil {
					t.Fatal(err)
				}
			case op == 5:
				amount := int64(1 + rng.Intn(5000))
				tr, err := st.API.Transfers.New(&stripe.TransferParams{Amount: stripe.Int64(amount), Currency: stripe.String("usd"),
					Destination: stripe.String("acct_r")})
				if err != nil {
					t.Fatal(err)
				}
				transfers = append(transfers, &trf{id: tr.ID, left: amount})
				book(-amount)
				if rng.Intn(2) == 0 {
					rev := int64(1 + rng.Intn(int(amount)+100))
					_, err := st.API.TransferReversals.New(&stripe.TransferReversalParams{ID: stripe.String(tr.ID), Amount: stripe.Int64(rev)})
					if rev > amount {
						if err == nil {
							t.Fatalf("history %d: reversal of %d accepted on a transfer of %d", h, rev, amount)
						}
						continue
					}
					if err != nil {
						t.Fatal(err)
					}
					book(rev)
				}
			default:
				amount := int64(1 + rng.Intn(3000))
				if _, err := st.API.Payouts.New(&stripe.PayoutParams{Amount: stripe.Int64(amount), Currency: stripe.String("usd")}); err != nil {
					t.Fatal(err)
				}
				book(-amount)
			}
		}
		for d, want := range netByDay {
			txs := dayTxs(t, st.API, d, int64(1+rng.Intn(7)))
			seen := map[string]bool{}
			var net int64
			for i, tx := range txs {
				if seen[tx.ID] {
					t.Fatalf("history %d, %s: %s listed twice", h, d.Format(time.DateOnly), tx.ID)
				}
				seen[tx.ID] = true
				net += tx.Net
				if tx.Net != tx.Amount-tx.Fee {
					t.Fatalf("history %d: %s net %d ≠ amount %d − fee %d", h, tx.ID, tx.Net, tx.Amount, tx.Fee)
				}
				if i > 0 && tx.Created > txs[i-1].Created {
					t.Fatalf("history %d: not newest first at %d", h, i)
				}
				if tx.Created < d.Unix() || tx.Created >= d.AddDate(0, 0, 1).Unix() {
					t.Fatalf("history %d: %s created %d outside %s", h, tx.ID, tx.Created, d.Format(time.DateOnly))
				}
			}
			if net != want || len(txs) != countByDay[d] {
				t.Fatalf("history %d, %s: %d transactions net %d, want %d net %d", h, d.Format(time.DateOnly), len(txs), net, countByDay[d], want)
			}
		}
		// Every event was signed and verified; each refund and reversal request that succeeded was told.
		for _, ev := range st.events(t) {
			if ev.APIVersion != stripe.APIVersion {
				t.Fatalf("event %s with API version %s", ev.Type, ev.APIVersion)
			}
		}
		for _, d := range st.Deliveries() {
			if d.Status != http.StatusOK {
				t.Fatalf("delivery %+v", d)
			}
		}
	}
}

// The helpers refuse what Stripe would never do, with a 400 naming it.
func TestHelpersRefuse(t *testing.T) {
	st := newStand(t, newStub(t).URL)
	for path, form := range map[string]url.Values{
		"/_stripestate/refunds/re_nope":  {"status": {"failed"}},
		"/_stripestate/disputes":         {"charge": {"ch_nope"}},
		"/_stripestate/disputes/dp_nope": {"status": {"won"}},
		"/_stripestate/elsewhere":        {},
		"/_stripestate/fees":             {"amount": {"0"}, "currency": {"usd"}},
		"/_stripestate/lose-answers":     {"method": {"POST"}, "path": {"transfers"}},
	} {
		res, err := http.PostForm(st.URL+path, form)
		if err != nil {
			t.Fatal(err)
		}
		var body map[string]map[string]string
		_ = json.NewDecoder(res.Body).Decode(&body)
		res.Body.Close()
		if res.StatusCode != http.StatusBadRequest || body["error"]["message"] == "" {
			t.Errorf("%s: %d %v", path, res.StatusCode, body)
		}
	}
	if err := st.Observe([]byte("not json")); err == nil {
		t.Error("a payload that is no event was observed")
	}
}

// Measurements for docs/decisions/0082: a new stand-in (no process to start), and a round trip
// of an answer it keeps (a charge read, a refund created) through stripe-go.
func BenchmarkStart(b *testing.B) {
	for b.Loop() {
		s, err := New(Config{StripeMock: "http://127.0.0.1:1"})
		if err != nil {
			b.Fatal(err)
		}
		s.Close()
	}
}

func BenchmarkChargeGet(b *testing.B) {
	st := newStand(b, newStub(b).URL)
	ch, err := st.API.Charges.New(&stripe.ChargeParams{Amount: stripe.Int64(2000), Currency: stripe.String("usd")})
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := st.API.Charges.Get(ch.ID, nil); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRefundCreate(b *testing.B) {
	st := newStand(b, newStub(b).URL)
	ch, err := st.API.Charges.New(&stripe.ChargeParams{Amount: stripe.Int64(1 << 40), Currency: stripe.String("usd")})
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := st.API.Refunds.New(&stripe.RefundParams{Charge: stripe.String(ch.ID), Amount: stripe.Int64(1)}); err != nil {
			b.Fatal(err)
		}
	}
	st.Flush()
}
