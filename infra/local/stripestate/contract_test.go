package stripestate

// The contract cases: each runs against a stand-in in front of an upstream — a stub in the unit
// tests (unit_test.go), the stripe-mock localtest starts in the integration tests (mock_test.go).

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v76"

	"github.com/liberation/monetization/infra/local/stripeevents"
)

func stripeCode(err error) string {
	var se *stripe.Error
	if errors.As(err, &se) {
		return string(se.Code)
	}
	return ""
}

// A charge, a partial refund an hour later, a charge the next day: the day's balance
// transactions are the charge (with 2.9 % + 30 ¢) and the refund, to the cent, on any page size;
// the events arrive signed in order and verify with webhook.ConstructEvent.
func testChargeRefundDay(t *testing.T, upstream string) {
	st := newStand(t, upstream)
	api := st.API
	st.Clock.Set(day) // the first second of the day belongs to it (created[gte])
	ch, err := api.Charges.New(&stripe.ChargeParams{Amount: stripe.Int64(2000), Currency: stripe.String("usd"),
		Source: &stripe.PaymentSourceSourceParams{Token: stripe.String("pm_card_visa")}})
	if err != nil {
		t.Fatal(err)
	}
	if ch.Amount != 2000 || ch.BalanceTransaction == nil || ch.BalanceTransaction.ID == "" || ch.Created != st.Clock.Now().Unix() {
		t.Fatalf("charge: %+v", ch)
	}
	st.Clock.Advance(time.Hour)
	p := &stripe.RefundParams{Charge: stripe.String(ch.ID), Amount: stripe.Int64(500), Metadata: map[string]string{"operationId": "rop_1"}}
	p.SetIdempotencyKey("refund-rop_1")
	rf, err := api.Refunds.New(p)
	if err != nil {
		t.Fatal(err)
	}
	if rf.Amount != 500 || rf.Status != stripe.RefundStatusSucceeded || rf.Charge.ID != ch.ID || rf.Metadata["operationId"] != "rop_1" {
		t.Fatalf("refund: %+v", rf)
	}
	// The same key is the same refund (Stripe replays the first answer), not a second one.
	again, err := api.Refunds.New(p)
	if err != nil || again.ID != rf.ID {
		t.Fatalf("replayed refund: %v %+v, want %s", err, again, rf.ID)
	}
	// 1501 is one cent more than what is left.
	_, err = api.Refunds.New(&stripe.RefundParams{Charge: stripe.String(ch.ID), Amount: stripe.Int64(1501)})
	if stripeCode(err) != "amount_too_large" {
		t.Fatalf("refund beyond the charge: %v", err)
	}
	it := api.Refunds.List(&stripe.RefundListParams{Charge: stripe.String(ch.ID)})
	var listed []*stripe.Refund
	for it.Next() {
		listed = append(listed, it.Refund())
	}
	if it.Err() != nil || len(listed) != 1 || listed[0].ID != rf.ID || listed[0].Amount != 500 {
		t.Fatalf("refunds of the charge: %v %+v", it.Err(), listed)
	}
	got, err := api.Charges.Get(ch.ID, nil)
	if err != nil || got.AmountRefunded != 500 || got.Refunded {
		t.Fatalf("charge after the refund: %v %+v", err, got)
	}

	st.Clock.Set(day.AddDate(0, 0, 1)) // the first second of the next day is not in the day's list (created[lt])
	if _, err := api.Charges.New(&stripe.ChargeParams{Amount: stripe.Int64(999), Currency: stripe.String("usd"),
		Source: &stripe.PaymentSourceSourceParams{Token: stripe.String("pm_card_visa")}}); err != nil {
		t.Fatal(err)
	}

	for _, limit := range []int64{1, 2, 10} {
		txs := dayTxs(t, api, day, limit)
		if len(txs) != 2 {
			t.Fatalf("limit %d: %d balance transactions on the day, want 2", limit, len(txs))
		}
		r, c := txs[0], txs[1] // newest first
		if r.Type != "refund" || r.Amount != -500 || r.Fee != 0 || r.Net != -500 || r.Source.ID != rf.ID ||
			r.ReportingCategory != "refund" {
			t.Fatalf("refund transaction: %+v", r)
		}
		if c.Type != "charge" || c.Amount != 2000 || c.Fee != 88 || c.Net != 1912 || c.Source.ID != ch.ID ||
			len(c.FeeDetails) != 1 || c.FeeDetails[0].Amount != 88 || c.FeeDetails[0].Type != "stripe_fee" ||
			c.ID != ch.BalanceTransaction.ID {
			t.Fatalf("charge transaction (2.9 %% + 30 ¢ of 20.00 is 0.88): %+v", c)
		}
	}

	evs := st.events(t)
	want := []string{"charge.succeeded", "charge.refunded", "refund.created", "charge.succeeded"}
	if !slices.Equal(types(evs), want) {
		t.Fatalf("events %v, want %v", types(evs), want)
	}
	var refunded stripe.Charge
	decode(t, evs[1].Data.Raw, &refunded)
	if refunded.ID != ch.ID || refunded.AmountRefunded != 500 || evs[1].Data.PreviousAttributes["amount_refunded"] != float64(0) {
		t.Fatalf("charge.refunded: %+v previous %v", refunded, evs[1].Data.PreviousAttributes)
	}
	var created stripe.Refund
	decode(t, evs[2].Data.Raw, &created)
	if created.ID != rf.ID || created.Amount != 500 || evs[2].Created != day.Add(time.Hour).Unix() {
		t.Fatalf("refund.created: %+v at %d", created, evs[2].Created)
	}
}

