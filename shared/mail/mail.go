// Package mail is e-mail as the areas see it: a Message and a Sender. Transports: SES v2 in AWS
// (mail/sesmail, linked only by functions whose manifest entry declares Email) and SMTP locally
// (mailpit), chosen by MAIL_TRANSPORT. Transports never log bodies.
package mail

import (
	"context"
	"strings"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/platform"
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

// From returns the function's mail sender (its manifest entry must declare Email).
func From(rt *platform.Runtime) (Sender, error) {
	return platform.Capability[Sender](rt, platform.CapMail)
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
