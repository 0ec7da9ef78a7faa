// Package receipts renders what a customer receives about money: the receipt e-mail (plain text and
// HTML), the one-page receipt PDF, the refund notice and the dunning e-mail. It only renders; the
// payments package stores and sends. Branding is a parameter so enterprise white-label settings can
// be passed in later without touching the templates.
package receipts

import (
	"bytes"
	htmltemplate "html/template"
	"strings"
	texttemplate "text/template"
	"time"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/money"
)

// Branding is the white-label surface of receipts and e-mails. Zero fields take the defaults.
type Branding struct {
	ProductName  string // "Liberation"
	Color        string // accent colour, "#RRGGBB"
	SupportEmail string
}

// DefaultBranding is the platform's own branding.
var DefaultBranding = Branding{ProductName: "Liberation", Color: "#4F46E5", SupportEmail: "support@liberation.local"}

// WithDefaults fills empty fields from DefaultBranding and drops a colour that is not "#RRGGBB".
func (b Branding) WithDefaults() Branding {
	if strings.TrimSpace(b.ProductName) == "" {
		b.ProductName = DefaultBranding.ProductName
	}
	if !validColor(b.Color) {
		b.Color = DefaultBranding.Color
	}
	if strings.TrimSpace(b.SupportEmail) == "" {
		b.SupportEmail = DefaultBranding.SupportEmail
	}
	return b
}

func validColor(c string) bool {
	if len(c) != 7 || c[0] != '#' {
		return false
	}
	for _, r := range c[1:] {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'f' || r >= 'A' && r <= 'F') {
			return false
		}
	}
	return true
}

// Receipt is everything printed on a receipt. Amounts are minor units of Currency.
type Receipt struct {
	Branding      Branding
	Number        string // receipt number shown to the customer
	PaymentID     string
	Date          time.Time
	BilledTo      string // e-mail address
	Description   string
	Kind          string // "subscription" or "purchase"
	AmountCents   int64
	Currency      string
	RefundedCents int64
	PaymentMethod string // "Visa •••• 4242", if known
	PeriodStart   *time.Time
	PeriodEnd     *time.Time
}

// Refund is a refund notice: the refund and the receipt it refers to.
type Refund struct {
	Receipt     Receipt
	RefundID    string
	AmountCents int64
	Date        time.Time
}

// Dunning is the e-mail sent when a subscription payment fails.
type Dunning struct {
	Branding      Branding
	InvoiceNumber string
	AmountCents   int64
	Currency      string
	Attempt       int64
	NextAttempt   *time.Time // nil when Stripe will not retry
	PayURL        string     // Stripe's hosted invoice page
	UpdateURL     string     // our billing page, to change the payment method
}

// Email is a rendered message.
type Email struct {
	Subject string
	Text    string
	HTML    string
}

// view is what the templates see: strings already formatted, so templates hold no logic about money.
type view struct {
	B             Branding
	Number        string
	Date          string
	BilledTo      string
	Description   string
	Amount        string
	Refunded      string // "" when nothing refunded
	Net           string
	PaymentMethod string
	Period        string
	RefundAmount  string
	RefundID      string
	RefundDate    string
	Attempt       int64
	NextAttempt   string
	PayURL        string
	UpdateURL     string
	Invoice       string
}

const dateLayout = "January 2, 2006"

func receiptView(r Receipt) view {
	v := view{
		B:             r.Branding.WithDefaults(),
		Number:        r.Number,
		Date:          r.Date.UTC().Format(dateLayout),
		BilledTo:      r.BilledTo,
		Description:   r.Description,
		Amount:        money.Format(r.AmountCents, r.Currency),
		Net:           money.Format(r.AmountCents-r.RefundedCents, r.Currency),
		PaymentMethod: r.PaymentMethod,
	}
	if v.Description == "" {
		v.Description = v.B.ProductName + " payment"
	}
	if r.RefundedCents > 0 {
		v.Refunded = money.Format(r.RefundedCents, r.Currency)
	}
	if r.PeriodStart != nil && r.PeriodEnd != nil {
		v.Period = r.PeriodStart.UTC().Format(dateLayout) + " – " + r.PeriodEnd.UTC().Format(dateLayout)
	}
	return v
}

// ReceiptEmail renders the receipt e-mail.
func ReceiptEmail(r Receipt) (Email, error) {
	v := receiptView(r)
	return render("receipt", v.B.ProductName+" receipt "+v.Number+" — "+v.Amount, v)
}

// RefundEmail renders the refund notice.
func RefundEmail(f Refund) (Email, error) {
	v := receiptView(f.Receipt)
	v.RefundAmount = money.Format(f.AmountCents, f.Receipt.Currency)
	v.RefundID = f.RefundID
	v.RefundDate = f.Date.UTC().Format(dateLayout)
	return render("refund", v.B.ProductName+": refund of "+v.RefundAmount+" for receipt "+v.Number, v)
}

// DunningEmail renders the payment-failed e-mail.
func DunningEmail(d Dunning) (Email, error) {
	v := view{
		B:         d.Branding.WithDefaults(),
		Amount:    money.Format(d.AmountCents, d.Currency),
		Attempt:   d.Attempt,
		PayURL:    d.PayURL,
		UpdateURL: d.UpdateURL,
		Invoice:   d.InvoiceNumber,
	}
	if d.NextAttempt != nil {
		v.NextAttempt = d.NextAttempt.UTC().Format(dateLayout)
	}
	return render("dunning", v.B.ProductName+": your payment of "+v.Amount+" did not go through", v)
}

