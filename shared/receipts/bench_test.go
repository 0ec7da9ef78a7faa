package receipts

import (
	"testing"
	"time"
)

func benchReceipt() Receipt {
	return Receipt{Number: "R-2026-000123", PaymentID: "pay_01", Date: time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC),
		BilledTo: "alice@example.com", Description: "Pro subscription", Kind: "subscription",
		AmountCents: 999, Currency: "usd", PaymentMethod: "Visa •••• 4242"}
}

// go test -run '^$' -bench . -benchmem ./shared/receipts/
func BenchmarkReceiptEmail(b *testing.B) {
	r := benchReceipt()
	for b.Loop() {
		if _, err := ReceiptEmail(r); err != nil {
			b.Fatal(err)
		}
	}
}
