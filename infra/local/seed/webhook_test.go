package seed

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v76/webhook"

	"github.com/liberation/monetization/infra/local/authlocal"
	"github.com/liberation/monetization/infra/local/stripeevents"
	"github.com/liberation/monetization/infra/local/stripestate"
)

// Each purchase the seed sends reaches the Stripe stand-in first, so seeded purchases are
// refundable charges there (with their amounts); the webhook gets the same event, signed with the
// stack's secret. Without a stand-in (StripeStateURL empty) the webhook alone gets it.
func TestWebhookTellsTheStandInFirst(t *testing.T) {
	var mu sync.Mutex
	var order []string
	var hooked []string
	gw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if r.Method != http.MethodPost || r.URL.Path != WebhookPath() {
			http.Error(w, "unexpected "+r.URL.Path, http.StatusTeapot)
			return
		}
		ev, err := webhook.ConstructEvent(b, r.Header.Get("Stripe-Signature"), "whsec_unit")
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		mu.Lock()
		order, hooked = append(order, "webhook"), append(hooked, ev.ID)
		mu.Unlock()
	}))
	defer gw.Close()
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("stripe-mock asked %s %s: the stand-in should have answered it", r.Method, r.URL.Path)
		http.Error(w, "unexpected", http.StatusTeapot)
	}))
	defer upstream.Close()
	stand, err := stripestate.New(stripestate.Config{StripeMock: upstream.URL})
	if err != nil {
		t.Fatal(err)
	}
	defer stand.Close()
	st := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/_stripestate/events" {
			mu.Lock()
			order = append(order, "stand-in")
			mu.Unlock()
		}
		stand.ServeHTTP(w, r)
	}))
	defer st.Close()

	key, err := authlocal.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	s, err := newSeeder(context.Background(), Config{BaseURL: gw.URL, Auth: authlocal.New(key, "iss", "aud"),
		WebhookSecret: "whsec_unit", StripeStateURL: st.URL})
	if err != nil {
		t.Fatal(err)
	}
	o := stripeevents.CoursePurchase("seed-learner-01", "crs_1", 2995)
	o.EventID, o.PaymentIntentID, o.Created = "evt_seed_unit", "pi_seed_unit", time.Now().Add(-40*24*time.Hour)
	payload := stripeevents.MustBuild(stripeevents.CheckoutSessionCompleted, o)
	if err := s.webhook(payload); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(order, ", "); got != "stand-in, webhook" || hooked[0] != "evt_seed_unit" {
		t.Fatalf("requests in order: %s (events %v); want the stand-in's, then the webhook's", got, hooked)
	}
	req, _ := http.NewRequest(http.MethodGet, st.URL+"/v1/charges/ch_seed_unit", nil)
	req.SetBasicAuth("sk_test_local", "")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var ch struct {
		Amount        int64  `json:"amount"`
		PaymentIntent string `json:"payment_intent"`
	}
	if err := json.NewDecoder(res.Body).Decode(&ch); err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("the stand-in's charge: %d %v", res.StatusCode, err)
	}
	if ch.Amount != 2995 || ch.PaymentIntent != "pi_seed_unit" {
		t.Fatalf("the stand-in's charge of the seeded purchase: %+v", ch)
	}

	s.cfg.StripeStateURL = ""
	if err := s.webhook(payload); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(order, ", "); got != "stand-in, webhook, webhook" {
		t.Fatalf("without a stand-in: requests %s; want the webhook only", got)
	}

	// A stand-in that refuses the event stops the seed before the webhook.
	refusing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, `{"error":{"message":"not an event: boom"}}`, http.StatusBadRequest)
	}))
	defer refusing.Close()
	s.cfg.StripeStateURL = refusing.URL
	if err := s.webhook(payload); err == nil || !strings.Contains(err.Error(), "refused the event: not an event: boom (400 Bad Request)") {
		t.Fatalf("a refusing stand-in: %v", err)
	}
	if len(order) != 3 {
		t.Fatalf("the webhook was called although the stand-in refused: %v", order)
	}
}

// A Config without the stack's address, token authority or webhook secret is refused, as is a
// catalog without a paid course; zero counts take `make seed`'s defaults.
func TestConfigIsCheckedAndDefaulted(t *testing.T) {
	key, err := authlocal.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	ok := Config{BaseURL: "http://127.0.0.1:1/", Auth: authlocal.New(key, "iss", "aud"), WebhookSecret: "whsec_x"}
	for name, c := range map[string]Config{
		"no url": {Auth: ok.Auth, WebhookSecret: "w"}, "no auth": {BaseURL: "u", WebhookSecret: "w"},
		"no secret": {BaseURL: "u", Auth: ok.Auth}, "one course": {BaseURL: "u", Auth: ok.Auth, WebhookSecret: "w", Courses: 1},
	} {
		if _, err := newSeeder(context.Background(), c); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	s, err := newSeeder(context.Background(), ok)
	if err != nil {
		t.Fatal(err)
	}
	if s.cfg.Courses != 50 || s.cfg.Learners != 12 || s.cfg.HistoryDays != DefaultHistoryDays || s.cfg.BaseURL != "http://127.0.0.1:1" ||
		s.cfg.Out == nil || s.cfg.HTTP == nil || s.now.Location() != time.UTC {
		t.Fatalf("defaults: %+v", s.cfg)
	}
}
