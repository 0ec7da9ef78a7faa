package sesbridge

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	netmail "net/mail"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sesv2/types"
	"github.com/aws/smithy-go"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/mail"
	"github.com/liberation/monetization/shared/mail/sesmail"
)

const from = "receipts@liberation.local"

// serve runs a bridge on an httptest server and counts the requests it gets.
func serve(t *testing.T, cfg Config) (url string, requests *atomic.Int32) {
	t.Helper()
	var n atomic.Int32
	b := New(cfg)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		b.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL, &n
}

// parsed is a relayed message read back from its MIME text.
type parsed struct {
	header      netmail.Header
	subject     string
	text, html  string
	attachments map[string][]byte // file name → bytes
	ctypes      map[string]string // file name → content type
}

func parseMIME(t *testing.T, raw string) parsed {
	t.Helper()
	msg, err := netmail.ReadMessage(strings.NewReader(raw))
	if err != nil {
		t.Fatalf("relayed message does not parse: %v", err)
	}
	p := parsed{header: msg.Header, attachments: map[string][]byte{}, ctypes: map[string]string{}}
	p.subject, err = new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	if err != nil {
		t.Fatal(err)
	}
	var walk func(r io.Reader, ctype string)
	walk = func(r io.Reader, ctype string) {
		mt, params, err := mime.ParseMediaType(ctype)
		if err != nil {
			t.Fatal(err)
		}
		mr := multipart.NewReader(r, params["boundary"])
		for {
			part, err := mr.NextPart()
			if err == io.EOF {
				return
			}
			if err != nil {
				t.Fatalf("%s: %v", mt, err)
			}
			pt := part.Header.Get("Content-Type")
			if strings.HasPrefix(pt, "multipart/") {
				walk(part, pt)
				continue
			}
			// multipart.Reader decodes quoted-printable only; the builder writes base64.
			b, _ := io.ReadAll(part)
			data := decodeB64(t, b)
			switch {
			case part.FileName() != "":
				p.attachments[part.FileName()] = data
				p.ctypes[part.FileName()] = pt
			case strings.HasPrefix(pt, "text/plain"):
				p.text = string(data)
			case strings.HasPrefix(pt, "text/html"):
				p.html = string(data)
			}
		}
	}
	walk(msg.Body, msg.Header.Get("Content-Type"))
	return p
}

func decodeB64(t *testing.T, b []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	dec := base64.NewDecoder(base64.StdEncoding, bytes.NewReader(b)) // skips the CRLF line breaks
	if _, err := io.Copy(&out, dec); err != nil {
		t.Fatalf("base64 part: %v", err)
	}
	return out.Bytes()
}

// A message sent through shared/mail/sesmail and the real SDK arrives over SMTP with every part
// intact: this is the path functions take under MAIL_TRANSPORT=ses.
func TestSESMailThroughBridgeRelaysEverything(t *testing.T) {
	smtpd := startFakeSMTP(t, false)
	url, _ := serve(t, Config{SMTPAddr: smtpd.Addr, Identities: []string{from}})
	pdf := append([]byte("%PDF-1.4\n"), bytes.Repeat([]byte{0, 0xff, 0x10, '\r', '\n', '.'}, 300)...)
	m := mail.Message{
		From: "Liberation <" + from + ">", To: "ana@example.com", Subject: "Reçu n° 42 — 9,99 €",
		Text: "Merci !\n.\nligne", HTML: "<p>Merci&nbsp;!</p>",
		Attachments: []mail.Attachment{{Filename: "reçu-42.pdf", ContentType: "application/pdf", Data: pdf}},
		Headers:     map[string]string{"X-Liberation-Dedupe": "receipt#p42"},
	}
	if err := (sesmail.SES{Client: NewClient(url, 1)}).Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	got := smtpd.deliveries()
	if len(got) != 1 {
		t.Fatalf("deliveries: %d", len(got))
	}
	d := got[0]
	if d.From != from || len(d.To) != 1 || d.To[0] != "ana@example.com" {
		t.Fatalf("envelope %q → %q", d.From, d.To)
	}
	p := parseMIME(t, d.Data)
	if p.subject != m.Subject || p.text != m.Text || p.html != m.HTML {
		t.Fatalf("content: subject %q text %q html %q", p.subject, p.text, p.html)
	}
	if p.header.Get("X-Liberation-Dedupe") != "receipt#p42" || p.header.Get("From") != m.From || p.header.Get("To") != m.To {
		t.Fatalf("headers %v", p.header)
	}
	if !bytes.Equal(p.attachments["reçu-42.pdf"], pdf) || p.ctypes["reçu-42.pdf"] != "application/pdf" {
		t.Fatalf("attachment: %d bytes (%q), want %d", len(p.attachments["reçu-42.pdf"]), p.ctypes["reçu-42.pdf"], len(pdf))
	}
}

