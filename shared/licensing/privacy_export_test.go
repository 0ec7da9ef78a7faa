package licensing

import (
	"testing"

	"github.com/liberation/monetization/shared/privacy"
	"github.com/liberation/monetization/shared/privacy/privacytest"
	"github.com/liberation/monetization/shared/store"
)

// Licensing exports the person's seat and their directory entry — not the admin who assigned the
// seat, another member's seat, or a directory entry of their address that names someone else.
func TestPersonalDataExporter(t *testing.T) {
	s := newTestStore(t, nil)
	it := privacytest.Item
	privacytest.Seed(t, s,
		it(store.SeatHolderKey("u1"), "license-membership", map[string]any{"licenseId": "lic_1", "seatId": "st_1"}),
		it(store.LicenseSeatKey("lic_1", "u1"), "license-seat", map[string]any{"userId": "u1", "email": "u1@corp.example", "addedBy": "admin-9"}),
		it(store.LicenseSeatKey("lic_1", "u2"), "license-seat", map[string]any{"userId": "u2", "email": "u2@corp.example"}),
		it(store.UserByEmailKey("u1@corp.example"), "user-by-email", map[string]any{"userId": "u1", "email": "u1@corp.example"}),
		it(store.UserByEmailKey("moved@corp.example"), "user-by-email", map[string]any{"userId": "u2", "email": "moved@corp.example"}),
	)
	exp := PersonalDataExporter(privacy.Reader{S: s})
	items, _ := privacytest.All(t, exp, privacy.Subject{UserID: "u1", Email: "U1@corp.example"}, 10)
	if got := privacytest.Count(items); got["license-membership"] != 1 || got["license-seat"] != 1 || got["user-by-email"] != 1 || len(items) != 3 {
		t.Fatalf("items %v", got)
	}
	privacytest.Holds(t, items, []string{"lic_1", "u1@corp.example"}, []string{"admin-9", "u2"})
	// The address's entry now names another user: not theirs.
	items, _ = privacytest.All(t, exp, privacy.Subject{UserID: "u1", Email: "moved@corp.example"}, 10)
	privacytest.Holds(t, items, nil, []string{"moved@corp.example"})
}
