package payments

import (
	"github.com/liberation/monetization/shared/platform"
	"github.com/liberation/monetization/shared/privacy"
	"github.com/liberation/monetization/shared/store"
)

// BuildPersonalExportHooks registers payments' exporter with the export host (docs/privacy.md).
func BuildPersonalExportHooks(rt *platform.Runtime, r *privacy.Registry) error {
	r.RegisterExporter("payments", PersonalDataExporter(privacy.Reader{S: store.Open(rt)}))
	return nil
}

// PersonalDataExporter answers for payments' items about a person: their payments (with the
// receipt PDF), refunds (with the credit-note PDF) and disputes. Left out: the admin who asked for a
// refund (someone else's id) and the Stripe event ids (bookkeeping).
func PersonalDataExporter(rd privacy.Reader) privacy.Exporter {
	return privacy.Sources(func(s privacy.Subject) []privacy.Source {
		pk := store.UserPK(s.UserID)
		return []privacy.Source{
			rd.Partition("payment", pk, store.PaymentPrefix).Without("eventId", "pendingRefunds").
				WithFiles(func(row map[string]any) []string {
					if k := privacy.Str(row, "receiptKey"); k != "" {
						return []string{k}
					}
					return nil
				}),
			rd.Partition("refund", pk, store.RefundsPrefix).Without("requestedBy", "operationId").
				WithFiles(func(row map[string]any) []string {
					pay, id := privacy.Str(row, "paymentId"), privacy.Str(row, "id")
					if pay == "" || id == "" {
						return nil
					}
					return []string{CreditNoteObjectKey(s.UserID, pay, id)}
				}),
			rd.Partition("dispute", pk, store.DisputePrefix).Without("eventId"),
		}
	})
}
