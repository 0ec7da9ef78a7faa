//go:build integration

package e2e

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/liberation/monetization/infra/local/stripeevents"
)

// A seat holder's receipt — the e-mail and its PDF, read back from the inbox — carries the
// organisation's white label: its from-name, display name (escaped), colour and logo. A learner
// without a seat gets the platform's.
func TestSeatHoldersReceiptIsBranded(t *testing.T) {
	h := Start(t)
	o := newOrg(t, h, 5, "block", "restrict", time.Now())
	brand := map[string]any{"displayName": "Acme <Academy>", "logoUrl": "https://cdn.acme.example/logo.png?v=1&s=2",
		"primaryColor": "#0B3D91", "accentColor": "#FC3D21", "emailFromName": "Acme Academy", "supportEmail": "learning@acme.example",
		"customDomain": "learn.acme.example"}
	h.Call(t, http.MethodPut, "/licenses/"+o.lic.ID+"/branding", o.admin, brand, http.StatusOK, nil)
	member, _ := o.member(t, h, o.invite(t, h, 1))
	outsider := "outsider-" + suffix()

	for _, u := range []string{member, outsider} {
		payload := stripeevents.MustBuild(stripeevents.InvoicePaid, stripeevents.Options{UserID: u, Email: u + "@acme.example"})
		if status := h.PostWebhook(t, payload); status != http.StatusOK {
			t.Fatalf("invoice.paid for %s: %d", u, status)
		}
	}
	read := func(u string) (fromName, html string, pdf []byte) {
		t.Helper()
		msgs := h.Env.Mailpit.WaitFor(t, "to:"+u+"@acme.example", 1)
		m := h.Env.Mailpit.Get(t, msgs[0].ID)
		if len(m.Attachments) != 1 || m.Attachments[0].ContentType != "application/pdf" {
			t.Fatalf("%s: attachments %+v", u, m.Attachments)
		}
		return m.From.Name, m.HTML, h.Env.Mailpit.Attachment(t, m.ID, m.Attachments[0].PartID)
	}

	from, html, pdf := read(member)
	if from != "Acme Academy" || !strings.Contains(html, "Acme &lt;Academy&gt;") || strings.Contains(html, "Acme <Academy>") ||
		!strings.Contains(html, "#0B3D91") || !strings.Contains(html, `src="https://cdn.acme.example/logo.png?v=1&amp;s=2"`) ||
		!strings.Contains(html, "learning@acme.example") {
		t.Fatalf("seat holder's receipt from %q:\n%s", from, html)
	}
	if !bytes.HasPrefix(pdf, []byte("%PDF")) || !bytes.Contains(pdf, []byte("Acme <Academy>")) {
		t.Fatal("the receipt PDF does not carry the organisation's name")
	}

	from, html, pdf = read(outsider)
	if strings.Contains(from, "Acme") || strings.Contains(html, "Acme") || !strings.Contains(html, "Liberation") ||
		bytes.Contains(pdf, []byte("Acme")) {
		t.Fatalf("a learner without a seat got the organisation's branding: from %q\n%s", from, html)
	}
}
