//go:build integration

package payments_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/liberation/monetization/infra/local/localtest"
	"github.com/liberation/monetization/shared/blob/s3blob"
	"github.com/liberation/monetization/shared/idempotency"
	"github.com/liberation/monetization/shared/manifest"
	"github.com/liberation/monetization/shared/payments"
)

func TestListPayments(t *testing.T) {
	env := localtest.New(t)
	d := depsFor(t, env)
	fn := manifest.MustByName("list-payments")
	h := payments.HandleListPayments(fn, d.Repo)
	user, email := newUser()
	other, otherEmail := newUser()
	base := time.Now().UTC().Add(-10 * 24 * time.Hour).Truncate(time.Second)
	var want []string // newest first
	for i := 0; i < 5; i++ {
		p := recordInvoice(t, d, user, invoice(int64(100+i), email, base.Add(time.Duration(i)*time.Hour)))
		want = append([]string{p.ID}, want...)
	}
	recordInvoice(t, d, other, invoice(777, otherEmail, base))
	me := &caller{sub: user, email: email}

	var got []string
	cursor := ""
	for page := 0; ; page++ {
		if page > 5 {
			t.Fatal("too many pages")
		}
		q := map[string]string{"limit": "2"}
		if cursor != "" {
			q["cursor"] = cursor
		}
		resp := invoke(t, h, apiRequest(fn, me, "/payments", nil, q, "", nil))
		wantStatus(t, resp, http.StatusOK)
		if strings.Contains(resp.Body, `"PK"`) || strings.Contains(resp.Body, "USER#") || strings.Contains(resp.Body, "GSI") {
			t.Fatalf("internal keys exposed: %s", resp.Body)
		}
		var body payments.ListPaymentsResponse
		decodeBody(t, resp, &body)
		if len(body.Payments) > 2 {
			t.Fatalf("page of %d", len(body.Payments))
		}
		for _, p := range body.Payments {
			got = append(got, p.ID)
			if p.Currency != "usd" || p.Kind != "subscription" || p.Status != "succeeded" || p.InvoiceID == "" {
				t.Fatalf("view = %+v", p)
			}
			if _, err := time.Parse(time.RFC3339, p.CreatedAt); err != nil {
				t.Fatalf("createdAt %q: %v", p.CreatedAt, err)
			}
		}
		if body.NextCursor == "" {
			break
		}
		cursor = body.NextCursor
		// Another user cannot replay my cursor.
		resp = invoke(t, h, apiRequest(fn, &caller{sub: other, email: otherEmail}, "/payments", nil, map[string]string{"cursor": cursor}, "", nil))
		wantStatus(t, resp, http.StatusBadRequest)
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("ids = %v\nwant  %v (newest first, no other user's)", got, want)
	}
	for _, lim := range []string{"0", "101", "x"} {
		resp := invoke(t, h, apiRequest(fn, me, "/payments", nil, map[string]string{"limit": lim}, "", nil))
		wantStatus(t, resp, http.StatusBadRequest)
	}
	resp := invoke(t, h, apiRequest(fn, nil, "/payments", nil, nil, "", nil))
	wantStatus(t, resp, http.StatusUnauthorized)
}