// A course purchase the local tools report (checkout.session.completed, twice: a redelivery) is a
// charge of its PaymentIntent: refundable by payment_intent, listed, with its fee.
func testCheckoutObserved(t *testing.T, upstream string) {
	st := newStand(t, upstream)
	o := stripeevents.CoursePurchase("u_buyer", "course_1", 1999)
	o.PaymentIntentID, o.Created = "pi_obs1", st.Clock.Now()
	payload := stripeevents.MustBuild(stripeevents.CheckoutSessionCompleted, o)
	for range 2 {
		res, err := http.Post(st.URL+"/_stripestate/events", "application/json", strings.NewReader(string(payload)))
		if err != nil || res.StatusCode != http.StatusOK {
			t.Fatalf("observe: %v %v", err, res)
		}
		res.Body.Close()
	}
	rf, err := st.API.Refunds.New(&stripe.RefundParams{PaymentIntent: stripe.String("pi_obs1")})
	if err != nil || rf.Amount != 1999 || rf.Charge.ID != "ch_obs1" || rf.PaymentIntent.ID != "pi_obs1" {
		t.Fatalf("full refund by payment intent: %v %+v", err, rf)
	}
	it := st.API.Refunds.List(&stripe.RefundListParams{PaymentIntent: stripe.String("pi_obs1")})
	n := 0
	for it.Next() {
		n++
	}
	if it.Err() != nil || n != 1 {
		t.Fatalf("refunds by payment intent: %v %d", it.Err(), n)
	}
	ch, err := st.API.Charges.Get("ch_obs1", nil)
	if err != nil || !ch.Refunded || ch.Metadata["courseId"] != "course_1" {
		t.Fatalf("charge: %v %+v", err, ch)
	}
	txs := dayTxs(t, st.API, day, 10)
	if len(txs) != 2 || txs[1].Amount != 1999 || txs[1].Fee != 88 || txs[0].Amount != -1999 {
		t.Fatalf("one charge (fee 0.88 on 19.99) and one refund: %+v", txs)
	}
}

