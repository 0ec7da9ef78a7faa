//go:build integration

package payments_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/stripe/stripe-go/v76"

	"github.com/liberation/monetization/infra/local/localtest"
	"github.com/liberation/monetization/infra/local/stripefault"
	"github.com/liberation/monetization/shared/blob"
	"github.com/liberation/monetization/shared/clock"
	"github.com/liberation/monetization/shared/mail"
	"github.com/liberation/monetization/shared/manifest"
	"github.com/liberation/monetization/shared/payments"
	"github.com/liberation/monetization/shared/platform"
	"github.com/liberation/monetization/shared/queue"
	"github.com/liberation/monetization/shared/receipts/receiptpdf"
	"github.com/liberation/monetization/shared/store"
	"github.com/liberation/monetization/shared/stripeapi"
)

func TestMain(m *testing.M) { localtest.Main(m) }

// allCaps is a function with every capability payments uses, so one set of parts serves every test.
var allCaps = manifest.Function{Name: "payments-test", Stripe: true, Sends: []string{manifest.ReceiptsQueue},
	Bucket: []string{"s3:GetObject", "s3:PutObject"}, Email: true}

// deps are payments' parts wired to the test's environment: moto, mailpit, and stripe-mock behind a
// stripefault proxy (which keeps the refunds made through it, so Stripe's refund list is real).
type deps struct {
	Store    *store.Store
	Repo     payments.Repo
	Clock    clock.Clock
	Config   platform.Config
	Blobs    blob.Store
	Proxy    *stripefault.Proxy
	Refunds  *payments.Refunder
	Rec      *payments.Recorder
	Disputes *payments.DisputeBook
	Mailer   *payments.Mailer
	Sent     *atomic.Int64 // e-mails handed to the mail transport (exact, unlike polling mailpit)
}

// countingSender counts the e-mails its transport accepted.
type countingSender struct {
	mail.Sender
	n *atomic.Int64
}

func (c countingSender) Send(ctx context.Context, m mail.Message) error {
	err := c.Sender.Send(ctx, m)
	if err == nil {
		c.n.Add(1)
	}
	return err
}

// depsFor builds payments' parts on the test's environment.
func depsFor(t *testing.T, env *localtest.Env) *deps {
	t.Helper()
	rt := env.RuntimeFor(t, allCaps)
	q, err := queue.From(rt)
	if err != nil {
		t.Fatal(err)
	}
	blobs, err := blob.From(rt)
	if err != nil {
		t.Fatal(err)
	}
	sender, err := mail.From(rt)
	if err != nil {
		t.Fatal(err)
	}
	proxy, base := stripefault.Start(t, env.Getenv(manifest.EnvStripeAPIBase))
	s := env.Store()
	repo := payments.Repo{S: s}
	d := &deps{Store: s, Repo: repo, Clock: rt.Clock, Config: rt.Config, Blobs: blobs, Proxy: proxy, Sent: &atomic.Int64{}}
	d.Refunds = &payments.Refunder{Ledger: repo, Stripe: payments.StripeGateway(stripeapi.New(localtest.StripeKey, base, 10*time.Second)),
		Queue: q, Clock: rt.Clock}
	d.Rec = &payments.Recorder{Repo: repo, Queue: q, Clock: rt.Clock, AppURL: rt.Config.AppURL, Reconcile: d.Refunds.ReconcileUnmatched}
	d.Disputes = &payments.DisputeBook{Ledger: repo, Clock: rt.Clock}
	d.Mailer = &payments.Mailer{Source: repo, Claims: s, Docs: blobs, Mail: countingSender{sender, d.Sent}, From: rt.Config.MailFrom,
		Render: receiptpdf.Render}
	return d
}

func (d *deps) invoicePaid(ctx context.Context, userID string, inv *stripe.Invoice, eventID string) error {
	return d.Rec.InvoicePaid(ctx, userID, inv, payments.Source{EventID: eventID})
}

func (d *deps) chargeRefunded(ctx context.Context, ch *stripe.Charge, eventID string) error {
	ref := payments.ChargeRef{ChargeID: ch.ID, AmountRefundedCents: ch.AmountRefunded}
	if ch.PaymentIntent != nil {
		ref.PaymentIntentID = ch.PaymentIntent.ID
	}
	return d.Refunds.ChargeRefunded(ctx, ref, payments.Source{EventID: eventID})
}

