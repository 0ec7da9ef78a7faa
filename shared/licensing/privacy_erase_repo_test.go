package licensing

import (
	"context"
	"testing"
	"time"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/audit"
	"github.com/liberation/monetization/shared/privacy/privacytest"
	"github.com/liberation/monetization/shared/store"
)

// DeleteAddress (repo_privacy.go) on the table — in process, and on moto with the integration tag
// (decision 0073): it deletes an entry only while it names the user, so an address that moved to
// another user stays theirs, and a second delete is a failed condition on the address.
func TestDeleteAddressOnlyWhileItNamesTheUser(t *testing.T) {
	ctx := context.Background()
	s := newTestStore(t, nil)
	r := newDynamoRepo(s)
	it := privacytest.Item
	privacytest.Seed(t, s,
		it(store.UserByEmailKey("a@corp.example"), "user-by-email", map[string]any{"userId": "alice", "email": "a@corp.example"}),
		it(store.UserByEmailKey("moved@corp.example"), "user-by-email", map[string]any{"userId": "u2", "email": "moved@corp.example"}),
	)
	if err := r.DeleteAddress(ctx, "moved@corp.example", "alice"); !conflictOn(err, partAddress) {
		t.Fatalf("another user's entry: %v", err)
	}
	if _, err := r.AddressEntry(ctx, "moved@corp.example"); err != nil {
		t.Fatalf("another user's entry was deleted: %v", err)
	}
	if err := r.DeleteAddress(ctx, "A@Corp.example", "alice"); err != nil {
		t.Fatal(err)
	}
	if _, err := r.AddressEntry(ctx, "a@corp.example"); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("the entry is still there: %v", err)
	}
	if err := r.DeleteAddress(ctx, "a@corp.example", "alice"); !conflictOn(err, partAddress) {
		t.Fatalf("a second delete: %v", err)
	}
}

// EraseSupportEmail (repo_privacy.go) removes a branding's support address only while it is the one
// read: a branding changed meanwhile is a failed condition on the branding, and nothing is lost.
func TestEraseSupportEmailOverTheAddressRead(t *testing.T) {
	ctx := context.Background()
	s := newTestStore(t, nil)
	r := newDynamoRepo(s)
	now := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	lic := "lic_01JD0000000000000000000009"
	if err := r.PutBranding(ctx, BrandingRecord{LicenseID: lic, Branding: Branding{DisplayName: "Org", SupportEmail: "new@corp.example",
		PrimaryColor: "#112233"}}, audit.Entry{Actor: "u1", Action: "license.branding"}, now); err != nil {
		t.Fatal(err)
	}
	au := audit.Entry{Actor: "system:privacy-erasure", Action: ActionEraseBrand, Target: "person:anon_1"}
	if err := r.EraseSupportEmail(ctx, lic, "old@corp.example", au, now); !conflictOn(err, partBranding) {
		t.Fatalf("over another address: %v", err)
	}
	if err := r.EraseSupportEmail(ctx, lic, "new@corp.example", au, now); err != nil {
		t.Fatal(err)
	}
	b, ok, err := r.Branding(ctx, lic)
	if err != nil || !ok || b.Branding.SupportEmail != "" || b.Branding.PrimaryColor != "#112233" || b.UpdatedBy != au.Actor {
		t.Fatalf("branding %+v %v %v", b, ok, err)
	}
	if err := r.EraseSupportEmail(ctx, lic, "new@corp.example", au, now); !conflictOn(err, partBranding) {
		t.Fatalf("a second erasure: %v", err)
	}
}