func render(name, subject string, v view) (Email, error) {
	var text, html bytes.Buffer
	if err := textTemplates.ExecuteTemplate(&text, name, v); err != nil {
		return Email{}, apperr.Wrap(err, apperr.Internal, "render %s text", name)
	}
	if err := htmlTemplates.ExecuteTemplate(&html, name, v); err != nil {
		return Email{}, apperr.Wrap(err, apperr.Internal, "render %s html", name)
	}
	// A subject is a header: no line breaks, whatever a description contains.
	subject = strings.Join(strings.Fields(subject), " ")
	return Email{Subject: subject, Text: text.String(), HTML: html.String()}, nil
}

var textTemplates = texttemplate.Must(texttemplate.New("text").Parse(`
{{define "receipt"}}Thank you for your payment to {{.B.ProductName}}.

Receipt number: {{.Number}}
Date:           {{.Date}}
Billed to:      {{.BilledTo}}
Description:    {{.Description}}{{if .Period}}
Period:         {{.Period}}{{end}}
Amount paid:    {{.Amount}}{{if .Refunded}}
Refunded:       {{.Refunded}}
Net:            {{.Net}}{{end}}{{if .PaymentMethod}}
Paid with:      {{.PaymentMethod}}{{end}}

The receipt is attached as a PDF. Questions? Write to {{.B.SupportEmail}}.
{{end}}
{{define "refund"}}We have refunded {{.RefundAmount}} to you.

Refund:         {{.RefundID}}
Date:           {{.RefundDate}}
Receipt number: {{.Number}}
Description:    {{.Description}}
Amount paid:    {{.Amount}}
Refunded total: {{.Refunded}}

Refunds reach your account in 5–10 business days, depending on your bank. The updated receipt is
attached. Questions? Write to {{.B.SupportEmail}}.
{{end}}
{{define "dunning"}}We could not collect your {{.B.ProductName}} payment of {{.Amount}}{{if .Invoice}} (invoice {{.Invoice}}){{end}}.

{{if .NextAttempt}}We will try again on {{.NextAttempt}}. {{else}}We will not retry automatically. {{end}}Your access continues while we retry.
{{if .PayURL}}
Pay the invoice now: {{.PayURL}}{{end}}
Update your payment method: {{.UpdateURL}}

Questions? Write to {{.B.SupportEmail}}.
{{end}}`))

var htmlTemplates = htmltemplate.Must(htmltemplate.New("html").Parse(`
{{define "head"}}<!doctype html><html><head><meta charset="utf-8"><title>{{.B.ProductName}}</title></head>
<body style="font-family:Helvetica,Arial,sans-serif;color:#111;margin:0;padding:24px;background:#f6f6f9">
<div style="max-width:560px;margin:auto;background:#fff;border-radius:8px;overflow:hidden">
<div style="background:{{.B.Color}};color:#fff;padding:16px 24px;font-size:20px;font-weight:bold">{{.B.ProductName}}</div>
<div style="padding:24px">{{end}}
{{define "foot"}}<p style="color:#666;font-size:12px">Questions? Write to <a href="mailto:{{.B.SupportEmail}}">{{.B.SupportEmail}}</a>.</p>
</div></div></body></html>{{end}}
{{define "receipt"}}{{template "head" .}}
<p>Thank you for your payment.</p>
<table style="width:100%;border-collapse:collapse;font-size:14px">
<tr><td>Receipt number</td><td style="text-align:right">{{.Number}}</td></tr>
<tr><td>Date</td><td style="text-align:right">{{.Date}}</td></tr>
<tr><td>Billed to</td><td style="text-align:right">{{.BilledTo}}</td></tr>
<tr><td>Description</td><td style="text-align:right">{{.Description}}</td></tr>
{{if .Period}}<tr><td>Period</td><td style="text-align:right">{{.Period}}</td></tr>{{end}}
<tr><td><strong>Amount paid</strong></td><td style="text-align:right"><strong>{{.Amount}}</strong></td></tr>
{{if .Refunded}}<tr><td>Refunded</td><td style="text-align:right">{{.Refunded}}</td></tr>
<tr><td>Net</td><td style="text-align:right">{{.Net}}</td></tr>{{end}}
{{if .PaymentMethod}}<tr><td>Paid with</td><td style="text-align:right">{{.PaymentMethod}}</td></tr>{{end}}
</table>
<p>The receipt is attached as a PDF.</p>
{{template "foot" .}}{{end}}
{{define "refund"}}{{template "head" .}}
<p>We have refunded <strong>{{.RefundAmount}}</strong> to you.</p>
<table style="width:100%;border-collapse:collapse;font-size:14px">
<tr><td>Refund</td><td style="text-align:right">{{.RefundID}}</td></tr>
<tr><td>Date</td><td style="text-align:right">{{.RefundDate}}</td></tr>
<tr><td>Receipt number</td><td style="text-align:right">{{.Number}}</td></tr>
<tr><td>Description</td><td style="text-align:right">{{.Description}}</td></tr>
<tr><td>Amount paid</td><td style="text-align:right">{{.Amount}}</td></tr>
<tr><td>Refunded total</td><td style="text-align:right">{{.Refunded}}</td></tr>
</table>
<p>Refunds reach your account in 5–10 business days, depending on your bank. The updated receipt is attached.</p>
{{template "foot" .}}{{end}}
{{define "dunning"}}{{template "head" .}}
<p>We could not collect your payment of <strong>{{.Amount}}</strong>{{if .Invoice}} (invoice {{.Invoice}}){{end}}.</p>
<p>{{if .NextAttempt}}We will try again on {{.NextAttempt}}.{{else}}We will not retry automatically.{{end}} Your access continues while we retry.</p>
{{if .PayURL}}<p><a href="{{.PayURL}}" style="color:{{.B.Color}}">Pay the invoice now</a></p>{{end}}
<p><a href="{{.UpdateURL}}" style="color:{{.B.Color}}">Update your payment method</a></p>
{{template "foot" .}}{{end}}`))
