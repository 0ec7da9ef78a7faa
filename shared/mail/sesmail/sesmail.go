// Package sesmail sends mail.Messages through Amazon SES v2. Only functions whose manifest entry
// declares Email link it (their generated main passes Provide).
package sesmail

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sesv2/types"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/mail"
	"github.com/liberation/monetization/shared/platform"
)

// SESAPI is the subset of the SES v2 client used.
type SESAPI interface {
	SendEmail(context.Context, *sesv2.SendEmailInput, ...func(*sesv2.Options)) (*sesv2.SendEmailOutput, error)
}

// SES sends through Amazon SES v2 (simple content with attachments).
type SES struct{ Client SESAPI }

// Send implements mail.Sender.
func (s SES) Send(ctx context.Context, m mail.Message) error {
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
func FromEnv(ses SESAPI, getenv func(string) string) (mail.Sender, error) {
	switch t := getenv("MAIL_TRANSPORT"); t {
	case "", "ses":
		return SES{Client: ses}, nil
	case "smtp":
		addr := getenv("SMTP_ADDR")
		if addr == "" {
			addr = "127.0.0.1:1025"
		}
		return mail.SMTP{Addr: addr}, nil
	default:
		return nil, fmt.Errorf("MAIL_TRANSPORT %q is not ses or smtp", t)
	}
}

// Provide gives the function a mail sender: SES v2 in AWS, SMTP under the local stack.
func Provide(rt *platform.Runtime) error {
	var err error
	s := platform.Shared(rt, "mail-sender", func() mail.Sender {
		var s mail.Sender
		s, err = FromEnv(sesv2.NewFromConfig(rt.AWS, func(o *sesv2.Options) { o.BaseEndpoint = rt.Endpoint("SESV2") }), rt.Getenv)
		return s
	})
	if err != nil {
		return err
	}
	rt.Provide(platform.CapMail, s)
	return nil
}
