package payments

import (
	"fmt"
	"slices"
	"testing"

	"github.com/liberation/monetization/shared/privacy"
	"github.com/liberation/monetization/shared/privacy/privacytest"
	"github.com/liberation/monetization/shared/store"
)

// Payments exports the person's payments (naming their receipt PDF), every refund (naming its
// credit note) and disputes, paged across all three — not another user's, nor the admin who asked
// for a refund.
func TestPersonalDataExporter(t *testing.T) {
	s := newTestStore(t, nil)
	it := privacytest.Item
	for i := 0; i < 7; i++ {
		id := fmt.Sprintf("pay_%d", i)
		privacytest.Seed(t, s, it(store.PaymentKey("u1", id), "payment", map[string]any{"id": id, "amountCents": 1000 + i,
			"receiptKey": ReceiptObjectKey("u1", id), "eventId": "evt_1"}))
	}
	privacytest.Seed(t, s,
		it(store.RefundKey("u1", "pay_0", "re_1"), "refund", map[string]any{"id": "re_1", "paymentId": "pay_0", "requestedBy": "admin-9"}),
		it(store.DisputeKey("u1", "dp_1"), "dispute", map[string]any{"id": "dp_1"}),
		it(store.PaymentKey("u2", "pay_x"), "payment", map[string]any{"id": "pay_x", "amountCents": 1}),
	)
	items, files := privacytest.All(t, PersonalDataExporter(privacy.Reader{S: s}), privacy.Subject{UserID: "u1"}, 3)
	if got := privacytest.Count(items); got["payment"] != 7 || got["refund"] != 1 || got["dispute"] != 1 || len(items) != 9 {
		t.Fatalf("items %v", got)
	}
	privacytest.Holds(t, items, []string{`"amountCents":1006`, "re_1", "dp_1"}, []string{"pay_x", "admin-9", "evt_1"})
	if len(files) != 8 || !slices.Contains(files, ReceiptObjectKey("u1", "pay_6")) || !slices.Contains(files, CreditNoteObjectKey("u1", "pay_0", "re_1")) {
		t.Fatalf("files %v: want the 7 receipts and the credit note", files)
	}
}
