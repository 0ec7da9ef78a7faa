// Package notify is how licensing and support write e-mails: a branded layout (the organisation's
// name, colours, logo and from-name, or the platform's), rendered as HTML and text without
// text/template or html/template (they cost every linking binary ~1 MB), every value escaped with
// html.EscapeString; and SendOnce, one e-mail per dedupe id under retries and overlapping runs (the
// idempotency-record pattern payments uses for receipts).
package notify

import (
	"html"
	"net/mail"
	"net/url"
	"regexp"
	"strings"
	"sync"
)

// Brand is how an e-mail looks and whom it says it is from.
type Brand struct {
	Name         string // shown in the header and footer: "Acme Training"
	PrimaryColor string // "#RRGGBB": heading and top border
	AccentColor  string // "#RRGGBB": the action button
	LogoURL      string // https only; never fetched by us (the reader's mail client loads it)
	FromName     string // display name of the From header
	SupportEmail string
}

// Platform is the platform's own branding, for e-mails to people without an organisation and to
// support agents.
var Platform = Brand{Name: "Liberation", PrimaryColor: "#4F46E5", AccentColor: "#0EA5E9", FromName: "Liberation",
	SupportEmail: "support@liberation.local"}

// Safe returns b with anything unusable replaced by the platform's value: colours that are not
// #RRGGBB, a logo URL that is not an absolute https URL, empty or multi-line names.
func (b Brand) Safe() Brand {
	if !ValidColor(b.PrimaryColor) {
		b.PrimaryColor = Platform.PrimaryColor
	}
	if !ValidColor(b.AccentColor) {
		b.AccentColor = Platform.AccentColor
	}
	if b.LogoURL != "" && !HTTPSURL(b.LogoURL) {
		b.LogoURL = ""
	}
	if strings.TrimSpace(b.Name) == "" || strings.ContainsAny(b.Name, "\r\n") {
		b.Name = Platform.Name
	}
	if strings.TrimSpace(b.FromName) == "" || strings.ContainsAny(b.FromName, "\r\n") {
		b.FromName = b.Name
	}
	if a, err := mail.ParseAddress(b.SupportEmail); err != nil || a.Address != b.SupportEmail {
		b.SupportEmail = Platform.SupportEmail
	}
	return b
}

// ValidColor reports "#RRGGBB".
func ValidColor(c string) bool {
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

// LogoURLPattern is the shape of a logo URL: empty, or https:// with a plain host (letters, digits,
// dots, hyphens), an optional port, and a path/query/fragment of RFC 3986 characters (percent
// escapes well formed; no quote, space or control character). docs/openapi.yaml states the same
// pattern for logoUrl (a test compares them), so the spec and the handler accept the same values.
const LogoURLPattern = `^(https://[A-Za-z0-9.-]+(:[0-9]{1,5})?([/?#]([A-Za-z0-9._~!$&()*+,;=:@/?#-]|%[0-9A-Fa-f]{2})*)?)?$`

// Compiled on first use, not at init: the binaries that link notify but never check a URL do not pay.
var logoURL = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(LogoURLPattern) })

// HTTPSURL reports a non-empty URL of LogoURLPattern, at most 2048 bytes, that net/url reads as an
// https URL with a host and no credentials.
func HTTPSURL(raw string) bool {
	if raw == "" || len(raw) > 2048 || !logoURL().MatchString(raw) {
		return false
	}
	u, err := url.Parse(raw)
	return err == nil && u.Scheme == "https" && u.Host != "" && u.User == nil && u.Hostname() != ""
}

// From is the From header: the brand's display name on our own sending address (mailFrom may be
// "receipts@x" or "Name <receipts@x>"; only its address is kept, since the domain must be ours).
// net/mail quotes and RFC 2047-encodes the name as needed.
func From(b Brand, mailFrom string) string {
	addr := mailFrom
	if a, err := mail.ParseAddress(mailFrom); err == nil {
		addr = a.Address
	}
	b = b.Safe()
	return (&mail.Address{Name: b.FromName, Address: addr}).String()
}

