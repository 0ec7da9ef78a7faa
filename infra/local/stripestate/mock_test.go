//go:build integration

package stripestate

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/stripe/stripe-go/v76"

	"github.com/liberation/monetization/infra/local/localtest"
	"github.com/liberation/monetization/shared/manifest"
)

func TestMain(m *testing.M) { localtest.Main(m) }

// stripeMock is the stripe-mock localtest started (or `make test` runs).
func stripeMock(t *testing.T) string {
	u := os.Getenv(manifest.EnvStripeAPIBase)
	if u == "" {
		t.Fatalf("no stripe-mock address in %s", manifest.EnvStripeAPIBase)
	}
	return u
}

// The contract cases in front of the real stripe-mock.
func TestChargeRefundDayOnStripeMock(t *testing.T)   { testChargeRefundDay(t, stripeMock(t)) }
func TestCheckoutObservedOnStripeMock(t *testing.T)  { testCheckoutObserved(t, stripeMock(t)) }
func TestRefundFailsOnStripeMock(t *testing.T)       { testRefundFails(t, stripeMock(t)) }
func TestDisputesOnStripeMock(t *testing.T)          { testDisputes(t, stripeMock(t)) }
func TestConnectMoneyOnStripeMock(t *testing.T)      { testConnectMoney(t, stripeMock(t)) }
func TestCouponsAndCreditsOnStripeMock(t *testing.T) { testCouponsAndCredits(t, stripeMock(t)) }
func TestExpandedSourcesOnStripeMock(t *testing.T)   { testExpandedSources(t, stripeMock(t)) }
func TestLostAnswerOnStripeMock(t *testing.T)        { testLostAnswer(t, stripeMock(t)) }
func TestStripeFeeOnStripeMock(t *testing.T)         { testStripeFee(t, stripeMock(t)) }
func TestCreditAppliedToInvoiceOnStripeMock(t *testing.T) {
	testCreditAppliedToInvoice(t, stripeMock(t))
}

// What the stand-in does not know is stripe-mock's answer (a customer, a Checkout Session, a
// refund of a charge it never saw), and a Checkout Session created through it is recorded.
func TestUnknownGoesToStripeMock(t *testing.T) {
	st := newStand(t, stripeMock(t))
	c, err := st.API.Customers.New(&stripe.CustomerParams{Email: stripe.String("a@example.com")})
	if err != nil || !strings.HasPrefix(c.ID, "cus_") {
		t.Fatalf("customer from stripe-mock: %v %+v", err, c)
	}
	sess, err := st.API.CheckoutSessions.New(&stripe.CheckoutSessionParams{Mode: stripe.String("payment"),
		SuccessURL: stripe.String("https://app.example.com/ok"), Metadata: map[string]string{"courseId": "c1"},
		LineItems: []*stripe.CheckoutSessionLineItemParams{{Price: stripe.String("price_x"), Quantity: stripe.Int64(1)}}})
	if err != nil || !strings.HasPrefix(sess.ID, "cs_") {
		t.Fatalf("checkout session from stripe-mock: %v %+v", err, sess)
	}
	if got := st.Checkouts(); len(got) != 1 || got[0].Get("metadata[courseId]") != "c1" {
		t.Fatalf("recorded checkouts: %v", got)
	}
	rf, err := st.API.Refunds.New(&stripe.RefundParams{Charge: stripe.String("ch_never_seen")})
	if err != nil || !strings.HasPrefix(rf.ID, "re_") {
		t.Fatalf("refund of an unknown charge from stripe-mock: %v %+v", err, rf)
	}
	if len(st.events(t)) != 0 {
		t.Fatal("stripe-mock's answers sent events")
	}
}