// The MessageId answered is the one the relayed message carries (as SES's Message-ID does), and the
// answer parses in the SDK.
func TestSendEmailAnswersMessageID(t *testing.T) {
	smtpd := startFakeSMTP(t, false)
	url, _ := serve(t, Config{SMTPAddr: smtpd.Addr, Identities: []string{"liberation.local"}})
	out, err := NewClient(url, 1).SendEmail(context.Background(), simpleInput(from, "bo@example.com"))
	if err != nil {
		t.Fatal(err)
	}
	if out.MessageId == nil || *out.MessageId == "" {
		t.Fatal("no MessageId")
	}
	got := smtpd.deliveries()
	if len(got) != 1 {
		t.Fatalf("deliveries: %d", len(got))
	}
	if mid := parseMIME(t, got[0].Data).header.Get("Message-Id"); mid != "<"+*out.MessageId+"@email.amazonses.com>" {
		t.Fatalf("Message-ID %q for MessageId %q", mid, *out.MessageId)
	}
}

func simpleInput(fromAddr string, to ...string) *sesv2.SendEmailInput {
	return &sesv2.SendEmailInput{
		FromEmailAddress: aws.String(fromAddr),
		Destination:      &types.Destination{ToAddresses: to},
		Content: &types.EmailContent{Simple: &types.Message{
			Subject: &types.Content{Data: aws.String("hello")},
			Body:    &types.Body{Text: &types.Content{Data: aws.String("body")}},
		}},
	}
}

// Only a From whose address or domain is a verified identity may send; the refusal is SES's
// MessageRejected (the SDK's typed error) naming the signing region, and nothing is relayed.
func TestIdentityCheck(t *testing.T) {
	smtpd := startFakeSMTP(t, false)
	url, _ := serve(t, Config{SMTPAddr: smtpd.Addr, Identities: []string{"Receipts@Liberation.local", "support.example.org"}})
	c := NewClient(url, 1)
	for _, tc := range []struct {
		from string
		ok   bool
	}{
		{"receipts@liberation.local", true},
		{"Liberation Receipts <RECEIPTS@liberation.LOCAL>", true}, // display name; case-insensitive
		{"agents@support.example.org", true},                      // domain identity
		{"=?utf-8?q?Re=C3=A7us?= <x@support.example.org>", true},  // RFC 2047 display name
		{"billing@liberation.local", false},                       // another address at an address identity's domain
		{"a@eu.support.example.org", false},                       // sub-domain: not listed
		{"a@example.org", false},                                  // parent domain
		{"evil@support.example.org.attacker.com", false},
	} {
		before := len(smtpd.deliveries())
		_, err := c.SendEmail(context.Background(), simpleInput(tc.from, "r@example.com"))
		delivered := len(smtpd.deliveries()) - before
		if tc.ok {
			if err != nil || delivered != 1 {
				t.Errorf("%s: err %v, delivered %d", tc.from, err, delivered)
			}
			continue
		}
		var rej *types.MessageRejected
		if !errors.As(err, &rej) {
			t.Errorf("%s: want MessageRejected, got %v", tc.from, err)
			continue
		}
		if !strings.HasPrefix(rej.ErrorMessage(), "Email address is not verified.") || !strings.Contains(rej.ErrorMessage(), "region EU-WEST-3") {
			t.Errorf("%s: message %q", tc.from, rej.ErrorMessage())
		}
		if delivered != 0 {
			t.Errorf("%s: rejected yet delivered", tc.from)
		}
	}
}

