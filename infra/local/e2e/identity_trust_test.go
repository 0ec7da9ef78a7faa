//go:build integration

package e2e

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/liberation/monetization/shared/store"
)

// Trust at the edges of identity (issue 14, items 1–3), through the local gateway.

// An e-mail address the user has not verified decides nothing: it cannot activate a license meant
// for that address, use an invite addressed to it, or take its place in the e-mail directory that
// seat assignment reads.
func TestUnverifiedEmailDecidesNothing(t *testing.T) {
	h := Start(t)
	now := time.Now().UTC()
	platform := h.Token(t, "ops-"+suffix(), "ops@liberation.example", "admin")
	boss := "boss-" + suffix() + "@acme.example"
	var lic license
	h.Call(t, http.MethodPost, "/admin/licenses", platform, map[string]any{
		"orgName": "Acme " + suffix(), "seats": 5, "startsAt": now.Add(-time.Hour), "expiresAt": now.Add(365 * 24 * time.Hour),
		"overagePolicy": "block", "expirationPolicy": "restrict", "adminEmails": []string{boss},
	}, http.StatusCreated, &lic)

	// Activation: the attacker typed the boss's address but never verified it.
	attacker := "mallory-" + suffix()
	refused(t, h, http.MethodPost, "/licenses/activate", h.UnverifiedToken(t, attacker, boss), map[string]string{"key": lic.Key},
		http.StatusUnprocessableEntity, "not an administrator address")
	admin := h.Token(t, "boss-"+suffix(), boss)
	h.Call(t, http.MethodPost, "/licenses/activate", admin, map[string]string{"key": lic.Key}, http.StatusOK, nil)

	// An invite addressed to the victim: the attacker's unverified copy of the address is refused.
	victimEmail := "victim-" + suffix() + "@acme.example"
	var inv struct {
		Code string `json:"code"`
	}
	h.Call(t, http.MethodPost, "/licenses/"+lic.ID+"/invites", admin, map[string]any{"maxUses": 1, "email": victimEmail}, http.StatusCreated, &inv)
	refused(t, h, http.MethodPost, "/licenses/join", h.UnverifiedToken(t, attacker, victimEmail), map[string]string{"code": inv.Code},
		http.StatusUnprocessableEntity, "another e-mail address")

	// The directory: the victim signs in (verified), then the attacker with the same unverified
	// address; a seat assigned to the address goes to the victim.
	victim := "victim-" + suffix()
	h.Call(t, http.MethodGet, "/subscription", h.Token(t, victim, victimEmail), nil, http.StatusOK, nil)
	h.Call(t, http.MethodGet, "/subscription", h.UnverifiedToken(t, attacker, victimEmail), nil, http.StatusOK, nil)
	var seat struct {
		Seat struct {
			UserID string `json:"userId"`
		} `json:"seat"`
	}
	h.Call(t, http.MethodPost, "/licenses/"+lic.ID+"/seats", admin, map[string]string{"email": victimEmail}, http.StatusCreated, &seat)
	if seat.Seat.UserID != victim {
		t.Fatalf("the seat assigned to %s went to %q, want the verified owner %q", victimEmail, seat.Seat.UserID, victim)
	}
	// An address nobody verified is not in the directory at all.
	stranger := "stranger-" + suffix() + "@acme.example"
	h.Call(t, http.MethodGet, "/subscription", h.UnverifiedToken(t, "s-"+suffix(), stranger), nil, http.StatusOK, nil)
	refused(t, h, http.MethodPost, "/licenses/"+lic.ID+"/seats", admin, map[string]string{"email": stranger},
		http.StatusUnprocessableEntity, "no user has signed in with that e-mail address")
	// An address that really changed hands (another user verified it) moves, with an audit record.
	heir := "heir-" + suffix()
	h.Call(t, http.MethodGet, "/subscription", h.Token(t, heir, victimEmail), nil, http.StatusOK, nil)
	if n := auditCount(t, h, heir, "user.email_moved"); n != 1 {
		t.Fatalf("%d audit records of the address moving to %s, want 1", n, heir)
	}
	// The verified victim joins with their own invite.
	h.Call(t, http.MethodPost, "/licenses/join", h.Token(t, victim, victimEmail), map[string]string{"code": inv.Code}, http.StatusOK, nil)
}