// The wire format, through plain stripe-mock: every field the stand-in writes in an object is a
// field stripe-mock (generated from Stripe's OpenAPI spec) writes in the same object, so nothing
// is misspelt or invented; and the fields stripe-mock has that the stand-in leaves out are only
// those listed here (expandable or product features the project never reads).
func TestWireFormatAgainstStripeMock(t *testing.T) {
	mock := stripeMock(t)
	st := newStand(t, mock)
	ch, err := st.API.Charges.New(&stripe.ChargeParams{Amount: stripe.Int64(2000), Currency: stripe.String("usd")})
	if err != nil {
		t.Fatal(err)
	}
	rf, err := st.API.Refunds.New(&stripe.RefundParams{Charge: stripe.String(ch.ID), Amount: stripe.Int64(100)})
	if err != nil {
		t.Fatal(err)
	}
	dp, err := st.OpenDispute(ch.ID, 500)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := st.API.Transfers.New(&stripe.TransferParams{Amount: stripe.Int64(300), Currency: stripe.String("usd"), Destination: stripe.String("acct_1")})
	if err != nil {
		t.Fatal(err)
	}
	rv, err := st.API.TransferReversals.New(&stripe.TransferReversalParams{ID: stripe.String(tr.ID), Amount: stripe.Int64(100)})
	if err != nil {
		t.Fatal(err)
	}
	po, err := st.API.Payouts.New(&stripe.PayoutParams{Amount: stripe.Int64(100), Currency: stripe.String("usd")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.API.Coupons.New(&stripe.CouponParams{ID: stripe.String("W1"), PercentOff: stripe.Float64(10)}); err != nil {
		t.Fatal(err)
	}
	cb, err := st.API.CustomerBalanceTransactions.New(&stripe.CustomerBalanceTransactionParams{Customer: stripe.String("cus_1"),
		Amount: stripe.Int64(-100), Currency: stripe.String("usd")})
	if err != nil {
		t.Fatal(err)
	}
	// Leaving these out is deliberate: expandable or features (Connect on-behalf-of, radar,
	// receipts, Issuing, instant payouts, …) the project does not read.
	allowedMissing := map[string]bool{
		"radar_options": true, "source": true, "transfer_data.amount": true, "alternate_statement_descriptors": true,
		"enhanced_eligibility_types": true, "network_reason_code": true, "payment_method_details": true,
		"application_fee_amount": true, "reconciliation_status": true, "trace_id": true, "applies_to": true,
		"currency_options": true, "source_transfer_reversal": true, "next_action": true, "instructions_email": true,
		"evidence_details": true, "failure_balance_transaction": true, "destination_details": true,
		"application_fee": true, "on_behalf_of": true, "review": true, "balance_transaction": true,
		"presentment_details": true, "level3": true, "payment_method": true,
		// API 2023-10-16 lists a charge's refunds apart (GET /v1/refunds?charge=).
		"refunds": true,
		// Fields of API versions newer than stripe-go v76's 2023-10-16 (stripe-mock follows the latest).
		"customer": true, "customer_account": true, "payout_method": true, "checkout_session": true, "balance_type": true,
	}
	// Fields of 2023-10-16 that the latest API (stripe-mock's) dropped.
	olderFields := map[string]bool{"invoice": true}
	for _, c := range []struct{ name, ours, mock string }{
		{"charge", "/v1/charges/" + ch.ID, "/v1/charges/ch_1"},
		{"refund", "/v1/refunds/" + rf.ID, "/v1/refunds/re_1"},
		{"dispute", "/v1/disputes/" + dp, "/v1/disputes/dp_1"},
		{"transfer", "/v1/transfers/" + tr.ID, "/v1/transfers/tr_1"},
		{"transfer_reversal", "/v1/transfers/" + tr.ID + "/reversals", "/v1/transfers/tr_1/reversals"},
		{"payout", "/v1/payouts/" + po.ID, "/v1/payouts/po_1"},
		{"coupon", "/v1/coupons/W1", "/v1/coupons/co_1"},
		{"customer_balance_transaction", "/v1/customers/cus_1/balance_transactions", "/v1/customers/cus_1/balance_transactions"},
		{"balance_transaction", "/v1/balance_transactions/" + ch.BalanceTransaction.ID, "/v1/balance_transactions/txn_1"},
	} {
		ours, theirs := object(t, st.URL+c.ours), object(t, mock+c.mock)
		if ours["object"] != c.name || theirs["object"] != c.name {
			t.Fatalf("%s: objects %v and %v", c.name, ours["object"], theirs["object"])
		}
		var invented, lacking []string
		for k := range ours {
			if _, has := theirs[k]; !has && !olderFields[k] {
				invented = append(invented, k)
			}
		}
		for k := range theirs {
			if _, has := ours[k]; !has && !allowedMissing[k] {
				lacking = append(lacking, k)
			}
		}
		sort.Strings(invented)
		sort.Strings(lacking)
		if len(invented) > 0 {
			t.Errorf("%s: fields stripe-mock does not have: %v", c.name, invented)
		}
		if len(lacking) > 0 {
			t.Errorf("%s: stripe-mock's fields missing from the stand-in's: %v", c.name, lacking)
		}
	}
	_ = rv
	_ = cb
}

// object GETs a Stripe object (or the first of a list) as raw JSON fields.
func object(t *testing.T, u string) map[string]any {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	req.Header.Set("Authorization", "Bearer "+localtest.StripeKey)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s", u, res.StatusCode, b)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	if m["object"] == "list" {
		data, _ := m["data"].([]any)
		if len(data) == 0 {
			t.Fatalf("GET %s: empty list", u)
		}
		m, _ = data[0].(map[string]any)
	}
	return m
}

// Measurement for docs/decisions/0082: the cost of the stand-in on what it passes to stripe-mock.
func BenchmarkProxiedCustomerGet(b *testing.B) {
	st := newStand(b, os.Getenv(manifest.EnvStripeAPIBase))
	for b.Loop() {
		if _, err := st.API.Customers.Get("cus_1", nil); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDirectCustomerGet(b *testing.B) {
	api := quietClient(os.Getenv(manifest.EnvStripeAPIBase))
	for b.Loop() {
		if _, err := api.Customers.Get("cus_1", nil); err != nil {
			b.Fatal(err)
		}
	}
}
