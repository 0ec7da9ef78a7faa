// Package mail sends e-mail: through SES v2 in AWS, through SMTP locally (mailpit), chosen by
// MAIL_TRANSPORT. Callers build a Message; transports never log bodies.
package mail

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sesv2/types"

	"github.com/liberation/monetization/shared/apperr"
)

// Attachment is a file sent with a message.
type Attachment struct {
	Filename    string
	ContentType string
	Data        []byte
}

// Message is one e-mail with a plain-text and an HTML body.
type Message struct {
	From        string
	To          string
	Subject     string
	Text        string
	HTML        string
	Attachments []Attachment
	// Headers such as "X-Liberation-Dedupe" help find a message in mailpit and in SES logs.
	Headers map[string]string
}

// Sender sends a message.
type Sender interface {
	Send(ctx context.Context, m Message) error
}

// Validate checks the fields every transport needs; it also refuses header injection.
func (m Message) Validate() error {
	for name, v := range map[string]string{"from": m.From, "to": m.To, "subject": m.Subject} {
		if strings.TrimSpace(v) == "" {
			return apperr.New(apperr.Invalid, "mail %s is required", name)
		}
		if strings.ContainsAny(v, "\r\n") {
			return apperr.New(apperr.Invalid, "mail %s contains a line break", name)
		}
	}
	if m.Text == "" && m.HTML == "" {
		return apperr.New(apperr.Invalid, "mail body is required")
	}
	return nil
}

// SESAPI is the subset of the SES v2 client used.
type SESAPI interface {
	SendEmail(context.Context, *sesv2.SendEmailInput, ...func(*sesv2.Options)) (*sesv2.SendEmailOutput, error)
}

// SES sends through Amazon SES v2 (simple content with attachments).
type SES struct{ Client SESAPI }

// Send implements Sender.
func (s SES) Send(ctx context.Context, m Message) error {
	if err := m.Validate(); err != nil {
		return err
	}
	msg := &types.Message{
		Subject: &types.Content{Data: aws.String(m.Subject), Charset: aws.String("UTF-8")},
		Body:    &types.Body{},
	}
	if m.Text != "" {
		msg.Body.Text = &types.Content{Data: aws.String(m.Text), Charset: aws.String("UTF-8")}
	}
	if m.HTML != "" {
		msg.Body.Html = &types.Content{Data: aws.String(m.HTML), Charset: aws.String("UTF-8")}
	}
	for _, a := range m.Attachments {
		msg.Attachments = append(msg.Attachments, types.Attachment{
			FileName: aws.String(a.Filename), ContentType: aws.String(a.ContentType), RawContent: a.Data,
		})
	}
	for k, v := range m.Headers {
		msg.Headers = append(msg.Headers, types.MessageHeader{Name: aws.String(k), Value: aws.String(v)})
	}
	_, err := s.Client.SendEmail(ctx, &sesv2.SendEmailInput{
		FromEmailAddress: aws.String(m.From),
		Destination:      &types.Destination{ToAddresses: []string{m.To}},
		Content:          &types.EmailContent{Simple: msg},
	})
	if err != nil {
		return apperr.Wrap(err, apperr.Unavailable, "send e-mail")
	}
	return nil
}

// FromEnv picks the transport: "smtp" (SMTP_ADDR, default 127.0.0.1:1025) or "ses".
func FromEnv(ses SESAPI, getenv func(string) string) (Sender, error) {
	switch t := getenv("MAIL_TRANSPORT"); t {
	case "", "ses":
		return SES{Client: ses}, nil
	case "smtp":
		addr := getenv("SMTP_ADDR")
		if addr == "" {
			addr = "127.0.0.1:1025"
		}
		return SMTP{Addr: addr}, nil
	default:
		return nil, fmt.Errorf("MAIL_TRANSPORT %q is not ses or smtp", t)
	}
}