// A refund that fails later gives the money back (refund_failure) and says so with
// refund.updated and charge.refund.updated.
func testRefundFails(t *testing.T, upstream string) {
	st := newStand(t, upstream)
	ch, err := st.API.Charges.New(&stripe.ChargeParams{Amount: stripe.Int64(1000), Currency: stripe.String("usd")})
	if err != nil {
		t.Fatal(err)
	}
	rf, err := st.API.Refunds.New(&stripe.RefundParams{Charge: stripe.String(ch.ID)})
	if err != nil {
		t.Fatal(err)
	}
	st.events(t)
	res, err := http.PostForm(st.URL+"/_stripestate/refunds/"+rf.ID, url.Values{"status": {"failed"}})
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("fail the refund: %v %v", err, res)
	}
	res.Body.Close()
	got, err := st.API.Refunds.Get(rf.ID, nil)
	if err != nil || got.Status != stripe.RefundStatusFailed || got.FailureBalanceTransaction == nil {
		t.Fatalf("failed refund: %v %+v", err, got)
	}
	evs := st.events(t)
	if !slices.Equal(types(evs), []string{"refund.updated", "charge.refund.updated"}) {
		t.Fatalf("events %v", types(evs))
	}
	var ev stripe.Refund
	decode(t, evs[1].Data.Raw, &ev)
	if ev.ID != rf.ID || ev.Status != stripe.RefundStatusFailed || evs[1].Data.PreviousAttributes["status"] != "succeeded" {
		t.Fatalf("charge.refund.updated: %+v", ev)
	}
	var net int64
	var kinds []string
	for _, tx := range dayTxs(t, st.API, day, 10) {
		net += tx.Net
		kinds = append(kinds, string(tx.Type))
	}
	if !slices.Equal(kinds, []string{"refund_failure", "refund", "charge"}) || net != 1000-59 {
		t.Fatalf("transactions %v net %d, want the charge's net 941", kinds, net)
	}
	// The charge can be refunded again in full.
	if _, err := st.API.Refunds.New(&stripe.RefundParams{Charge: stripe.String(ch.ID)}); err != nil {
		t.Fatal(err)
	}
}