// Link is an action button.
type Link struct{ Label, URL string }

// Content is what an e-mail says; Render lays it out.
type Content struct {
	Subject    string
	Heading    string
	Paragraphs []string
	Facts      [][2]string // label, value
	Action     *Link       // http(s) only; dropped otherwise
	// Footer explains why the reader gets this e-mail.
	Footer string
}

// Render returns the text and HTML bodies of c in brand b.
func Render(b Brand, c Content) (text, htmlBody string) {
	b = b.Safe()
	e := html.EscapeString
	var t, h strings.Builder
	t.WriteString(c.Heading + "\n\n")
	h.WriteString(`<!doctype html><html><head><meta charset="utf-8"><title>` + e(c.Subject) + `</title></head>`)
	h.WriteString(`<body style="margin:0;padding:0;background:#f4f4f6;font-family:Helvetica,Arial,sans-serif;color:#1f2937">`)
	h.WriteString(`<table role="presentation" width="100%" cellpadding="0" cellspacing="0"><tr><td align="center" style="padding:24px">`)
	h.WriteString(`<table role="presentation" width="600" cellpadding="0" cellspacing="0" style="background:#ffffff;border-top:4px solid ` +
		e(b.PrimaryColor) + `"><tr><td style="padding:24px">`)
	if b.LogoURL != "" {
		h.WriteString(`<img src="` + e(b.LogoURL) + `" alt="` + e(b.Name) + `" height="40" style="display:block;border:0;margin-bottom:16px">`)
	} else {
		h.WriteString(`<div style="font-size:18px;font-weight:bold;margin-bottom:16px">` + e(b.Name) + `</div>`)
	}
	h.WriteString(`<h1 style="font-size:22px;color:` + e(b.PrimaryColor) + `;margin:0 0 16px">` + e(c.Heading) + `</h1>`)
	for _, p := range c.Paragraphs {
		t.WriteString(p + "\n\n")
		h.WriteString(`<p style="font-size:15px;line-height:22px;margin:0 0 12px">` + e(p) + `</p>`)
	}
	if len(c.Facts) > 0 {
		h.WriteString(`<table role="presentation" cellpadding="4" cellspacing="0" style="font-size:14px;margin:8px 0 16px">`)
		for _, f := range c.Facts {
			t.WriteString(f[0] + ": " + f[1] + "\n")
			h.WriteString(`<tr><td style="color:#6b7280;padding-right:16px">` + e(f[0]) + `</td><td>` + e(f[1]) + `</td></tr>`)
		}
		h.WriteString(`</table>`)
		t.WriteString("\n")
	}
	if c.Action != nil && webURL(c.Action.URL) {
		t.WriteString(c.Action.Label + ": " + c.Action.URL + "\n\n")
		h.WriteString(`<p style="margin:16px 0"><a href="` + e(c.Action.URL) + `" style="background:` + e(b.AccentColor) +
			`;color:#ffffff;text-decoration:none;padding:10px 18px;border-radius:4px;display:inline-block">` + e(c.Action.Label) + `</a></p>`)
	}
	footer := b.Name + " · " + b.SupportEmail
	if c.Footer != "" {
		footer = c.Footer + " " + footer
	}
	t.WriteString("-- \n" + footer + "\n")
	h.WriteString(`<p style="font-size:12px;color:#6b7280;margin-top:24px">` + e(c.Footer) + ` ` + e(b.Name) + ` · <a href="mailto:` +
		e(b.SupportEmail) + `" style="color:` + e(b.PrimaryColor) + `">` + e(b.SupportEmail) + `</a></p>`)
	h.WriteString(`</td></tr></table></td></tr></table></body></html>`)
	return t.String(), h.String()
}

func webURL(raw string) bool {
	u, err := url.Parse(raw)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" && !strings.ContainsAny(raw, "\"'<> \r\n")
}
