package sesmail

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/sesv2"

	"github.com/liberation/monetization/shared/mail"
)

func TestSESRefusesInvalidMessages(t *testing.T) {
	if err := (SES{Client: nil}).Send(context.Background(), mail.Message{From: "a@b.c", To: "d@e.f\r\nBcc: x@y.z", Subject: "s", Text: "t"}); err == nil {
		t.Error("SES sent an invalid message")
	}
}

type fakeSES struct{ in *sesv2.SendEmailInput }

func (f *fakeSES) SendEmail(ctx context.Context, in *sesv2.SendEmailInput, _ ...func(*sesv2.Options)) (*sesv2.SendEmailOutput, error) {
	f.in = in
	return &sesv2.SendEmailOutput{}, nil
}

func TestSESRequestShape(t *testing.T) {
	f := &fakeSES{}
	err := SES{Client: f}.Send(context.Background(), mail.Message{From: "a@b.c", To: "d@e.f", Subject: "s", Text: "t", HTML: "<b>t</b>",
		Attachments: []mail.Attachment{{Filename: "r.pdf", ContentType: "application/pdf", Data: []byte("x")}}})
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
	if s, _ := FromEnv(nil, env(map[string]string{"MAIL_TRANSPORT": "smtp", "SMTP_ADDR": "h:1"})); s.(mail.SMTP).Addr != "h:1" {
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
