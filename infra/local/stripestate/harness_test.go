package stripestate

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/client"
	"github.com/stripe/stripe-go/v76/webhook"

	"github.com/liberation/monetization/shared/clock"
)

const testSecret = "whsec_stripestate_test"

// day is the fake clock's day in the tests (a fixed day, so fees and ranges are exact).
var day = time.Date(2026, 11, 3, 0, 0, 0, 0, time.UTC)

// receiver is the local webhook: it verifies every event exactly as our webhook does
// (webhook.ConstructEvent, which also checks the API version) and keeps the verified ones.
type receiver struct {
	URL    string
	mu     sync.Mutex
	events []stripe.Event
	errs   []error
	fail   int // answer 500 to the next fail deliveries
}

func newReceiver(t testing.TB) *receiver {
	rc := &receiver{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		defer rc.mu.Unlock()
		if rc.fail > 0 {
			rc.fail--
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		ev, err := webhook.ConstructEvent(b, r.Header.Get("Stripe-Signature"), testSecret)
		if err != nil {
			rc.errs = append(rc.errs, err)
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		rc.events = append(rc.events, ev)
	}))
	t.Cleanup(srv.Close)
	rc.URL = srv.URL
	return rc
}

// take returns the events received so far and forgets them; any event that failed verification
// fails the test.
func (rc *receiver) take(t *testing.T) []stripe.Event {
	t.Helper()
	rc.mu.Lock()
	defer rc.mu.Unlock()
	for _, err := range rc.errs {
		t.Errorf("webhook: an event failed webhook.ConstructEvent: %v", err)
	}
	out := rc.events
	rc.events, rc.errs = nil, nil
	return out
}

// stand is a stand-in served for a test, with its webhook receiver and a stripe-go client on it.
type stand struct {
	*Server
	URL   string
	API   *client.API
	Clock *clock.Fake
	Hooks *receiver
}

func newStand(t testing.TB, upstream string) *stand {
	t.Helper()
	rc := newReceiver(t)
	clk := clock.NewFake(day.Add(9 * time.Hour))
	s, u := Start(t, Config{StripeMock: upstream, WebhookURL: rc.URL, WebhookSecret: testSecret, Clock: clk})
	return &stand{Server: s, URL: u, API: quietClient(u), Clock: clk, Hooks: rc}
}

// quietClient is stripefake.Client without its error log (no retries either): the tests provoke Stripe's refusals.
func quietClient(base string) *client.API {
	cfg := &stripe.BackendConfig{URL: stripe.String(base), MaxNetworkRetries: stripe.Int64(0),
		HTTPClient: &http.Client{Timeout: 20 * time.Second}, LeveledLogger: &stripe.LeveledLogger{Level: stripe.LevelNull}}
	return client.New("sk_test_stripestate", &stripe.Backends{API: stripe.GetBackendWithConfig(stripe.APIBackend, cfg),
		Connect: stripe.GetBackendWithConfig(stripe.ConnectBackend, cfg), Uploads: stripe.GetBackendWithConfig(stripe.UploadsBackend, cfg)})
}

// events flushes the deliveries and returns the verified events received since the last call.
func (st *stand) events(t *testing.T) []stripe.Event {
	t.Helper()
	st.Flush()
	return st.Hooks.take(t)
}

func types(evs []stripe.Event) []string {
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = string(e.Type)
	}
	return out
}

// dayTxs lists the balance transactions created on the UTC day of t, page by page (limit per
// page), following starting_after as a reconciliation job would, and checks the pages.
func dayTxs(t *testing.T, api *client.API, d time.Time, limit int64) []*stripe.BalanceTransaction {
	t.Helper()
	from := time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, time.UTC)
	var out []*stripe.BalanceTransaction
	seen := map[string]bool{} // a cursor that does not move on would loop for ever
	after := ""
	for page := 0; ; page++ {
		p := &stripe.BalanceTransactionListParams{CreatedRange: &stripe.RangeQueryParams{
			GreaterThanOrEqual: from.Unix(), LesserThan: from.AddDate(0, 0, 1).Unix()}}
		p.Limit = stripe.Int64(limit)
		p.Single = true // one page per request: the test follows the cursor itself
		if after != "" {
			p.StartingAfter = stripe.String(after)
		}
		it := api.BalanceTransactions.List(p)
		n := 0
		for it.Next() {
			tx := it.BalanceTransaction()
			if seen[tx.ID] {
				t.Fatalf("page %d repeats %s (starting_after %s)", page, tx.ID, after)
			}
			seen[tx.ID] = true
			out = append(out, tx)
			n++
		}
		if err := it.Err(); err != nil {
			t.Fatalf("list balance transactions (page %d): %v", page, err)
		}
		if int64(n) > limit {
			t.Fatalf("page %d has %d items, limit %d", page, n, limit)
		}
		if !it.BalanceTransactionList().HasMore {
			return out
		}
		if n == 0 {
			t.Fatalf("page %d is empty but has_more", page)
		}
		after = out[len(out)-1].ID
	}
}

func decode(t *testing.T, raw json.RawMessage, v any) {
	t.Helper()
	if err := json.Unmarshal(raw, v); err != nil {
		t.Fatalf("decode %s: %v", raw, err)
	}
}
