package receipts

import (
	"html"
	"net/url"

	"strings"
)

// esc escapes text for HTML element content and quoted attribute values.
func esc(s string) string { return html.EscapeString(s) }

// safeURL returns u, escaped for a quoted href, when it is an absolute http(s) or mailto URL; any
// other scheme (javascript:, data:, …) becomes "#", a dead link, as html/template did.
func safeURL(u string) string {
	p, err := url.Parse(strings.TrimSpace(u))
	if err != nil {
		return "#"
	}
	switch strings.ToLower(p.Scheme) {
	case "http", "https", "mailto":
		return esc(u)
	}
	return "#"
}

// when returns s if cond, else "".
func when(cond bool, s string) string {
	if cond {
		return s
	}
	return ""
}

// ----- plain text -----

func receiptText(v view) string {
	return "Thank you for your payment to " + v.B.ProductName + ".\n\n" +
		"Receipt number: " + v.Number + "\n" +
		"Date:           " + v.Date + "\n" +
		"Billed to:      " + v.BilledTo + "\n" +
		"Description:    " + v.Description +
		when(v.Period != "", "\nPeriod:         "+v.Period) +
		"\nAmount paid:    " + v.Amount +
		when(v.Refunded != "", "\nRefunded:       "+v.Refunded+"\nNet:            "+v.Net) +
		when(v.PaymentMethod != "", "\nPaid with:      "+v.PaymentMethod) +
		"\n\nThe receipt is attached as a PDF. Questions? Write to " + v.B.SupportEmail + ".\n"
}

func refundText(v view) string {
	return "We have refunded " + v.RefundAmount + " to you.\n\n" +
		"Refund:         " + v.RefundID + "\n" +
		"Date:           " + v.RefundDate + "\n" +
		"Receipt number: " + v.Number + "\n" +
		"Description:    " + v.Description + "\n" +
		"Amount paid:    " + v.Amount + "\n" +
		"Refunded total: " + v.Refunded + "\n\n" +
		"Refunds reach your account in 5–10 business days, depending on your bank. The credit note is\n" +
		"attached. Questions? Write to " + v.B.SupportEmail + ".\n"
}

func dunningText(v view) string {
	next := "We will not retry automatically. "
	if v.NextAttempt != "" {
		next = "We will try again on " + v.NextAttempt + ". "
	}
	return "We could not collect your " + v.B.ProductName + " payment of " + v.Amount +
		when(v.Invoice != "", " (invoice "+v.Invoice+")") + ".\n\n" +
		next + "Your access continues while we retry.\n" +
		when(v.PayURL != "", "\nPay the invoice now: "+v.PayURL) +
		"\nUpdate your payment method: " + v.UpdateURL + "\n\n" +
		"Questions? Write to " + v.B.SupportEmail + ".\n"
}

// ----- HTML -----

// page wraps an e-mail's body in the branded frame.
func page(v view, body string) string {
	name := esc(v.B.ProductName)
	support := esc(v.B.SupportEmail)
	// v.B.Color is "#RRGGBB" (WithDefaults drops anything else), so it is safe inside style.
	return `<!doctype html><html><head><meta charset="utf-8"><title>` + name + `</title></head>
<body style="font-family:Helvetica,Arial,sans-serif;color:#111;margin:0;padding:24px;background:#f6f6f9">
<div style="max-width:560px;margin:auto;background:#fff;border-radius:8px;overflow:hidden">
<div style="background:` + v.B.Color + `;color:#fff;padding:16px 24px;font-size:20px;font-weight:bold">` + logo(v.B) + name + `</div>
<div style="padding:24px">` + body + `
<p style="color:#666;font-size:12px">Questions? Write to <a href="` + safeURL("mailto:"+v.B.SupportEmail) + `">` + support + `</a>.</p>
</div></div></body></html>`
}

// logo is the organisation's logo before its name (nothing for the platform's branding).
func logo(b Branding) string {
	if b.LogoURL == "" {
		return ""
	}
	return `<img src="` + esc(b.LogoURL) + `" alt="" height="28" style="vertical-align:middle;margin-right:8px">`
}

// row is one label/value line of a receipt table (value escaped; label is ours).
func row(label, value string) string {
	return `<tr><td>` + label + `</td><td style="text-align:right">` + esc(value) + `</td></tr>`
}

func receiptHTML(v view) string {
	return `
<p>Thank you for your payment.</p>
<table style="width:100%;border-collapse:collapse;font-size:14px">
` + row("Receipt number", v.Number) + `
` + row("Date", v.Date) + `
` + row("Billed to", v.BilledTo) + `
` + row("Description", v.Description) + `
` + when(v.Period != "", row("Period", v.Period)) + `
<tr><td><strong>Amount paid</strong></td><td style="text-align:right"><strong>` + esc(v.Amount) + `</strong></td></tr>
` + when(v.Refunded != "", row("Refunded", v.Refunded)+"\n"+row("Net", v.Net)) + `
` + when(v.PaymentMethod != "", row("Paid with", v.PaymentMethod)) + `
</table>
<p>The receipt is attached as a PDF.</p>`
}

func refundHTML(v view) string {
	return `
<p>We have refunded <strong>` + esc(v.RefundAmount) + `</strong> to you.</p>
<table style="width:100%;border-collapse:collapse;font-size:14px">
` + row("Refund", v.RefundID) + `
` + row("Date", v.RefundDate) + `
` + row("Receipt number", v.Number) + `
` + row("Description", v.Description) + `
` + row("Amount paid", v.Amount) + `
` + row("Refunded total", v.Refunded) + `
</table>
<p>Refunds reach your account in 5–10 business days, depending on your bank. The credit note is attached.</p>`
}

func dunningHTML(v view) string {
	next := "We will not retry automatically."
	if v.NextAttempt != "" {
		next = "We will try again on " + esc(v.NextAttempt) + "."
	}
	color := v.B.Color
	return `
<p>We could not collect your payment of <strong>` + esc(v.Amount) + `</strong>` +
		when(v.Invoice != "", ` (invoice `+esc(v.Invoice)+`)`) + `.</p>
<p>` + next + ` Your access continues while we retry.</p>
` + when(v.PayURL != "", `<p><a href="`+safeURL(v.PayURL)+`" style="color:`+color+`">Pay the invoice now</a></p>`) + `
<p><a href="` + safeURL(v.UpdateURL) + `" style="color:` + color + `">Update your payment method</a></p>`
}