// Through sesmail an unverified From is an error too (wrapping MessageRejected).
func TestSESMailUnverifiedFrom(t *testing.T) {
	smtpd := startFakeSMTP(t, false)
	url, _ := serve(t, Config{SMTPAddr: smtpd.Addr, Identities: []string{from}})
	err := (sesmail.SES{Client: NewClient(url, 1)}).Send(context.Background(),
		mail.Message{From: "other@liberation.local", To: "r@example.com", Subject: "s", Text: "t"})
	var rej *types.MessageRejected
	if !errors.As(err, &rej) {
		t.Fatalf("want MessageRejected, got %v", err)
	}
	if n := len(smtpd.deliveries()); n != 0 {
		t.Fatalf("%d delivered", n)
	}
}

// post sends a raw JSON body as a non-SDK client would, and returns status, error type and message.
func post(t *testing.T, url, path, method, body string) (status int, errType, msg string) {
	t.Helper()
	req, _ := http.NewRequest(method, url+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out map[string]string
	json.NewDecoder(res.Body).Decode(&out)
	if res.StatusCode != http.StatusOK && res.Header.Get("X-Amzn-ErrorType") != out["__type"] {
		t.Errorf("X-Amzn-ErrorType %q, body __type %q", res.Header.Get("X-Amzn-ErrorType"), out["__type"])
	}
	return res.StatusCode, out["__type"], out["message"]
}

// Malformed or unsupported requests are 400 BadRequestException and relay nothing; a minimal valid
// request (the control row) is relayed, so the refusals are due to the defect in each row.
func TestMalformedRequests(t *testing.T) {
	smtpd := startFakeSMTP(t, false)
	url, _ := serve(t, Config{SMTPAddr: smtpd.Addr, Identities: []string{from}})
	valid := func(edit func(m map[string]any)) string {
		m := map[string]any{
			"FromEmailAddress": from,
			"Destination":      map[string]any{"ToAddresses": []string{"r@example.com"}},
			"Content": map[string]any{"Simple": map[string]any{
				"Subject": map[string]any{"Data": "s"},
				"Body":    map[string]any{"Text": map[string]any{"Data": "t"}},
			}},
		}
		if edit != nil {
			edit(m)
		}
		b, _ := json.Marshal(m)
		return string(b)
	}
	simple := func(m map[string]any) map[string]any {
		return m["Content"].(map[string]any)["Simple"].(map[string]any)
	}
	for _, tc := range []struct {
		name, body string
		want       string // error type, "" for success
		contains   string
	}{
		{"control", valid(nil), "", ""},
		{"not json", "{", "BadRequestException", "malformed"},
		{"wrong type", `{"FromEmailAddress": 7}`, "BadRequestException", "malformed"},
		{"bad base64", valid(func(m map[string]any) {
			simple(m)["Attachments"] = []any{map[string]any{"FileName": "a.pdf", "RawContent": "!!notbase64"}}
		}), "BadRequestException", "malformed"},
		{"no content", valid(func(m map[string]any) { delete(m, "Content") }), "BadRequestException", "Content"},
		{"raw content", valid(func(m map[string]any) {
			m["Content"] = map[string]any{"Raw": map[string]any{"Data": "YmxvYg=="}}
		}), "BadRequestException", "Simple"},
		{"no from", valid(func(m map[string]any) { delete(m, "FromEmailAddress") }), "BadRequestException", "FromEmailAddress"},
		{"bad from", valid(func(m map[string]any) { m["FromEmailAddress"] = "not an address" }), "BadRequestException", "FromEmailAddress"},
		{"8-bit from", valid(func(m map[string]any) { m["FromEmailAddress"] = "Reçus <" + from + ">" }), "BadRequestException", "ASCII"},
		{"no recipients", valid(func(m map[string]any) { delete(m, "Destination") }), "BadRequestException", "recipient"},
		{"bad recipient", valid(func(m map[string]any) {
			m["Destination"] = map[string]any{"ToAddresses": []string{"r@example.com", "nope"}}
		}), "BadRequestException", "recipient"},
		{"no subject", valid(func(m map[string]any) { delete(simple(m), "Subject") }), "BadRequestException", "Subject"},
		{"no body", valid(func(m map[string]any) { delete(simple(m), "Body") }), "BadRequestException", "Body"},
		{"empty body", valid(func(m map[string]any) { simple(m)["Body"] = map[string]any{} }), "BadRequestException", "body"},
		{"subject injection", valid(func(m map[string]any) {
			simple(m)["Subject"] = map[string]any{"Data": "s\r\nBcc: x@y.z"}
		}), "BadRequestException", "line break"},
		{"attachment without name", valid(func(m map[string]any) {
			simple(m)["Attachments"] = []any{map[string]any{"RawContent": "YmxvYg=="}}
		}), "BadRequestException", "FileName"},
		{"header with colon", valid(func(m map[string]any) {
			simple(m)["Headers"] = []any{map[string]any{"Name": "X-A:b", "Value": "v"}}
		}), "BadRequestException", "colon"},
		{"header value with line break", valid(func(m map[string]any) {
			simple(m)["Headers"] = []any{map[string]any{"Name": "X-A", "Value": "v\r\nBcc: x@y.z"}}
		}), "BadRequestException", "printable"},
		{"header too long", valid(func(m map[string]any) {
			simple(m)["Headers"] = []any{map[string]any{"Name": "X-A", "Value": strings.Repeat("v", 996)}}
		}), "BadRequestException", "too long"},
		{"header twice", valid(func(m map[string]any) {
			simple(m)["Headers"] = []any{map[string]any{"Name": "X-A", "Value": "1"}, map[string]any{"Name": "x-a", "Value": "2"}}
		}), "BadRequestException", "more than once"},
		{"header overriding subject", valid(func(m map[string]any) {
			simple(m)["Headers"] = []any{map[string]any{"Name": "Subject", "Value": "other"}}
		}), "BadRequestException", "Subject"},
	} {
		before := len(smtpd.deliveries())
		status, typ, msg := post(t, url, SendEmailPath, http.MethodPost, tc.body)
		delivered := len(smtpd.deliveries()) - before
		if tc.want == "" {
			if status != 200 || delivered != 1 {
				t.Errorf("%s: status %d %s %q, delivered %d", tc.name, status, typ, msg, delivered)
			}
			continue
		}
		if status != 400 || typ != tc.want || !strings.Contains(msg, tc.contains) || delivered != 0 {
			t.Errorf("%s: status %d %s %q (want 400 %s ~%q), delivered %d", tc.name, status, typ, msg, tc.want, tc.contains, delivered)
		}
	}
}

// The SDK parses the bridge's BadRequestException into its typed error.
func TestBadRequestParsesInSDK(t *testing.T) {
	url, _ := serve(t, Config{SMTPAddr: closedAddr(t), Identities: []string{from}})
	in := simpleInput(from, "r@example.com")
	in.Content.Simple.Headers = []types.MessageHeader{{Name: aws.String("Bad Name:"), Value: aws.String("v")}}
	_, err := NewClient(url, 3).SendEmail(context.Background(), in)
	var bad *types.BadRequestException
	if !errors.As(err, &bad) {
		t.Fatalf("want BadRequestException, got %v", err)
	}
}

// Date and Message-ID given by the caller are replaced, as SES does; an attachment without a
// content type gets one from its file name.
func TestSESOverridesAndDefaults(t *testing.T) {
	smtpd := startFakeSMTP(t, false)
	url, _ := serve(t, Config{SMTPAddr: smtpd.Addr, Identities: []string{from}})
	in := simpleInput(from, "r@example.com")
	in.Content.Simple.Headers = []types.MessageHeader{
		{Name: aws.String("Date"), Value: aws.String("Mon, 01 Jan 2001 00:00:00 +0000")},
		{Name: aws.String("Message-ID"), Value: aws.String("<mine@example.com>")},
	}
	in.Content.Simple.Attachments = []types.Attachment{{FileName: aws.String("r.pdf"), RawContent: []byte("x")}}
	out, err := NewClient(url, 1).SendEmail(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	p := parseMIME(t, smtpd.deliveries()[0].Data)
	if p.header.Get("Date") == "Mon, 01 Jan 2001 00:00:00 +0000" || p.header.Get("Message-Id") != "<"+*out.MessageId+"@email.amazonses.com>" {
		t.Fatalf("headers %v", p.header)
	}
	if p.ctypes["r.pdf"] != "application/pdf" || string(p.attachments["r.pdf"]) != "x" {
		t.Fatalf("attachment %q %q", p.ctypes["r.pdf"], p.attachments["r.pdf"])
	}
}

// Each recipient (To, Cc, Bcc) gets its own copy, addressed to them.
func TestEveryRecipientGetsACopy(t *testing.T) {
	smtpd := startFakeSMTP(t, false)
	url, _ := serve(t, Config{SMTPAddr: smtpd.Addr, Identities: []string{from}})
	in := simpleInput(from, "a@example.com", "b@example.com")
	in.Destination.CcAddresses = []string{"c@example.com"}
	in.Destination.BccAddresses = []string{"D <d@example.com>"}
	if _, err := NewClient(url, 1).SendEmail(context.Background(), in); err != nil {
		t.Fatal(err)
	}
	var rcpts []string
	for _, d := range smtpd.deliveries() {
		if len(d.To) != 1 {
			t.Fatalf("envelope %v", d.To)
		}
		if h := parseMIME(t, d.Data).header.Get("To"); h != d.To[0] {
			t.Fatalf("To header %q for envelope %q", h, d.To[0])
		}
		rcpts = append(rcpts, d.To[0])
	}
	if strings.Join(rcpts, ",") != "a@example.com,b@example.com,c@example.com,d@example.com" {
		t.Fatalf("recipients %v", rcpts)
	}
}

// An SMTP failure (nothing listening, or the server refusing DATA) is a 500 InternalFailure: the SDK
// retries it (every attempt reaches the bridge) and sesmail reports apperr.Unavailable.
func TestSMTPFailureIsRetriedInternalFailure(t *testing.T) {
	for name, addr := range map[string]string{"closed port": closedAddr(t), "451 on DATA": startFakeSMTP(t, true).Addr} {
		url, requests := serve(t, Config{SMTPAddr: addr, Identities: []string{from}})
		_, err := NewClient(url, 3).SendEmail(context.Background(), simpleInput(from, "r@example.com"))
		var api smithy.APIError
		if !errors.As(err, &api) || api.ErrorCode() != "InternalFailure" || api.ErrorFault() == smithy.FaultClient {
			t.Errorf("%s: want InternalFailure, got %v", name, err)
		}
		if strings.Contains(err.Error(), "r@example.com") {
			t.Errorf("%s: error echoes the recipient: %v", name, err)
		}
		if n := requests.Load(); n != 3 {
			t.Errorf("%s: %d attempts, want 3 (500 must be retried)", name, n)
		}
		requests.Store(0)
		err = (sesmail.SES{Client: NewClient(url, 2)}).Send(context.Background(),
			mail.Message{From: from, To: "r@example.com", Subject: "s", Text: "t"})
		if !apperr.Is(err, apperr.Unavailable) || requests.Load() != 2 {
			t.Errorf("%s: sesmail: %v after %d attempts", name, err, requests.Load())
		}
	}
}

// Anything but POST /v2/email/outbound-emails is 404 UnknownOperationException.
func TestUnknownOperations(t *testing.T) {
	url, _ := serve(t, Config{SMTPAddr: closedAddr(t)})
	for _, tc := range []struct{ method, path string }{
		{http.MethodGet, SendEmailPath},
		{http.MethodPut, SendEmailPath},
		{http.MethodPost, "/v2/email/outbound-bulk-emails"},
		{http.MethodGet, "/v2/email/identities"},
		{http.MethodPost, "/"},
	} {
		status, typ, _ := post(t, url, tc.path, tc.method, "{}")
		if status != 404 || typ != "UnknownOperationException" {
			t.Errorf("%s %s: %d %s", tc.method, tc.path, status, typ)
		}
	}
	// And through the SDK: an operation the bridge does not serve fails with that code.
	_, err := NewClient(url, 1).GetAccount(context.Background(), &sesv2.GetAccountInput{})
	var api smithy.APIError
	if !errors.As(err, &api) || api.ErrorCode() != "UnknownOperationException" {
		t.Fatalf("GetAccount: %v", err)
	}
}

// Start serves on loopback until stopped.
func TestStart(t *testing.T) {
	if _, _, err := Start(Config{}); err == nil {
		t.Fatal("Start without SMTPAddr must fail")
	}
	smtpd := startFakeSMTP(t, false)
	url, stop, err := Start(Config{SMTPAddr: smtpd.Addr, Identities: []string{from}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(url, "http://127.0.0.1:") {
		t.Fatalf("url %q", url)
	}
	if _, err := NewClient(url, 1).SendEmail(context.Background(), simpleInput(from, "r@example.com")); err != nil {
		t.Fatal(err)
	}
	stop()
	if _, err := http.Post(url+SendEmailPath, "application/json", strings.NewReader("{}")); err == nil {
		t.Fatal("bridge still serving after stop")
	}
}
