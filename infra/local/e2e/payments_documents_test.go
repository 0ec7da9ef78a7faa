//go:build integration

package e2e

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/liberation/monetization/infra/local/stripeevents"
	"github.com/liberation/monetization/shared/manifest"
	pay "github.com/liberation/monetization/shared/payments"
)

func s3Object(t *testing.T, h *Harness, key string) []byte {
	t.Helper()
	cfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	c := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	out, err := c.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(h.Env.Getenv(manifest.EnvBucket)), Key: aws.String(key)})
	if err != nil {
		t.Fatalf("%s: %v", key, err)
	}
	defer out.Body.Close()
	b, _ := io.ReadAll(out.Body)
	return b
}

// A refund notice carries its own credit note, stored under its own key; the payment's receipt
// PDF stays the one first issued.
func TestRefundCreditNoteIsSeparateFromTheReceipt(t *testing.T) {
	s := startPayStand(t, 2500, false)
	s.h.Drain(t, manifest.ReceiptsQueue)
	receiptKey := pay.ReceiptObjectKey(s.user, s.payID)
	receipt := s3Object(t, s.h, receiptKey)
	if !bytes.Contains(receipt, []byte("RECEIPT")) || !bytes.Contains(receipt, []byte("$25.00")) {
		t.Fatal("stored receipt is not the payment's receipt")
	}

	status, body := s.refund(1000, "k-note")
	a := decode[refundAnswer](t, body)
	if status != http.StatusCreated {
		t.Fatalf("refund: %d %s", status, body)
	}
	s.chargeRefunded(1000)                                              // the webhook queues the same notice again
	post(t, s.h, stripeevents.MustBuild(stripeevents.InvoicePaid, s.o)) // and the receipt message again
	s.h.Drain(t, manifest.ReceiptsQueue)

	if got := s3Object(t, s.h, receiptKey); !bytes.Equal(got, receipt) {
		t.Fatal("the receipt PDF changed after the refund")
	}
	note := s3Object(t, s.h, pay.CreditNoteObjectKey(s.user, s.payID, a.Refund.ID))
	if !bytes.Contains(note, []byte("CREDIT NOTE")) || !bytes.Contains(note, []byte("-$10.00")) || !bytes.Contains(note, []byte(a.Refund.ID)) {
		t.Fatal("credit note does not show this refund")
	}
	mails := s.h.Env.Mailpit.Search(t, "to:"+s.email)
	if len(mails) != 2 {
		t.Fatalf("%d e-mails, want the receipt and one refund notice", len(mails))
	}
	for _, m := range mails {
		full := s.h.Env.Mailpit.Get(t, m.ID)
		if len(full.Attachments) != 1 {
			t.Fatalf("%q: %d attachments", m.Subject, len(full.Attachments))
		}
		att := s.h.Env.Mailpit.Attachment(t, full.ID, full.Attachments[0].PartID)
		want := receipt
		if strings.Contains(m.Subject, "refund") {
			want = note
		}
		if !bytes.Equal(att, want) {
			t.Fatalf("%q carries the wrong document", m.Subject)
		}
	}
}
