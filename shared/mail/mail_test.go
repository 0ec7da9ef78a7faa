package mail

import (
	"context"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sesv2"
)

func TestBuildMIMEParses(t *testing.T) {
	m := Message{From: "a@b.c", To: "d@e.f", Subject: "Reçu 9,99 €", Text: "hello", HTML: "<p>hello</p>",
		Attachments: []Attachment{{Filename: "receipt.pdf", ContentType: "application/pdf", Data: []byte("%PDF-1.3 test")}},
		Headers:     map[string]string{"X-Liberation-Dedupe": "receipt#p1"}}
	raw, err := BuildMIME(m, time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	msg, err := mail.ReadMessage(strings.NewReader(string(raw)))
	if err != nil {
		t.Fatal(err)
	}
	subj, _ := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	if subj != m.Subject || msg.Header.Get("X-Liberation-Dedupe") != "receipt#p1" {
		t.Fatalf("headers: %q %v", subj, msg.Header)
	}
	_, params, _ := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	mr := multipart.NewReader(msg.Body, params["boundary"])
	var parts []string
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		parts = append(parts, p.Header.Get("Content-Type"))
		io.Copy(io.Discard, p)
	}
	if len(parts) != 2 || !strings.HasPrefix(parts[0], "multipart/alternative") || parts[1] != "application/pdf" {
		t.Fatalf("parts %v", parts)
	}
}

func TestValidateRefusesHeaderInjection(t *testing.T) {
	for _, m := range []Message{
		{From: "a@b.c", To: "d@e.f\r\nBcc: x@y.z", Subject: "s", Text: "t"},
		{From: "a@b.c", To: "d@e.f", Subject: "s\nBcc: x", Text: "t"},
		{From: "a@b.c", To: "", Subject: "s", Text: "t"},
		{From: "a@b.c", To: "d@e.f", Subject: "s"},
	} {
		if err := m.Validate(); err == nil {
			t.Errorf("accepted %+v", m)
		}
		if err := (SES{Client: nil}).Send(context.Background(), m); err == nil {
			t.Errorf("SES sent an invalid message")
		}
	}
}

type fakeSES struct{ in *sesv2.SendEmailInput }

func (f *fakeSES) SendEmail(ctx context.Context, in *sesv2.SendEmailInput, _ ...func(*sesv2.Options)) (*sesv2.SendEmailOutput, error) {
	f.in = in
	return &sesv2.SendEmailOutput{}, nil
}

func TestSESRequestShape(t *testing.T) {
	f := &fakeSES{}
	err := SES{Client: f}.Send(context.Background(), Message{From: "a@b.c", To: "d@e.f", Subject: "s", Text: "t", HTML: "<b>t</b>",
		Attachments: []Attachment{{Filename: "r.pdf", ContentType: "application/pdf", Data: []byte("x")}}})
	if err != nil {
		t.Fatal(err)
	}
	s := f.in.Content.Simple
	if *f.in.FromEmailAddress != "a@b.c" || f.in.Destination.ToAddresses[0] != "d@e.f" || *s.Body.Text.Data != "t" || *s.Body.Html.Data != "<b>t</b>" || len(s.Attachments) != 1 {
		t.Fatalf("request %+v", f.in)
	}
}

func TestFromEnv(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	if s, _ := FromEnv(nil, env(map[string]string{"MAIL_TRANSPORT": "smtp", "SMTP_ADDR": "h:1"})); s.(SMTP).Addr != "h:1" {
		t.Fatal("smtp")
	}
	if s, _ := FromEnv(nil, env(nil)); s == nil {
		t.Fatal("ses default")
	} else if _, ok := s.(SES); !ok {
		t.Fatal("default transport must be SES")
	}
	if _, err := FromEnv(nil, env(map[string]string{"MAIL_TRANSPORT": "carrier-pigeon"})); err == nil {
		t.Fatal("unknown transport must fail")
	}
}