// A dispute withdraws the amount and the 15 USD fee; won, the amount comes back (not the fee);
// lost, nothing comes back.
func testDisputes(t *testing.T, upstream string) {
	st := newStand(t, upstream)
	var charges []string
	for range 2 {
		ch, err := st.API.Charges.New(&stripe.ChargeParams{Amount: stripe.Int64(3000), Currency: stripe.String("usd")})
		if err != nil {
			t.Fatal(err)
		}
		charges = append(charges, ch.ID)
	}
	st.events(t)
	won, err := st.OpenDispute(charges[0], 0)
	if err != nil {
		t.Fatal(err)
	}
	res, err := http.PostForm(st.URL+"/_stripestate/disputes", url.Values{"charge": {charges[1]}, "amount": {"2500"}})
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("open a dispute over HTTP: %v %v", err, res)
	}
	res.Body.Close()
	it := st.API.Disputes.List(&stripe.DisputeListParams{Charge: stripe.String(charges[1])})
	var lost *stripe.Dispute
	for it.Next() {
		lost = it.Dispute()
	}
	if it.Err() != nil || lost == nil || lost.Amount != 2500 || lost.Status != "needs_response" || len(lost.BalanceTransactions) != 1 {
		t.Fatalf("dispute of the second charge: %v %+v", it.Err(), lost)
	}
	if err := st.CloseDispute(won, "won"); err != nil {
		t.Fatal(err)
	}
	if err := st.CloseDispute(lost.ID, "lost"); err != nil {
		t.Fatal(err)
	}
	if err := st.CloseDispute(lost.ID, "won"); err == nil {
		t.Fatal("a lost dispute was won afterwards")
	}
	want := []string{"charge.dispute.created", "charge.dispute.funds_withdrawn", "charge.dispute.created",
		"charge.dispute.funds_withdrawn", "charge.dispute.funds_reinstated", "charge.dispute.closed", "charge.dispute.closed"}
	if got := types(st.events(t)); !slices.Equal(got, want) {
		t.Fatalf("events %v, want %v", got, want)
	}
	var adj []string
	var net int64
	for _, tx := range dayTxs(t, st.API, day, 3) {
		net += tx.Net
		if tx.Type == "adjustment" {
			adj = append(adj, string(tx.ReportingCategory)+":"+itoa(tx.Amount)+"/"+itoa(tx.Fee))
		}
	}
	wantAdj := []string{"dispute_reversal:3000/0", "dispute:-2500/1500", "dispute:-3000/1500"}
	if !slices.Equal(adj, wantAdj) {
		t.Fatalf("dispute transactions %v, want %v", adj, wantAdj)
	}
	// Two charges' net (2 × 2913) − both fees − the lost 25.00.
	if want := int64(2*(3000-117) - 1500 - 1500 - 2500); net != want {
		t.Fatalf("net %d, want %d", net, want)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// Transfers (replayed by their Idempotency-Key), reversals (never beyond the transfer, with
// transfer.reversed), a destination charge with its application fee, and a payout: each moves the
// balance as Stripe does.
func testConnectMoney(t *testing.T, upstream string) {
	st := newStand(t, upstream)
	p := &stripe.TransferParams{Amount: stripe.Int64(700), Currency: stripe.String("usd"), Destination: stripe.String("acct_ins"),
		TransferGroup: stripe.String("po_1"), Metadata: map[string]string{"payoutId": "po_1"}}
	p.SetIdempotencyKey("payout-po_1")
	tr, err := st.API.Transfers.New(p)
	if err != nil {
		t.Fatal(err)
	}
	if again, err := st.API.Transfers.New(p); err != nil || again.ID != tr.ID {
		t.Fatalf("replayed transfer: %v %+v", err, again)
	}
	rv, err := st.API.TransferReversals.New(&stripe.TransferReversalParams{ID: stripe.String(tr.ID), Amount: stripe.Int64(200)})
	if err != nil || rv.Amount != 200 || rv.Transfer.ID != tr.ID {
		t.Fatalf("reversal: %v %+v", err, rv)
	}
	if _, err := st.API.TransferReversals.New(&stripe.TransferReversalParams{ID: stripe.String(tr.ID), Amount: stripe.Int64(501)}); err == nil {
		t.Fatal("reversed more than the transfer")
	}
	lt := st.API.Transfers.List(&stripe.TransferListParams{TransferGroup: stripe.String("po_1")})
	var listed []*stripe.Transfer
	for lt.Next() {
		listed = append(listed, lt.Transfer())
	}
	if lt.Err() != nil || len(listed) != 1 || listed[0].AmountReversed != 200 || listed[0].Reversed || listed[0].Metadata["payoutId"] != "po_1" {
		t.Fatalf("transfers of the group: %v %+v", lt.Err(), listed)
	}
	if _, err := st.API.Charges.New(&stripe.ChargeParams{Amount: stripe.Int64(10000), Currency: stripe.String("usd"),
		ApplicationFeeAmount: stripe.Int64(1000), TransferData: &stripe.ChargeTransferDataParams{Destination: stripe.String("acct_ins")}}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.API.Payouts.New(&stripe.PayoutParams{Amount: stripe.Int64(1000), Currency: stripe.String("usd")}); err != nil {
		t.Fatal(err)
	}
	evs := st.events(t)
	want := []string{"transfer.created", "transfer.reversed", "charge.succeeded", "payout.created", "payout.paid"}
	if !slices.Equal(types(evs), want) {
		t.Fatalf("events %v, want %v", types(evs), want)
	}
	var reversed stripe.Transfer
	decode(t, evs[1].Data.Raw, &reversed)
	if reversed.ID != tr.ID || reversed.AmountReversed != 200 || len(reversed.Reversals.Data) != 1 {
		t.Fatalf("transfer.reversed: %+v", reversed)
	}
	var got []string
	for _, tx := range dayTxs(t, st.API, day, 4) {
		got = append(got, string(tx.Type)+":"+itoa(tx.Amount)+"/"+itoa(tx.Fee))
	}
	want = []string{"payout:-1000/0", "application_fee:1000/0", "transfer:-10000/0", "charge:10000/320",
		"transfer_refund:200/0", "transfer:-700/0"}
	if !slices.Equal(got, want) {
		t.Fatalf("transactions %v, want %v", got, want)
	}
}

// Coupons exist until deleted (404 after, as at Stripe); customer credits add up.
func testCouponsAndCredits(t *testing.T, upstream string) {
	st := newStand(t, upstream)
	cp := &stripe.CouponParams{ID: stripe.String("RED-1"), PercentOff: stripe.Float64(100), Duration: stripe.String("once"),
		MaxRedemptions: stripe.Int64(1), Metadata: map[string]string{"redemptionId": "red_1"}}
	if _, err := st.API.Coupons.New(cp); err != nil {
		t.Fatal(err)
	}
	if _, err := st.API.Coupons.New(cp); stripeCode(err) != "resource_already_exists" {
		t.Fatalf("second coupon with the id: %v", err)
	}
	c, err := st.API.Coupons.Get("RED-1", nil)
	if err != nil || !c.Valid || c.PercentOff != 100 || c.MaxRedemptions != 1 || c.Metadata["redemptionId"] != "red_1" {
		t.Fatalf("coupon: %v %+v", err, c)
	}
	if _, err := st.API.Coupons.Del("RED-1", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := st.API.Coupons.Get("RED-1", nil); stripeCode(err) != "resource_missing" {
		t.Fatalf("deleted coupon: %v", err)
	}
	for _, amount := range []int64{-500, -300} {
		if _, err := st.API.CustomerBalanceTransactions.New(&stripe.CustomerBalanceTransactionParams{Customer: stripe.String("cus_1"),
			Amount: stripe.Int64(amount), Currency: stripe.String("usd")}); err != nil {
			t.Fatal(err)
		}
	}
	it := st.API.CustomerBalanceTransactions.List(&stripe.CustomerBalanceTransactionListParams{Customer: stripe.String("cus_1")})
	var endings []int64
	for it.Next() {
		endings = append(endings, it.CustomerBalanceTransaction().EndingBalance)
	}
	if it.Err() != nil || !slices.Equal(endings, []int64{-800, -500}) || st.CustomerBalance("cus_1") != -800 {
		t.Fatalf("credits: %v %v", it.Err(), endings)
	}
	if len(dayTxs(t, st.API, day, 10)) != 0 {
		t.Fatal("coupons and customer credits moved the platform's balance")
	}
}

// expand[]=data.source (what the reconciliation asks for) gives every balance transaction its
// source object — a charge with its PaymentIntent, a transfer with its group, a reversal with its
// transfer, a refund, a dispute, a payout — so a reversal can be tied to the transfer our books
// name; without expand the source is the bare id, and a fee of Stripe's own has none.
func testExpandedSources(t *testing.T, upstream string) {
	st := newStand(t, upstream)
	st.Clock.Set(day.Add(10 * time.Hour))
	ch, err := st.API.Charges.New(&stripe.ChargeParams{Amount: stripe.Int64(4000), Currency: stripe.String("usd")})
	if err != nil {
		t.Fatal(err)
	}
	rf, err := st.API.Refunds.New(&stripe.RefundParams{Charge: stripe.String(ch.ID), Amount: stripe.Int64(1000)})
	if err != nil {
		t.Fatal(err)
	}
	dp, err := st.OpenDispute(ch.ID, 500)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := st.API.Transfers.New(&stripe.TransferParams{Amount: stripe.Int64(700), Currency: stripe.String("usd"),
		Destination: stripe.String("acct_x"), TransferGroup: stripe.String("po_x"), Metadata: map[string]string{"payoutId": "po_x"}})
	if err != nil {
		t.Fatal(err)
	}
	rv, err := st.API.TransferReversals.New(&stripe.TransferReversalParams{ID: stripe.String(tr.ID), Amount: stripe.Int64(300)})
	if err != nil {
		t.Fatal(err)
	}
	po, err := st.API.Payouts.New(&stripe.PayoutParams{Amount: stripe.Int64(100), Currency: stripe.String("usd")})
	if err != nil {
		t.Fatal(err)
	}
	fee, err := st.StripeFee("usd", 25, "Radar screening")
	if err != nil {
		t.Fatal(err)
	}
	list := func(expand bool) map[string]*stripe.BalanceTransaction {
		p := &stripe.BalanceTransactionListParams{}
		p.Limit = stripe.Int64(100)
		if expand {
			p.AddExpand("data.source")
		}
		it := st.API.BalanceTransactions.List(p)
		out := map[string]*stripe.BalanceTransaction{}
		for it.Next() {
			bt := it.BalanceTransaction()
			out[string(bt.Type)+"/"+string(bt.ReportingCategory)] = bt
		}
		if err := it.Err(); err != nil {
			t.Fatal(err)
		}
		return out
	}
	got := list(true)
	src := func(key string) *stripe.BalanceTransactionSource {
		t.Helper()
		bt := got[key]
		if bt == nil {
			t.Fatalf("no %s balance transaction in %v", key, got)
		}
		return bt.Source
	}
	if s := src("charge/charge"); s == nil || s.Type != "charge" || s.Charge == nil || s.Charge.ID != ch.ID ||
		s.Charge.PaymentIntent == nil || s.Charge.PaymentIntent.ID != ch.PaymentIntent.ID {
		t.Fatalf("expanded charge: %+v", s)
	}
	if s := src("refund/refund"); s == nil || s.Refund == nil || s.Refund.ID != rf.ID || s.Refund.Amount != 1000 {
		t.Fatalf("expanded refund: %+v", s)
	}
	if s := src("adjustment/dispute"); s == nil || s.Dispute == nil || s.Dispute.ID != dp || s.Dispute.Amount != 500 {
		t.Fatalf("expanded dispute: %+v", s)
	}
	if s := src("transfer/transfer"); s == nil || s.Transfer == nil || s.Transfer.ID != tr.ID || s.Transfer.TransferGroup != "po_x" ||
		s.Transfer.Metadata["payoutId"] != "po_x" {
		t.Fatalf("expanded transfer: %+v", s)
	}
	if s := src("transfer_refund/transfer_reversal"); s == nil || s.TransferReversal == nil || s.TransferReversal.ID != rv.ID ||
		s.TransferReversal.Transfer == nil || s.TransferReversal.Transfer.ID != tr.ID {
		t.Fatalf("expanded reversal (its transfer is what our books name): %+v", s)
	}
	if s := src("payout/payout"); s == nil || s.Payout == nil || s.Payout.ID != po.ID {
		t.Fatalf("expanded payout: %+v", s)
	}
	if b := got["stripe_fee/fee"]; b == nil || b.ID != fee || b.Source != nil || b.Amount != -25 || b.Fee != 0 || b.Net != -25 {
		t.Fatalf("Stripe's own fee: %+v", b)
	}
	// Without expand: bare ids, as before.
	for key, bt := range list(false) {
		if bt.Source != nil && (bt.Source.Charge != nil || bt.Source.Transfer != nil || bt.Source.TransferReversal != nil ||
			bt.Source.Refund != nil || bt.Source.Dispute != nil || bt.Source.Payout != nil || bt.Source.ID == "") {
			t.Fatalf("%s expanded without expand: %+v", key, bt.Source)
		}
	}
	// One transaction by id, expand[]=source.
	p := &stripe.BalanceTransactionParams{}
	p.AddExpand("source")
	one, err := st.API.BalanceTransactions.Get(got["transfer_refund/transfer_reversal"].ID, p)
	if err != nil || one.Source == nil || one.Source.TransferReversal == nil || one.Source.TransferReversal.Transfer.ID != tr.ID {
		t.Fatalf("GET with expand[]=source: %v %+v", err, one)
	}
	plain, err := st.API.BalanceTransactions.Get(one.ID, nil)
	if err != nil || plain.Source == nil || plain.Source.ID != rv.ID || plain.Source.TransferReversal != nil {
		t.Fatalf("GET without expand: %v %+v", err, plain)
	}
}

// A lost answer (LoseAnswers, or POST /_stripestate/lose-answers): the transfer is made — listed
// by its group, its balance transaction moved, transfer.created sent, its Idempotency-Key replaying
// the real answer — but the caller gets Stripe's 500 api_error; a refused request does not use the
// fault up, and the next request after the lost one is answered again.
func testLostAnswer(t *testing.T, upstream string) {
	st := newStand(t, upstream)
	res, err := http.PostForm(st.URL+"/_stripestate/lose-answers", url.Values{"method": {"post"}, "path": {"/v1/transfers"}})
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("lose-answers: %v %v", err, res)
	}
	res.Body.Close()
	if _, err := st.API.Transfers.New(&stripe.TransferParams{Amount: stripe.Int64(700), Currency: stripe.String("usd")}); stripeCode(err) != "parameter_invalid" {
		t.Fatalf("a refused transfer (no destination): %v", err)
	}
	p := &stripe.TransferParams{Amount: stripe.Int64(700), Currency: stripe.String("usd"), Destination: stripe.String("acct_l"),
		TransferGroup: stripe.String("po_lost")}
	p.SetIdempotencyKey("payout-po_lost")
	_, err = st.API.Transfers.New(p)
	var se *stripe.Error
	if !errors.As(err, &se) || se.HTTPStatusCode != http.StatusInternalServerError || se.Type != stripe.ErrorTypeAPI {
		t.Fatalf("the lost answer: %v", err)
	}
	it := st.API.Transfers.List(&stripe.TransferListParams{TransferGroup: stripe.String("po_lost")})
	var made []*stripe.Transfer
	for it.Next() {
		made = append(made, it.Transfer())
	}
	if it.Err() != nil || len(made) != 1 || made[0].Amount != 700 {
		t.Fatalf("the transfer behind the lost answer: %v %+v", it.Err(), made)
	}
	if lost := st.Lost(); !slices.Equal(lost, []string{"POST /v1/transfers " + made[0].ID}) {
		t.Fatalf("lost answers %q, want the transfer's", lost)
	}
	again, err := st.API.Transfers.New(p)
	if err != nil || again.ID != made[0].ID {
		t.Fatalf("the key's replay: %v %+v, want %s", err, again, made[0].ID)
	}
	next, err := st.API.Transfers.New(&stripe.TransferParams{Amount: stripe.Int64(100), Currency: stripe.String("usd"),
		Destination: stripe.String("acct_l")})
	if err != nil || next.Amount != 100 {
		t.Fatalf("the next transfer: %v %+v", err, next)
	}
	if got := types(st.events(t)); !slices.Equal(got, []string{"transfer.created", "transfer.created"}) {
		t.Fatalf("events %v: the lost one was made, so it is announced", got)
	}
	var amounts []string
	for _, tx := range dayTxs(t, st.API, day, 10) {
		amounts = append(amounts, string(tx.Type)+":"+itoa(tx.Amount))
	}
	if !slices.Equal(amounts, []string{"transfer:-100", "transfer:-700"}) {
		t.Fatalf("transactions %v", amounts)
	}
	// LoseAnswers with n ≤ 0 forgets a fault not used yet.
	st.LoseAnswers(http.MethodPost, "/v1/payouts", 1)
	st.LoseAnswers(http.MethodPost, "/v1/payouts", 0)
	if _, err := st.API.Payouts.New(&stripe.PayoutParams{Amount: stripe.Int64(100), Currency: stripe.String("usd")}); err != nil {
		t.Fatalf("a forgotten fault: %v", err)
	}
}

// A fee Stripe charges on its own (StripeFee, or POST /_stripestate/fees): a stripe_fee balance
// transaction with no source and no event; nonsense is refused.
func testStripeFee(t *testing.T, upstream string) {
	st := newStand(t, upstream)
	res, err := http.PostForm(st.URL+"/_stripestate/fees", url.Values{"amount": {"199"}, "currency": {"USD"}, "description": {"Billing"}})
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("fees: %v %v", err, res)
	}
	var bt map[string]any
	_ = json.NewDecoder(res.Body).Decode(&bt)
	res.Body.Close()
	txs := dayTxs(t, st.API, day, 10)
	if len(txs) != 1 || txs[0].ID != bt["id"] || txs[0].Type != "stripe_fee" || txs[0].ReportingCategory != "fee" ||
		txs[0].Amount != -199 || txs[0].Net != -199 || txs[0].Fee != 0 || txs[0].Currency != "usd" || txs[0].Source != nil ||
		txs[0].Description != "Billing" || bt["source"] != nil {
		t.Fatalf("the fee: %+v (%v)", txs, bt)
	}
	for _, bad := range []struct {
		cur    string
		amount int64
	}{{"usd", 0}, {"usd", -5}, {"", 10}, {"dollars", 10}} {
		if _, err := st.StripeFee(bad.cur, bad.amount, ""); err == nil {
			t.Errorf("fee %d %q accepted", bad.amount, bad.cur)
		}
	}
	if len(st.events(t)) != 0 {
		t.Fatal("a Stripe fee sent an event")
	}
}

// An invoice paid partly from the customer's credit (invoice.paid reported with a negative
// starting balance) takes the credit used off the customer's balance at Stripe, as Stripe does
// (applied_to_invoice), once however often it is reported; its charge is what was left to pay.
func testCreditAppliedToInvoice(t *testing.T, upstream string) {
	st := newStand(t, upstream)
	if _, err := st.API.CustomerBalanceTransactions.New(&stripe.CustomerBalanceTransactionParams{Customer: stripe.String("cus_cr"),
		Amount: stripe.Int64(-500), Currency: stripe.String("usd")}); err != nil {
		t.Fatal(err)
	}
	o := stripeevents.Options{UserID: "u_cr", CustomerID: "cus_cr", InvoiceID: "in_cr", ChargeID: "ch_cr", AmountCents: 999,
		Created: st.Clock.Now()}
	var ev map[string]any
	if err := json.Unmarshal(stripeevents.MustBuild(stripeevents.InvoicePaid, o), &ev); err != nil {
		t.Fatal(err)
	}
	inv := ev["data"].(map[string]any)["object"].(map[string]any)
	inv["starting_balance"], inv["ending_balance"], inv["amount_paid"], inv["amount_due"] = -500, 0, 499, 499
	paid, _ := json.Marshal(ev)
	for range 2 { // a redelivery changes nothing
		if err := st.Observe(paid); err != nil {
			t.Fatal(err)
		}
	}
	if got := st.CustomerBalance("cus_cr"); got != 0 {
		t.Fatalf("customer balance %d after the invoice used the credit, want 0", got)
	}
	it := st.API.CustomerBalanceTransactions.List(&stripe.CustomerBalanceTransactionListParams{Customer: stripe.String("cus_cr")})
	var got []string
	for it.Next() {
		x := it.CustomerBalanceTransaction()
		inv := ""
		if x.Invoice != nil {
			inv = x.Invoice.ID
		}
		got = append(got, string(x.Type)+":"+itoa(x.Amount)+":"+itoa(x.EndingBalance)+":"+inv)
	}
	if it.Err() != nil || !slices.Equal(got, []string{"applied_to_invoice:500:0:in_cr", "adjustment:-500:-500:"}) {
		t.Fatalf("customer balance transactions %v %v", got, it.Err())
	}
	ch, err := st.API.Charges.Get("ch_cr", nil)
	if err != nil || ch.Amount != 499 {
		t.Fatalf("the invoice's charge: %v %+v", err, ch)
	}
	// An invoice without credit leaves the balance alone.
	o.InvoiceID, o.ChargeID = "in_cr2", "ch_cr2"
	if err := st.Observe(stripeevents.MustBuild(stripeevents.InvoicePaid, o)); err != nil || st.CustomerBalance("cus_cr") != 0 {
		t.Fatalf("an invoice without credit: %v, balance %d", err, st.CustomerBalance("cus_cr"))
	}
}
