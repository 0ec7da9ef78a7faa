package licensing

import (
	"context"
	"strings"

	"github.com/liberation/monetization/shared/platform"
	"github.com/liberation/monetization/shared/privacy"
	"github.com/liberation/monetization/shared/store"
)

// BuildPersonalExportHooks registers licensing's exporter with the export host (docs/privacy.md).
func BuildPersonalExportHooks(rt *platform.Runtime, r *privacy.Registry) error {
	r.RegisterExporter("licensing", PersonalDataExporter(privacy.Reader{S: store.Open(rt)}))
	return nil
}

// PersonalDataExporter answers for licensing's items about a person: their seat (membership and
// the seat with the address it was taken with) and their entry in the e-mail directory. Left out:
// the admin who assigned the seat.
func PersonalDataExporter(rd privacy.Reader) privacy.Exporter {
	return privacy.Sources(func(s privacy.Subject) []privacy.Source {
		out := []privacy.Source{
			rd.One("license-membership", store.SeatHolderKey(s.UserID)).
				Expanding(func(ctx context.Context, row, clean map[string]any) ([]privacy.Item, error) {
					items := []privacy.Item{{Type: "license-membership", Data: clean}}
					lic := privacy.Str(row, "licenseId")
					if lic == "" {
						return items, nil
					}
					seat, ok, err := rd.Get(ctx, store.LicenseSeatKey(lic, s.UserID))
					if err != nil {
						return nil, err
					}
					if ok {
						items = append(items, privacy.Item{Type: "license-seat", Data: privacy.Clean(seat, "addedBy")})
					}
					return items, nil
				}),
		}
		if s.Email != "" {
			// The directory entry of the verified address, if it names this user.
			out = append(out, rd.One("user-by-email", store.UserByEmailKey(strings.ToLower(s.Email))).
				Expanding(func(_ context.Context, row, clean map[string]any) ([]privacy.Item, error) {
					if privacy.Str(row, "userId") != s.UserID {
						return nil, nil
					}
					return []privacy.Item{{Type: "user-by-email", Data: clean}}, nil
				}))
		}
		return out
	})
}