func TestGetPayment(t *testing.T) {
	env := localtest.New(t)
	d := depsFor(t, env)
	fn := manifest.MustByName("get-payment")
	h := payments.HandleGetPayment(fn, d.Repo)
	user, email := newUser()
	p := recordInvoice(t, d, user, invoice(999, email, time.Now()))
	get := func(c *caller, id string) events.APIGatewayV2HTTPResponse {
		return invoke(t, h, apiRequest(fn, c, "/payments/"+id, map[string]string{"paymentId": id}, nil, "", nil))
	}
	t.Run("OK", func(t *testing.T) {
		resp := get(&caller{sub: user, email: email}, p.ID)
		wantStatus(t, resp, http.StatusOK)
		var v payments.PaymentView
		decodeBody(t, resp, &v)
		if v.ID != p.ID || v.AmountCents != 999 || v.ReceiptAvailable || v.RefundedCents != 0 {
			t.Fatalf("view = %+v", v)
		}
	})
	t.Run("ErrAnotherUsersPaymentIsNotFound", func(t *testing.T) {
		other, otherEmail := newUser()
		wantStatus(t, get(&caller{sub: other, email: otherEmail}, p.ID), http.StatusNotFound)
	})
	t.Run("ErrUnknown", func(t *testing.T) {
		wantStatus(t, get(&caller{sub: user}, "pay_01ARZ3NDEKTSV4RRFFQ69G5FAV"), http.StatusNotFound)
	})
	t.Run("ErrBadID", func(t *testing.T) {
		for _, id := range []string{"x", "pay_", "pay_01ARZ3NDEKTSV4RRFFQ69G5FA!", "USER#x"} {
			wantStatus(t, get(&caller{sub: user}, id), http.StatusBadRequest)
		}
	})
}

func TestReceiptEmailExactlyOnce(t *testing.T) {
	env := localtest.New(t)
	d := depsFor(t, env)
	ctx := context.Background()
	user, email := newUser()
	inv := invoice(999, email, time.Now())
	for i := 0; i < 3; i++ { // the webhook delivered invoice.paid three times
		if err := d.invoicePaid(ctx, user, inv, randID("evt_")); err != nil {
			t.Fatal(err)
		}
	}
	msgs := drain(t, env)
	if len(msgs) != 3 {
		t.Fatalf("%d messages", len(msgs))
	}
	// Three messages with one dedupe id in one batch, then the same message redelivered twice.
	if resp := consume(t, d, msgs...); len(resp.BatchItemFailures) != 0 {
		t.Fatalf("failures %+v", resp.BatchItemFailures)
	}
	for i := 0; i < 2; i++ {
		if resp := consume(t, d, msgs[0]); len(resp.BatchItemFailures) != 0 {
			t.Fatalf("failures %+v", resp.BatchItemFailures)
		}
	}
	if n := d.Sent.Load(); n != 1 {
		t.Fatalf("%d e-mails sent, want exactly 1", n)
	}
	found := env.Mailpit.WaitFor(t, "to:"+email, 1)
	m := env.Mailpit.Get(t, found[0].ID)
	if !strings.Contains(m.Subject, "$9.99") || !strings.Contains(m.Text, "$9.99") || !strings.Contains(m.HTML, inv.Number) {
		t.Fatalf("e-mail: %q\n%s", m.Subject, m.Text)
	}
	if len(m.Attachments) != 1 || m.Attachments[0].ContentType != "application/pdf" {
		t.Fatalf("attachments = %+v", m.Attachments)
	}
	att := env.Mailpit.Attachment(t, m.ID, m.Attachments[0].PartID)
	if !bytes.HasPrefix(att, []byte("%PDF")) || !bytes.Contains(att, []byte("$9.99")) {
		t.Fatal("attachment is not the receipt PDF")
	}
	// The PDF is in S3 and the payment points at it.
	p := recordInvoice(t, d, user, inv)
	drain(t, env)
	if p.ReceiptKey != "receipts/"+user+"/"+p.ID+".pdf" {
		t.Fatalf("receiptKey = %q", p.ReceiptKey)
	}
	obj, err := d.Blobs.(*s3blob.Bucket).Client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(d.Config.BucketName), Key: aws.String(p.ReceiptKey)})
	if err != nil {
		t.Fatal(err)
	}
	stored, _ := io.ReadAll(obj.Body)
	obj.Body.Close()
	if aws.ToString(obj.ContentType) != "application/pdf" || !bytes.Equal(stored, att) {
		t.Fatal("stored PDF differs from the attachment")
	}

	// GET /payments/{id}/receipt: a presigned link for the owner, 404 for anyone else.
	fn := manifest.MustByName("get-receipt")
	h := payments.HandleGetReceipt(fn, d.Repo, d.Blobs, d.Clock)
	resp := invoke(t, h, apiRequest(fn, &caller{sub: user, email: email}, "/payments/"+p.ID+"/receipt", map[string]string{"paymentId": p.ID}, nil, "", nil))
	wantStatus(t, resp, http.StatusOK)
	var link payments.ReceiptLink
	decodeBody(t, resp, &link)
	exp, err := time.Parse(time.RFC3339, link.ExpiresAt)
	if err != nil || time.Until(exp) > 5*time.Minute+time.Second || exp.Before(time.Now()) {
		t.Fatalf("expiresAt %q", link.ExpiresAt)
	}
	if !strings.Contains(link.URL, "X-Amz-Expires=300") || !strings.Contains(link.URL, p.ID+".pdf") {
		t.Fatalf("url %q", link.URL)
	}
	dl, err := http.Get(link.URL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(dl.Body)
	dl.Body.Close()
	if dl.StatusCode != http.StatusOK || !bytes.Equal(body, stored) {
		t.Fatalf("presigned GET: %d", dl.StatusCode)
	}
	other, _ := newUser()
	resp = invoke(t, h, apiRequest(fn, &caller{sub: other}, "/payments/"+p.ID+"/receipt", map[string]string{"paymentId": p.ID}, nil, "", nil))
	wantStatus(t, resp, http.StatusNotFound)
}

