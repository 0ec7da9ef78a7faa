// Package receipts renders what a customer receives about money: the receipt e-mail (plain text and
// HTML), the one-page receipt PDF, the refund notice with its credit-note PDF, and the dunning e-mail.
// It only renders; the payments package stores and sends. Branding is a parameter so enterprise
// white-label settings can be passed in later without touching the layouts.
//
// E-mails are built with plain string concatenation rather than text/template or html/template:
// executing a template makes the linker keep every exported method of every linked type (templates
// call methods by name through reflection), which made send-receipts' binary ~60 % larger. Every
// interpolated value in the HTML goes through esc (HTML escaping) or safeURL (scheme allow-list).
package receipts

import (
	"strings"
	"time"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/money"
	"github.com/liberation/monetization/shared/notify"
)

// Branding is the white-label surface of receipts and e-mails. Zero fields take the defaults.
type Branding struct {
	ProductName  string // "Liberation", or an organisation's display name
	Color        string // header colour, "#RRGGBB"
	SupportEmail string
	// LogoURL is an organisation's https logo, shown in HTML e-mails only (the PDF would need the
	// server to fetch it, which it never does). WithDefaults drops anything but an https URL.
	LogoURL string
}

// DefaultBranding is the platform's own branding.
var DefaultBranding = Branding{ProductName: "Liberation", Color: "#4F46E5", SupportEmail: "support@liberation.local"}

// WithDefaults fills empty fields from DefaultBranding and drops a colour that is not "#RRGGBB".
func (b Branding) WithDefaults() Branding {
	if strings.TrimSpace(b.ProductName) == "" {
		b.ProductName = DefaultBranding.ProductName
	}
	if b.LogoURL != "" && !notify.HTTPSURL(b.LogoURL) {
		b.LogoURL = ""
	}
	if !notify.ValidColor(b.Color) {
		b.Color = DefaultBranding.Color
	}
	if strings.TrimSpace(b.SupportEmail) == "" {
		b.SupportEmail = DefaultBranding.SupportEmail
	}
	return b
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

// view is what the renderers see: strings already formatted, so rendering holds no logic about money.
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
	var text, html string
	switch name {
	case "receipt":
		text, html = receiptText(v), page(v, receiptHTML(v))
	case "refund":
		text, html = refundText(v), page(v, refundHTML(v))
	case "dunning":
		text, html = dunningText(v), page(v, dunningHTML(v))
	default:
		return Email{}, apperr.New(apperr.Internal, "no e-mail named %q", name)
	}
	// A subject is a header: no line breaks, whatever a description contains.
	subject = strings.Join(strings.Fields(subject), " ")
	return Email{Subject: subject, Text: text, HTML: html}, nil
}
