package rewards

import (
	"github.com/liberation/monetization/shared/platform"
	"github.com/liberation/monetization/shared/privacy"
	"github.com/liberation/monetization/shared/store"
)

// BuildPersonalExportHooks registers rewards' exporter with the export host (docs/privacy.md).
func BuildPersonalExportHooks(rt *platform.Runtime, r *privacy.Registry) error {
	r.RegisterExporter("rewards", PersonalDataExporter(privacy.Reader{S: store.Open(rt)}))
	return nil
}

// PersonalDataExporter answers for rewards' items about a person: the token account (with the
// leaderboard profile), every ledger entry, earnings and daily caps, scores, whom they follow and
// their redemptions (with the shipping address they gave). Left out: the admin who adjusted tokens
// or decided a redemption, the admin's internal note, and the workflow's claims.
func PersonalDataExporter(rd privacy.Reader) privacy.Exporter {
	return privacy.Sources(func(s privacy.Subject) []privacy.Source {
		pk := store.UserPK(s.UserID)
		return []privacy.Source{
			rd.One("token-account", store.TokenAccountKey(s.UserID)),
			rd.Partition("token-entry", pk, store.TokenEntryPrefix).Without("actor"),
			rd.Partition("token-earning", pk, store.TokenEarningPrefix),
			rd.Partition("token-cap", pk, store.TokenCapPrefix),
			rd.Partition("leaderboard-score", pk, store.LeaderboardScorePrefix),
			rd.Partition("follow", pk, store.FollowPrefix),
			rd.Partition("redemption", pk, store.RedemptionPrefix).Without("decidedBy", "note", "claim", "claimId", "claimUntil"),
		}
	})
}