func TestReceiptNotReady(t *testing.T) {
	env := localtest.New(t)
	d := depsFor(t, env)
	user, email := newUser()
	p := recordInvoice(t, d, user, invoice(999, email, time.Now()))
	fn := manifest.MustByName("get-receipt")
	resp := invoke(t, payments.HandleGetReceipt(fn, d.Repo, d.Blobs, d.Clock),
		apiRequest(fn, &caller{sub: user}, "/payments/"+p.ID+"/receipt", map[string]string{"paymentId": p.ID}, nil, "", nil))
	wantStatus(t, resp, http.StatusConflict)
	if !strings.Contains(resp.Body, "still being prepared") {
		t.Fatalf("body %s", resp.Body)
	}
}

func TestConsumerPartialBatchFailure(t *testing.T) {
	env := localtest.New(t)
	d := depsFor(t, env)
	user, email := newUser()
	recordInvoice(t, d, user, invoice(999, email, time.Now()))
	good := drain(t, env)
	if len(good) != 1 {
		t.Fatalf("%d messages", len(good))
	}
	bad := events.SQSMessage{MessageId: "msg-unknown-payment", EventSource: "aws:sqs",
		Body: `{"type":"receipt","dedupeId":"receipt#pay_01ARZ3NDEKTSV4RRFFQ69G5FAV","payload":{"userId":"` + user + `","paymentId":"pay_01ARZ3NDEKTSV4RRFFQ69G5FAV"}}`}
	malformed := events.SQSMessage{MessageId: "msg-malformed", EventSource: "aws:sqs", Body: "not json"}
	resp := consume(t, d, bad, good[0], malformed)
	if len(resp.BatchItemFailures) != 1 || resp.BatchItemFailures[0].ItemIdentifier != "msg-unknown-payment" {
		t.Fatalf("failures = %+v, want only msg-unknown-payment", resp.BatchItemFailures)
	}
	env.Mailpit.WaitFor(t, "to:"+email, 1)
	// The failed message released its claim, so its retry may claim (and send) at once.
	dedupe := "receipt#pay_01ARZ3NDEKTSV4RRFFQ69G5FAV"
	prior, err := d.Store.BeginIdempotent(context.Background(), "email", dedupe, idempotency.Hash([]byte(dedupe)), time.Minute, time.Hour)
	if err != nil || prior != nil {
		t.Fatalf("claim of the failed message not released: %+v %v", prior, err)
	}
}
