//go:build integration

// The bridge against the real mailpit started by localtest. These tests are in the external test
// package: once localtest starts the bridge itself, an internal test importing localtest would be an
// import cycle.
package sesbridge_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/sesv2/types"
	"github.com/aws/smithy-go"

	"github.com/liberation/monetization/infra/local/localtest"
	"github.com/liberation/monetization/infra/local/sesbridge"
	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/mail"
	"github.com/liberation/monetization/shared/mail/sesmail"
)

func TestMain(m *testing.M) { localtest.Main(m) }

// start runs a bridge relaying to the stack's mailpit with localtest's sender as the only identity.
func start(t *testing.T, smtpAddr string) sesmail.SES {
	t.Helper()
	u, stop, err := sesbridge.Start(sesbridge.Config{SMTPAddr: smtpAddr, Identities: []string{localtest.MailFrom}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	return sesmail.SES{Client: sesbridge.NewClient(u, 3)}
}

// recipient is an address of the test's own: mailpit is shared, tests count messages by recipient.
func recipient(t *testing.T) string {
	b := make([]byte, 6)
	rand.Read(b)
	return "sesbridge-" + hex.EncodeToString(b) + "@example.com"
}

func mailpit(t *testing.T) *localtest.Mailpit {
	return &localtest.Mailpit{URL: os.Getenv("MAILPIT_URL")}
}

// A message sent the way functions send in AWS (sesmail → SDK → SES API) arrives in mailpit as
// written: non-ASCII subject, text, HTML, a PDF byte for byte, and the custom header.
func TestMailpitReceivesSESMessageIntact(t *testing.T) {
	ses := start(t, os.Getenv("SMTP_ADDR"))
	to := recipient(t)
	pdf := append([]byte("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n"), bytes.Repeat([]byte{0, 1, 0xfe, '\r', '\n', '.'}, 2000)...)
	m := mail.Message{
		From: localtest.MailFrom, To: to, Subject: "Reçu n° 42 — 9,99 € ✓",
		Text: "Merci pour votre achat.", HTML: "<p>Merci pour votre <b>achat</b>.</p>",
		Attachments: []mail.Attachment{{Filename: "receipt-42.pdf", ContentType: "application/pdf", Data: pdf}},
		Headers:     map[string]string{"X-Liberation-Dedupe": "receipt#p42"},
	}
	if err := ses.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	mp := mailpit(t)
	msgs := mp.WaitFor(t, "to:"+to, 1)
	if len(msgs) != 1 {
		t.Fatalf("%d messages for %s", len(msgs), to)
	}
	got := mp.Get(t, msgs[0].ID)
	if got.Subject != m.Subject || got.From.Address != localtest.MailFrom {
		t.Fatalf("subject %q from %q", got.Subject, got.From.Address)
	}
	if strings.TrimSpace(got.Text) != m.Text || !strings.Contains(got.HTML, m.HTML) {
		t.Fatalf("text %q html %q", got.Text, got.HTML)
	}
	if len(got.Attachments) != 1 || got.Attachments[0].FileName != "receipt-42.pdf" || got.Attachments[0].ContentType != "application/pdf" {
		t.Fatalf("attachments %+v", got.Attachments)
	}
	if b := mp.Attachment(t, got.ID, got.Attachments[0].PartID); !bytes.Equal(b, pdf) {
		t.Fatalf("attachment: %d bytes, want %d equal bytes", len(b), len(pdf))
	}
	if h := headers(t, mp, got.ID); len(h["X-Liberation-Dedupe"]) != 1 || h["X-Liberation-Dedupe"][0] != "receipt#p42" ||
		len(h["Message-Id"]) != 1 || !strings.HasSuffix(h["Message-Id"][0], "@email.amazonses.com>") {
		t.Fatalf("headers %v", h)
	}
}

// headers reads a message's headers from mailpit's API (localtest.Mailpit does not expose them).
func headers(t *testing.T, mp *localtest.Mailpit, id string) map[string][]string {
	t.Helper()
	res, err := http.Get(mp.URL + "/api/v1/message/" + url.PathEscape(id) + "/headers")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var h map[string][]string
	if err := json.NewDecoder(res.Body).Decode(&h); err != nil {
		t.Fatal(err)
	}
	return h
}

// An unverified From is refused with SES's MessageRejected and nothing reaches mailpit; a verified
// message to the same recipient afterwards does, so the empty search is not a mailpit hiccup.
func TestUnverifiedFromReachesNoOne(t *testing.T) {
	ses := start(t, os.Getenv("SMTP_ADDR"))
	to := recipient(t)
	err := ses.Send(context.Background(), mail.Message{From: "billing@liberation.local", To: to, Subject: "unverified", Text: "t"})
	var rej *types.MessageRejected
	if !errors.As(err, &rej) || !strings.Contains(rej.ErrorMessage(), "not verified") {
		t.Fatalf("want MessageRejected, got %v", err)
	}
	if err := ses.Send(context.Background(), mail.Message{From: localtest.MailFrom, To: to, Subject: "verified", Text: "t"}); err != nil {
		t.Fatal(err)
	}
	msgs := mailpit(t).WaitFor(t, "to:"+to, 1)
	if len(msgs) != 1 || msgs[0].Subject != "verified" {
		t.Fatalf("messages for %s: %+v", to, msgs)
	}
}

// With the SMTP server unreachable, sesmail reports apperr.Unavailable (after the SDK's retries)
// caused by SES's InternalFailure, as a SES outage would be.
func TestSMTPDownIsUnavailable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().String()
	l.Close()
	ses := start(t, closed)
	err = ses.Send(context.Background(), mail.Message{From: localtest.MailFrom, To: recipient(t), Subject: "s", Text: "t"})
	var api smithy.APIError
	if !apperr.Is(err, apperr.Unavailable) || !errors.As(err, &api) || api.ErrorCode() != "InternalFailure" {
		t.Fatalf("want Unavailable caused by InternalFailure, got %v", err)
	}
}