func randID(prefix string) string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

// newUser returns a fresh user id and a unique e-mail address (mailpit is shared by the package).
func newUser() (string, string) {
	id := randID("u-")
	return id, id + "@example.com"
}

// invoice builds an invoice.paid payload the way Stripe sends it (expandable fields as ids).
func invoice(amount int64, email string, paidAt time.Time) *stripe.Invoice {
	return &stripe.Invoice{
		ID: randID("in_"), Number: strings.ToUpper(randID("INV-")), AmountPaid: amount, AmountDue: amount,
		Currency: "usd", CustomerEmail: email,
		Charge:            &stripe.Charge{ID: randID("ch_")},
		PaymentIntent:     &stripe.PaymentIntent{ID: randID("pi_")},
		Subscription:      &stripe.Subscription{ID: randID("sub_")},
		StatusTransitions: &stripe.InvoiceStatusTransitions{PaidAt: paidAt.Unix()},
		Lines: &stripe.InvoiceLineItemList{Data: []*stripe.InvoiceLineItem{{
			Description: "1 × Pro (at $9.99 / month)",
			Period:      &stripe.Period{Start: paidAt.Unix(), End: paidAt.AddDate(0, 1, 0).Unix()},
		}}},
	}
}

// recordInvoice applies invoice.paid and returns the recorded payment.
func recordInvoice(t *testing.T, d *deps, userID string, inv *stripe.Invoice) payments.Payment {
	t.Helper()
	if err := d.invoicePaid(context.Background(), userID, inv, randID("evt_")); err != nil {
		t.Fatalf("ApplyInvoicePaid: %v", err)
	}
	var l payments.PaymentLookup
	if err := d.Store.GetConsistent(context.Background(), store.PaymentSourceKey(inv.ID), &l); err != nil {
		t.Fatalf("lookup: %v", err)
	}
	p, err := (payments.Repo{S: d.Store}).GetPayment(context.Background(), l.UserID, l.PaymentID)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func mustPayment(t *testing.T, d *deps, p payments.Payment) payments.Payment {
	t.Helper()
	got, err := (payments.Repo{S: d.Store}).GetPayment(context.Background(), p.UserID, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// dayCounters are the day's metrics counters.
type dayCounters struct {
	PaymentsSucceeded int64 `dynamodbav:"paymentsSucceeded"`
	PaymentsFailed    int64 `dynamodbav:"paymentsFailed"`
	RevenueCents      int64 `dynamodbav:"revenueCents"`
	RefundedCents     int64 `dynamodbav:"refundedCents"`
	DisputedCents     int64 `dynamodbav:"disputedCents"`
	DisputeLostCents  int64 `dynamodbav:"disputeLostCents"`
	DisputeWonCents   int64 `dynamodbav:"disputeWonCents"`
	UnmatchedRefunds  int64 `dynamodbav:"unmatchedRefunds"`
}

func counters(t *testing.T, d *deps, day time.Time) dayCounters {
	t.Helper()
	var c dayCounters
	if err := d.Store.GetConsistent(context.Background(), store.MetricsDayKey(day), &c); err != nil {
		t.Fatalf("counters: %v", err)
	}
	return c
}

// drain receives (and deletes) every message now on the receipts queue.
func drain(t *testing.T, env *localtest.Env) []events.SQSMessage {
	t.Helper()
	ctx := context.Background()
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	c := sqs.NewFromConfig(cfg)
	u := env.Resources.QueueURLs[manifest.ReceiptsQueue]
	var out []events.SQSMessage
	for empty := 0; empty < 2; {
		res, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(u), MaxNumberOfMessages: 10, WaitTimeSeconds: 0})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Messages) == 0 {
			empty++
			continue
		}
		for _, m := range res.Messages {
			out = append(out, events.SQSMessage{MessageId: aws.ToString(m.MessageId), ReceiptHandle: aws.ToString(m.ReceiptHandle),
				Body: aws.ToString(m.Body), Attributes: map[string]string{"ApproximateReceiveCount": "1"}, EventSource: "aws:sqs"})
			if _, err := c.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(u), ReceiptHandle: m.ReceiptHandle}); err != nil {
				t.Fatal(err)
			}
		}
	}
	return out
}

