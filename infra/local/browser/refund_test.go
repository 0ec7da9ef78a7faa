//go:build integration

package browser

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
)

// payment is the part of GET /payments/{id} the refund tests read.
type payment struct {
	ID            string `json:"id"`
	AmountCents   int64  `json:"amountCents"`
	RefundedCents int64  `json:"refundedCents"`
	Currency      string `json:"currency"`
	Status        string `json:"status"`
}

// learnerPayment reads the seeded refundable payment as its own learner sees it.
func (s *consoleStack) learnerPayment(t *testing.T) payment {
	t.Helper()
	var p payment
	s.api(t, http.MethodGet, "/payments/"+s.seed.RefundablePaymentID, s.seed.RefundLearnerID, nil, nil, http.StatusOK, &p)
	return p
}

// startRefund signs in as admin, finds the learner's payments through the Payments page's form
// and opens the refund form of the seeded payment.
func (b *tab) startRefund(s *consoleStack) {
	b.t.Helper()
	b.signIn(s, s.seed.AdminID, "admin")
	b.open(s, "payments", "Payments")
	b.fill(field("form[role=search]", "User id"), s.seed.RefundLearnerID)
	b.click(button("form[role=search]", "Find payments"))
	b.waitText("main tr", s.seed.RefundablePaymentID)
	b.waitIdle()
	b.click(inRow(s.seed.RefundablePaymentID, "Refund"))
	b.waitText("main form h2", "Refund payment "+s.seed.RefundablePaymentID)
}

// amountText writes cents as the amount field takes it ("12.34").
func amountText(cents int64) string { return fmt.Sprintf("%d.%02d", cents/100, cents%100) }

// refundResult matches the result line: "Refund <id> of payment <id>: status <s>, amount <money>."
var refundResult = regexp.MustCompile(`Refund (\S+) of payment (\S+): status (\S+), amount (\S+)\.`)

// As admin: find the seeded learner's payments, refund one dollar of the refundable payment
// through the form and the confirmation dialog; the result (refund id, status, amount) shows, the
// request carried an Idempotency-Key, and the learner's GET /payments/{id} now counts the refund.
func TestConsoleRefundsAPayment(t *testing.T) {
	b, s := consoleTab(t, desktopW, desktopH)
	before := s.learnerPayment(t)
	const refund = 100
	if before.AmountCents-before.RefundedCents <= refund {
		t.Fatalf("the seeded payment has only %d cents left to refund: %+v", before.AmountCents-before.RefundedCents, before)
	}
	b.startRefund(s)
	b.fill(field("main form", "Amount (USD, optional)"), amountText(refund))
	b.click(button("main form", "Review refund"))
	b.waitText("dialog[open]", "Refund this payment?")
	b.waitText("dialog[open]", "$1.00")
	b.axe("the payments page with the refund confirmation open")
	b.click(dialogButton("Refund"))
	got := b.waitText("main [role=status]", "Refund ")
	b.waitIdle()

	m := refundResult.FindStringSubmatch(got)
	if m == nil {
		t.Fatalf("the result %q does not say refund id, payment, status and amount", got)
	}
	if m[2] != s.seed.RefundablePaymentID || m[4] != formatMoney(refund, before.Currency) || !strings.HasPrefix(m[1], "re_") {
		t.Errorf("the result says refund %s of %s, amount %s; want re_… of %s, %s", m[1], m[2], m[4],
			s.seed.RefundablePaymentID, formatMoney(refund, before.Currency))
	}
	posts := b.Sent(http.MethodPost, "/admin/refunds")
	if len(posts) != 1 || posts[0].Headers["idempotency-key"] == "" {
		t.Errorf("want one POST /admin/refunds with an Idempotency-Key, got %+v", posts)
	}
	b.shot("refund")

	after := s.learnerPayment(t)
	if after.RefundedCents != before.RefundedCents+refund {
		t.Errorf("GET /payments/%s: refundedCents %d, want %d + %d", after.ID, after.RefundedCents, before.RefundedCents, refund)
	}
	if after.Status != "partially_refunded" {
		t.Errorf("payment status %q after a partial refund", after.Status)
	}
	// The payments table shows the new refunded total in the payment's row.
	b.waitText("main tr", formatMoney(after.RefundedCents, after.Currency))
}

// An API error appears exactly as the API words it: refunding more than remains is refused with
// 422, and the alert shows the same message the API gives for the same request. A retry of the
// refused refund sends the same Idempotency-Key (one key per confirmed operation); nothing is
// refunded.
func TestConsoleShowsAPIErrorsAsWorded(t *testing.T) {
	b, s := consoleTab(t, desktopW, desktopH)
	before := s.learnerPayment(t)
	tooMuch := before.AmountCents + 1 // more than the payment, so more than any remainder
	b.startRefund(s)
	b.fill(field("main form", "Amount (USD, optional)"), amountText(tooMuch))
	b.click(button("main form", "Review refund"))
	b.waitText("dialog[open]", "Refund this payment?")
	b.click(dialogButton("Refund"))
	shown := b.waitText("main .api-error[role=alert]", "")
	b.waitIdle()

	// The same request through the API, with a key of its own: the API's own words.
	tok := s.h.Token(t, s.seed.AdminID, s.seed.AdminID+"@example.com", "admin")
	status, body, _ := s.h.DoWithHeaders(t, http.MethodPost, "/admin/refunds", tok,
		map[string]any{"paymentId": s.seed.RefundablePaymentID, "amountCents": tooMuch, "reason": "requested_by_customer"},
		map[string]string{"Idempotency-Key": "browser-error-probe-" + s.seed.RefundablePaymentID})
	if status != http.StatusUnprocessableEntity {
		t.Fatalf("the API answered %d %s to a refund beyond the payment, want 422", status, body)
	}
	msg := apiError(t, body)
	if !strings.HasPrefix(shown, msg) {
		t.Errorf("the console shows %q; the API says %q", shown, msg)
	}
	b.axe("the refund form showing an API error")
	b.shot("refund-error")

	// Retry the refused refund: the same confirmed operation, so the same key.
	b.click(button("main form", "Retry refund"))
	b.waitText("dialog[open]", "Refund this payment?")
	b.click(dialogButton("Refund"))
	b.poll("the retry's answer", `document.querySelectorAll('main .api-error[role=alert]').length > 0 && !document.querySelector('main form button.danger[disabled]')`)
	b.waitIdle()
	posts := b.Sent(http.MethodPost, "/admin/refunds")
	if len(posts) != 2 {
		t.Fatalf("want 2 POST /admin/refunds (the refused one and its retry), got %d", len(posts))
	}
	if k1, k2 := posts[0].Headers["idempotency-key"], posts[1].Headers["idempotency-key"]; k1 == "" || k1 != k2 {
		t.Errorf("the retry's Idempotency-Key %q differs from the first attempt's %q", k2, k1)
	}
	if after := s.learnerPayment(t); after.RefundedCents != before.RefundedCents {
		t.Errorf("a refused refund changed refundedCents from %d to %d", before.RefundedCents, after.RefundedCents)
	}
}
