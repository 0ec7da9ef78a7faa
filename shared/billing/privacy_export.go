package billing

import (
	"github.com/liberation/monetization/shared/platform"
	"github.com/liberation/monetization/shared/privacy"
	"github.com/liberation/monetization/shared/store"
)

// BuildPersonalExportHooks registers billing's exporter with the export host (docs/privacy.md).
func BuildPersonalExportHooks(rt *platform.Runtime, r *privacy.Registry) error {
	r.RegisterExporter("billing", PersonalDataExporter(privacy.Reader{S: store.Open(rt)}))
	return nil
}

// PersonalDataExporter answers for billing's items about a person: the user profile (e-mail,
// Stripe customer), the subscription and any other live subscription seen for them. The Stripe
// ordering watermark is bookkeeping, left out.
func PersonalDataExporter(rd privacy.Reader) privacy.Exporter {
	return privacy.Sources(func(s privacy.Subject) []privacy.Source {
		return []privacy.Source{
			rd.One("user", store.UserKey(s.UserID)),
			rd.One("subscription", store.SubscriptionKey(s.UserID)).Without("lastEventCreated", "lastEventRank", "lastEventId"),
			rd.Partition("other-subscription", store.UserPK(s.UserID), store.OtherSubscriptionPrefix),
		}
	})
}