type envelope struct {
	Type     string          `json:"type"`
	DedupeID string          `json:"dedupeId"`
	Payload  json.RawMessage `json:"payload"`
}

func envelopes(t *testing.T, msgs []events.SQSMessage) []envelope {
	t.Helper()
	out := make([]envelope, 0, len(msgs))
	for _, m := range msgs {
		var e envelope
		if err := json.Unmarshal([]byte(m.Body), &e); err != nil {
			t.Fatal(err)
		}
		out = append(out, e)
	}
	return out
}

// consume runs the send-receipts consumer on a batch, through the runtime's (un)marshalling.
func consume(t *testing.T, d *deps, msgs ...events.SQSMessage) events.SQSEventResponse {
	t.Helper()
	var r queue.Router
	for _, typ := range []string{payments.MsgReceipt, payments.MsgRefundReceipt, payments.MsgDunning} {
		r.On(typ, d.Mailer.Handle)
	}
	h := r.Consumer(slog.New(slog.NewJSONHandler(io.Discard, nil)))
	in, _ := json.Marshal(events.SQSEvent{Records: msgs})
	out, err := lambda.NewHandler(h).Invoke(context.Background(), in)
	if err != nil {
		t.Fatalf("consumer: %v", err)
	}
	var resp events.SQSEventResponse
	if err := json.Unmarshal(out, &resp); err != nil {
		t.Fatal(err)
	}
	return resp
}

// caller is who makes an API request.
type caller struct {
	sub, email string
	groups     string // the flattened cognito:groups claim, e.g. "[admin]"
}

// apiRequest builds an API Gateway HTTP API (payload 2.0) event as the JWT authorizer delivers it.
func apiRequest(fn manifest.Function, c *caller, path string, pathParams, query map[string]string, body string, headers map[string]string) events.APIGatewayV2HTTPRequest {
	h := map[string]string{"content-type": "application/json", "user-agent": "payments-test"}
	for k, v := range headers {
		h[strings.ToLower(k)] = v
	}
	var raw []string
	for k, v := range query {
		raw = append(raw, url.QueryEscape(k)+"="+url.QueryEscape(v))
	}
	ev := events.APIGatewayV2HTTPRequest{
		Version: "2.0", RouteKey: fn.RouteKey(), RawPath: path, RawQueryString: strings.Join(raw, "&"),
		Headers: h, QueryStringParameters: query, PathParameters: pathParams, Body: body,
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RouteKey: fn.RouteKey(), AccountID: "123456789012", Stage: "$default", RequestID: randID("req-"),
			DomainName: "api.liberation.local", APIID: "api123", TimeEpoch: time.Now().UnixMilli(),
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: fn.Trigger.Method, Path: path, Protocol: "HTTP/1.1", SourceIP: "203.0.113.7"},
		},
	}
	if c != nil {
		claims := map[string]string{"sub": c.sub, "email": c.email, "email_verified": "true", "iss": "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_test", "token_use": "access"}
		if c.groups != "" {
			claims["cognito:groups"] = c.groups
		}
		ev.RequestContext.Authorizer = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
			JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{Claims: claims},
		}
	}
	return ev
}

// invoke runs an HTTP handler through the Lambda runtime's (un)marshalling.
func invoke(t *testing.T, h any, ev events.APIGatewayV2HTTPRequest) events.APIGatewayV2HTTPResponse {
	t.Helper()
	in, _ := json.Marshal(ev)
	out, err := lambda.NewHandler(h).Invoke(context.Background(), in)
	if err != nil {
		t.Fatalf("invoke: %v", err)
	}
	var resp events.APIGatewayV2HTTPResponse
	if err := json.Unmarshal(out, &resp); err != nil {
		t.Fatal(err)
	}
	return resp
}

func decodeBody(t *testing.T, resp events.APIGatewayV2HTTPResponse, out any) {
	t.Helper()
	if err := json.Unmarshal([]byte(resp.Body), out); err != nil {
		t.Fatalf("body %q: %v", resp.Body, err)
	}
}

func wantStatus(t *testing.T, resp events.APIGatewayV2HTTPResponse, status int) {
	t.Helper()
	if resp.StatusCode != status {
		t.Fatalf("status %d, want %d; body %s", resp.StatusCode, status, resp.Body)
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }
