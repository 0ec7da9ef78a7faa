//go:build integration

package apispec_test

import (
	"net/http"
	"strings"
)

const (
	unknownLicense = "lic_01JDZ9A2B3C4D5E6F7G8H9J0KM"
	unknownTicket  = "tkt_01JDZ9B7C8D9E0F1G2H3J4K5MN"
)

// enterpriseCalls drives every licensing and support route to a validated 2xx, and the main
// refusals, through the real handlers.
func enterpriseCalls(c *contract) {
	t := c.t
	t.Helper()
	admin := newCaller(true)
	orgAdmin, bob, carol := newCaller(false), newCaller(false), newCaller(false)
	agent := newCaller(false)
	agent.groups = "[support]"
	lic := func(id string) map[string]string { return map[string]string{"licenseId": id} }

	// Licenses (platform admins).
	create := jsonBody(map[string]any{"orgName": "Acme Corp", "seats": 3, "startsAt": "2026-01-01T00:00:00Z",
		"expiresAt": "2036-01-01T00:00:00Z", "overagePolicy": "block", "expirationPolicy": "restrict",
		"adminEmails": []string{orgAdmin.email}, "timeZone": "Europe/Berlin"})
	key := map[string]string{"Idempotency-Key": "license-" + randHex(4)}
	first := c.call(req{fn: "create-license", as: admin, body: create, headers: key}, 201)
	again := c.call(req{fn: "create-license", as: admin, body: create, headers: key}, 201)
	if again.headers["idempotent-replayed"] != "true" || string(again.body) != string(first.body) {
		t.Fatalf("create-license replay: %v %s", again.headers, again.body)
	}
	var l struct {
		ID  string `json:"id"`
		Key string `json:"key"`
	}
	first.json(t, &l)
	c.call(req{fn: "create-license", as: orgAdmin, body: create}, 403)
	c.call(req{fn: "create-license", as: admin, body: `{"orgName":"x","seats":0}`, invalid: true}, 400)
	c.call(req{fn: "create-license", as: admin, body: strings.NewReplacer("2036-01-01", "2020-01-01", "2026-01-01", "2019-01-01").Replace(create)}, 422)
	c.call(req{fn: "list-licenses", as: admin, query: map[string]string{"limit": "1"}}, 200)
	c.call(req{fn: "list-licenses", as: admin, query: map[string]string{"limit": "500"}, invalid: true}, 400)
	c.call(req{fn: "get-license-public-key"}, 200)
	c.call(req{fn: "update-license", as: admin, path: lic(l.ID), body: `{"seats":4}`}, 200)
	c.call(req{fn: "update-license", as: admin, path: lic(unknownLicense), body: `{"seats":4}`}, 404)
	c.call(req{fn: "update-license", as: admin, path: lic(l.ID), body: `{"seats":"many"}`, invalid: true}, 400)
	var patched struct {
		Key string `json:"key"`
	}
	c.call(req{fn: "update-license", as: admin, path: lic(l.ID), body: `{"timeZone":"America/New_York"}`}, 200).json(t, &patched)

	// Activation by the org admin; refusals name the reason.
	c.call(req{fn: "activate-license", as: orgAdmin, body: jsonBody(map[string]string{"key": l.Key})}, 422) // superseded
	c.call(req{fn: "activate-license", as: bob, body: jsonBody(map[string]string{"key": patched.Key})}, 422)
	c.call(req{fn: "activate-license", as: orgAdmin, body: jsonBody(map[string]string{"key": patched.Key})}, 200)
	c.call(req{fn: "get-license", as: orgAdmin, path: lic(l.ID)}, 200)
	c.call(req{fn: "get-license", as: bob, path: lic(l.ID)}, 404)
	c.call(req{fn: "put-license-branding", as: orgAdmin, path: lic(l.ID), body: jsonBody(map[string]string{"displayName": "Acme Academy",
		"logoUrl": "https://cdn.acme.example/logo.png", "primaryColor": "#0B3D91", "accentColor": "#FC3D21",
		"emailFromName": "Acme Academy", "supportEmail": "learning@acme.example", "customDomain": "learn.acme.example"})}, 200)
	c.call(req{fn: "put-license-branding", as: orgAdmin, path: lic(l.ID), body: jsonBody(map[string]string{"displayName": "Acme",
		"logoUrl": "http://cdn.acme.example/logo.png", "primaryColor": "#0B3D91", "accentColor": "#FC3D21",
		"emailFromName": "Acme", "supportEmail": "learning@acme.example"}), invalid: true}, 400)
	c.call(req{fn: "get-license", as: orgAdmin, path: lic(l.ID)}, 200)

	// Seats.
	var inv struct {
		Code string `json:"code"`
	}
	c.call(req{fn: "create-license-invite", as: orgAdmin, path: lic(l.ID), body: `{"maxUses":2}`}, 201).json(t, &inv)
	c.call(req{fn: "create-license-invite", as: bob, path: lic(l.ID), body: `{"maxUses":2}`}, 404)
	c.call(req{fn: "join-license", as: bob, body: jsonBody(map[string]string{"code": inv.Code})}, 201)
	c.call(req{fn: "join-license", as: bob, body: jsonBody(map[string]string{"code": inv.Code})}, 200)
	c.call(req{fn: "join-license", as: carol, body: `{"code":"LIB-0000-0000-0000-0000"}`}, 422)
	c.call(req{fn: "list-license-seats", as: orgAdmin, path: lic(l.ID), query: map[string]string{"limit": "1"}}, 200)
	c.call(req{fn: "get-license-usage", as: orgAdmin, path: lic(l.ID)}, 200)
	c.call(req{fn: "get-license-usage", as: orgAdmin, path: lic(l.ID), query: map[string]string{"month": "2026-13"}, invalid: true}, 400)
	c.call(req{fn: "assign-license-seat", as: orgAdmin, path: lic(l.ID), body: jsonBody(map[string]string{"email": carol.email})}, 422) // never signed in

	// Support: carol opens a ticket (and so is known by e-mail), then gets a seat.
	tq := jsonBody(map[string]string{"subject": "Cannot download", "body": "The offline download fails.", "priority": "high"})
	tkey := map[string]string{"Idempotency-Key": "ticket-" + randHex(4)}
	c.call(req{fn: "create-support-ticket", as: carol, body: tq, headers: tkey}, 201)
	c.call(req{fn: "create-support-ticket", as: carol, body: tq, headers: tkey}, 201)
	c.call(req{fn: "create-support-ticket", as: carol, body: `{"subject":"x","body":"y","priority":"critical"}`, invalid: true}, 400)
	c.call(req{fn: "assign-license-seat", as: orgAdmin, path: lic(l.ID), body: jsonBody(map[string]string{"email": carol.email})}, 201)
	c.call(req{fn: "remove-license-seat", as: orgAdmin, path: map[string]string{"licenseId": l.ID, "userId": carol.sub}}, 200)
	c.call(req{fn: "remove-license-seat", as: orgAdmin, path: map[string]string{"licenseId": l.ID, "userId": carol.sub}}, 404)

	var tk struct {
		ID string `json:"id"`
	}
	c.call(req{fn: "create-support-ticket", as: bob, body: tq}, 201).json(t, &tk)
	tid := map[string]string{"ticketId": tk.ID}
	c.call(req{fn: "list-support-tickets", as: bob, query: map[string]string{"limit": "5"}}, 200)
	c.call(req{fn: "get-support-ticket", as: bob, path: tid}, 200)
	c.call(req{fn: "get-support-ticket", as: orgAdmin, path: tid}, 200)
	c.call(req{fn: "get-support-ticket", as: carol, path: tid}, 404)
	c.call(req{fn: "reply-support-ticket", as: bob, path: tid, body: `{"body":"More detail."}`}, 201)
	c.call(req{fn: "reply-support-ticket", as: carol, path: tid, body: `{"body":"Not mine."}`}, 404)
	c.call(req{fn: "list-support-queue", as: agent, query: map[string]string{"status": "open", "breaching": "false"}}, 200)
	c.call(req{fn: "list-support-queue", as: bob}, 403)
	c.call(req{fn: "list-support-queue", as: agent, query: map[string]string{"status": "closed"}, invalid: true}, 400)
	c.call(req{fn: "reply-support-ticket", as: agent, path: tid, body: `{"body":"Looking into it."}`}, 201)
	c.call(req{fn: "update-support-ticket", as: agent, path: tid, body: jsonBody(map[string]string{"status": "pending",
		"assignee": agent.sub, "priority": "urgent"})}, 200)
	c.call(req{fn: "update-support-ticket", as: bob, path: tid, body: `{"status":"solved"}`}, 403)
	c.call(req{fn: "update-support-ticket", as: agent, path: tid, body: `{"assignee":"someone-else"}`}, 422)
	c.call(req{fn: "get-support-sla-report", as: admin, query: map[string]string{"days": "7"}}, 200)
	c.call(req{fn: "get-support-sla-report", as: admin, query: map[string]string{"days": "0"}, invalid: true}, 400)
	c.call(req{fn: "get-support-sla-report", as: bob}, 403)
}