// Org-admin rights follow the license's admin list: an address removed by the platform loses every
// org-admin route at once (404, as for a license one does not administer).
func TestRemovedOrgAdminLosesEveryRight(t *testing.T) {
	h := Start(t)
	now := time.Now().UTC()
	o := newOrg(t, h, 5, "block", "restrict", now)
	_, member := o.member(t, h, o.invite(t, h, 1))
	var ticket struct {
		ID string `json:"id"`
	}
	h.Call(t, http.MethodPost, "/support/tickets", member, map[string]any{"subject": "Help", "body": "Please.", "priority": "normal"}, http.StatusCreated, &ticket)
	h.Call(t, http.MethodGet, "/support/tickets/"+ticket.ID, o.admin, nil, http.StatusOK, nil) // an org admin reads seat holders' tickets

	ops := "ops-" + suffix()
	platform := h.Token(t, ops, "ops@liberation.example", "admin")
	h.Call(t, http.MethodPatch, "/admin/licenses/"+o.lic.ID, platform, map[string]any{"adminEmails": []string{"new-" + suffix() + "@acme.example"}}, http.StatusOK, nil)
	for _, r := range []struct {
		method, path string
		body         any
	}{
		{http.MethodGet, "/licenses/" + o.lic.ID, nil},
		{http.MethodPost, "/licenses/" + o.lic.ID + "/invites", map[string]any{"maxUses": 1}},
		{http.MethodPost, "/licenses/" + o.lic.ID + "/seats", map[string]string{"email": "x@acme.example"}},
		{http.MethodGet, "/licenses/" + o.lic.ID + "/seats", nil},
		{http.MethodPut, "/licenses/" + o.lic.ID + "/branding", map[string]any{"displayName": "Acme Academy",
			"primaryColor": "#112233", "accentColor": "#445566", "emailFromName": "Acme", "supportEmail": "help@acme.example"}},
		{http.MethodGet, "/licenses/" + o.lic.ID + "/usage", nil},
		{http.MethodGet, "/support/tickets/" + ticket.ID, nil},
	} {
		if status, body, _ := h.Do(t, r.method, r.path, o.admin, r.body); status != http.StatusNotFound {
			t.Errorf("%s %s by a removed org admin: %d %s, want 404", r.method, r.path, status, body)
		}
	}
	if n := auditCount(t, h, ops, "license.admins_revoked"); n != 1 {
		t.Fatalf("%d audit records of the revocation, want 1", n)
	}
}

// A signing key retired while a container still holds it signs nothing: a PATCH answers 503 and
// the license keeps its key and terms.
func TestRetiredSigningKeyNeverSigns(t *testing.T) {
	h := Start(t)
	now := time.Now().UTC()
	o := newOrg(t, h, 5, "block", "restrict", now)
	platform := h.Token(t, "ops-"+suffix(), "ops@liberation.example", "admin")
	// Both signing functions are warm: they have signed with the key before it is retired.
	h.Call(t, http.MethodPatch, "/admin/licenses/"+o.lic.ID, platform, map[string]any{"seats": 6}, http.StatusOK, &o.lic)
	ctx := context.Background()
	s := h.Env.Store()
	if _, err := s.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: &s.Table, Key: store.SigningKeyKey(o.lic.KeyID).Item(),
		UpdateExpression:          aws.String("SET retired = :t"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":t": &types.AttributeValueMemberBOOL{Value: true}}}); err != nil {
		t.Fatal(err)
	}
	h.Call(t, http.MethodPatch, "/admin/licenses/"+o.lic.ID, platform, map[string]any{"seats": 9}, http.StatusServiceUnavailable, nil)
	var list struct {
		Licenses []license `json:"licenses"`
	}
	h.Call(t, http.MethodGet, "/admin/licenses?limit=100", platform, nil, http.StatusOK, &list)
	var after license
	for _, l := range list.Licenses {
		if l.ID == o.lic.ID {
			after = l
		}
	}
	if after.KeyVersion != o.lic.KeyVersion || after.Seats != 6 || after.Key != o.lic.Key {
		t.Fatalf("a PATCH after retirement changed the license: key version %d → %d, seats %d", o.lic.KeyVersion, after.KeyVersion, after.Seats)
	}
	h.Call(t, http.MethodPost, "/admin/licenses", platform, map[string]any{
		"orgName": "Other " + suffix(), "seats": 1, "startsAt": now.Add(-time.Hour), "expiresAt": now.Add(24 * time.Hour),
		"overagePolicy": "block", "expirationPolicy": "restrict", "adminEmails": []string{"a@b.example"},
	}, http.StatusServiceUnavailable, nil)
}

// auditCount counts an actor's audit records of an action (GSI1: the actor's records).
func auditCount(t *testing.T, h *Harness, actor, action string) int {
	t.Helper()
	pk, _ := store.AuditByActorGSI1(actor, time.Now(), "")
	items, err := store.QueryAll[map[string]any](context.Background(), h.Env.Store(), &dynamodb.QueryInput{
		IndexName: aws.String("GSI1"), KeyConditionExpression: aws.String("GSI1PK = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": store.S(pk)}})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, it := range items {
		if it["action"] == action {
			n++
		}
	}
	return n
}
