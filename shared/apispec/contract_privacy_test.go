//go:build integration

package apispec_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/liberation/monetization/shared/manifest"
	"github.com/liberation/monetization/shared/privacy"
)

// privacyContract: POST /me/export and GET /me/exports/{exportId} (shared/privacy), each with a
// validated 2xx — queued, then ready with its link once the consumer built it — and the documented
// refusals: another user's, an unknown and a malformed id are all 404.
func privacyContract(t *testing.T, c *contract) {
	t.Helper()
	alice, bob := newCaller(false), newCaller(false)

	c.call(req{fn: "create-personal-export"}, 401)
	var first, again, got privacy.View
	c.call(req{fn: "create-personal-export", as: alice, headers: map[string]string{"Idempotency-Key": "export-" + randHex(4)}}, 202).json(t, &first)
	c.call(req{fn: "create-personal-export", as: alice}, 202).json(t, &again)
	if first.ExportID == "" || again.ExportID != first.ExportID || first.Status != privacy.StatusQueued {
		t.Fatalf("one export at a time: %+v then %+v", first, again)
	}
	id := map[string]string{"exportId": first.ExportID}
	c.call(req{fn: "get-personal-export", as: alice, path: id}, 200).json(t, &got)
	if got.Status != privacy.StatusQueued || got.URL != "" {
		t.Fatalf("queued export: %+v", got)
	}
	c.call(req{fn: "get-personal-export", as: bob, path: id}, 404) // another user's
	c.call(req{fn: "get-personal-export", as: alice, path: map[string]string{"exportId": "exp_01JDZC7T4V6X8Z0B2D4F6H8J9K"}}, 404)
	c.call(req{fn: "get-personal-export", as: alice, path: map[string]string{"exportId": "nope"}}, 404)
	c.call(req{fn: "get-personal-export", path: id}, 401)

	// The consumer's runs, as the queue would deliver them (a run of a few pages, then its own
	// continuation message): until the export is ready, or fail after a handful.
	for step := 0; step < 5 && got.Status != privacy.StatusReady; step++ {
		m := privacy.Message{UserID: alice.sub, ExportID: first.ExportID, Step: step}
		c.consume("build-personal-export", privacy.MessageBuild, "personal-export#"+first.ExportID+"#"+strconv.Itoa(step), m)
		c.call(req{fn: "get-personal-export", as: alice, path: id}, 200).json(t, &got)
	}
	if got.Status != privacy.StatusReady || got.URL == "" || got.URLExpiresAt == nil {
		t.Fatalf("ready export: %+v", got)
	}
	erasureContract(t, c, alice)
}

// erasureContract: DELETE /me (confirm required; a second answers with the same request), the
// erasure's runs until done, the admin's erase and list routes (403 for a non-admin, 400 for bad
// input).
func erasureContract(t *testing.T, c *contract, alice *caller) {
	t.Helper()
	admin, carol := newCaller(true), newCaller(false)
	confirm := map[string]string{"confirm": privacy.ConfirmErase}
	c.call(req{fn: "delete-me", query: confirm}, 401)
	c.call(req{fn: "delete-me", as: alice, invalid: true}, 400)
	c.call(req{fn: "delete-me", as: alice, query: map[string]string{"confirm": "yes"}, invalid: true}, 400)
	var first, again privacy.ErasureView
	c.call(req{fn: "delete-me", as: alice, query: confirm, headers: map[string]string{"Idempotency-Key": "erase-" + randHex(4)}}, 202).json(t, &first)
	c.call(req{fn: "delete-me", as: alice, query: confirm}, 202).json(t, &again)
	if first.Status != privacy.ErasureQueued || again.ErasureID != first.ErasureID || again.Pseudonym != first.Pseudonym {
		t.Fatalf("one erasure per user: %+v then %+v", first, again)
	}
	// The host's runs, as the queue would deliver them, until the erasure is done.
	for step := 0; step < 10; step++ {
		m := privacy.EraseMessage{UserID: alice.sub, ErasureID: first.ErasureID, Pass: 1, Step: step}
		c.consume(manifest.ErasePersonalData, privacy.MessageErase, "personal-erasure#"+first.ErasureID+"#1#"+strconv.Itoa(step), m)
	}
	c.call(req{fn: "delete-me", as: alice, query: confirm}, 202).json(t, &again)
	if again.Status != privacy.ErasureDone || again.ErasureID != first.ErasureID {
		t.Fatalf("erasure after its runs: %+v", again)
	}

	erase := map[string]string{"userId": carol.sub}
	c.call(req{fn: "admin-erase-user", as: carol, path: erase, body: `{"reason":"asked by e-mail"}`}, 403)
	c.call(req{fn: "admin-erase-user", as: admin, path: erase, body: `{}`, invalid: true}, 400)
	c.call(req{fn: "admin-erase-user", as: admin, path: map[string]string{"userId": strings.Repeat("u", 129)}, body: `{"reason":"r"}`, invalid: true}, 400)
	var byAdmin privacy.ErasureView
	c.call(req{fn: "admin-erase-user", as: admin, path: erase, body: `{"reason":"asked by e-mail, 6 Dec"}`}, 202).json(t, &byAdmin)
	if byAdmin.RequestedBy != admin.sub || byAdmin.Status != privacy.ErasureQueued {
		t.Fatalf("admin erasure %+v", byAdmin)
	}

	c.call(req{fn: "list-privacy-requests", as: carol}, 403)
	c.call(req{fn: "list-privacy-requests", as: admin, query: map[string]string{"limit": "0"}, invalid: true}, 400)
	var page struct {
		Requests   []privacy.RequestView `json:"requests"`
		NextCursor string                `json:"nextCursor"`
	}
	c.call(req{fn: "list-privacy-requests", as: admin, query: map[string]string{"limit": "1"}}, 200).json(t, &page)
	if len(page.Requests) != 1 || page.NextCursor == "" {
		t.Fatalf("first page %+v", page)
	}
	c.call(req{fn: "list-privacy-requests", as: admin, query: map[string]string{"limit": "100", "cursor": page.NextCursor}}, 200)
}

// privacyProbes are the idempotency probes of the privacy POST routes: a request export is
// replayed (the same 202) under the same key.
func privacyProbes(user, admin *caller) map[string]req {
	return map[string]req{
		"create-personal-export": {as: user, probeStatus: 202},
		"delete-me":              {as: user, query: map[string]string{"confirm": "no"}, invalid: true, probeStatus: 400},
		"admin-erase-user":       {as: admin, path: map[string]string{"userId": "u-probe"}, body: `{"reason":""}`, invalid: true},
	}
}