// enterpriseProbes are idempotency probes of the licensing and support routes that change state:
// each is sent twice with one Idempotency-Key; only the routes documenting the key replay.
func enterpriseProbes(user, admin *caller) map[string]req {
	agent := newCaller(false)
	agent.groups = "[support]"
	lic := map[string]string{"licenseId": unknownLicense}
	return map[string]req{
		"create-license":        {as: admin, body: `{"orgName":"x","seats":0}`, invalid: true},
		"update-license":        {as: admin, path: lic, body: `{}`, invalid: true},
		"activate-license":      {as: user, body: `{"key":""}`, invalid: true},
		"join-license":          {as: user, body: `{"code":"x"}`, invalid: true},
		"create-license-invite": {as: user, path: lic, body: `{"maxUses":0}`, invalid: true, probeStatus: http.StatusNotFound},
		"assign-license-seat":   {as: user, path: lic, body: `{}`, invalid: true}, // the body is checked first
		"remove-license-seat":   {as: user, path: map[string]string{"licenseId": unknownLicense, "userId": "u-1"}, probeStatus: http.StatusNotFound},
		"put-license-branding":  {as: user, path: lic, body: `{}`, invalid: true}, // the body is checked first
		"create-support-ticket": {as: user, body: `{"subject":"","body":"x","priority":"low"}`, invalid: true},
		"reply-support-ticket":  {as: user, path: map[string]string{"ticketId": unknownTicket}, body: `{"body":""}`, invalid: true},
		"update-support-ticket": {as: agent, path: map[string]string{"ticketId": unknownTicket}, body: `{}`, invalid: true},
	}
}
