//go:build integration

package apispec_test

import (
	"strconv"
	"testing"

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
}

// privacyProbes are the idempotency probes of the privacy POST routes: a request export is
// replayed (the same 202) under the same key.
func privacyProbes(user, _ *caller) map[string]req {
	return map[string]req{
		"create-personal-export": {as: user, probeStatus: 202},
	}
}
