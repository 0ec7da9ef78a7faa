//go:build integration

package apispec_test

import "testing"

// auditContract: GET /admin/audit (shared/audit/trail) with a validated 2xx for each access
// pattern (actor: GSI1, target: GSI2, neither: the day partitions) and its documented refusals.
// The route is a GET: no idempotency probe.
func auditContract(t *testing.T, c *contract) {
	t.Helper()
	admin, user := newCaller(true), newCaller(false)

	c.call(req{fn: "list-audit-records", as: admin}, 200)
	c.call(req{fn: "list-audit-records", as: admin, query: map[string]string{"actor": "system:stripe-webhook", "limit": "5"}}, 200)
	c.call(req{fn: "list-audit-records", as: admin, query: map[string]string{"target": "payment:pay_x", "from": "2026-11-20T00:00:00Z", "to": "2026-12-01T00:00:00Z"}}, 200)
	c.call(req{fn: "list-audit-records", as: admin, query: map[string]string{"action": "refund.create",
		"from": "2026-12-01T00:00:00Z", "to": "2026-12-02T00:00:00Z"}}, 200)
	c.call(req{fn: "list-audit-records", as: admin, query: map[string]string{"from": "2026-12-02", "to": "2026-12-01"}}, 400) // backwards
	c.call(req{fn: "list-audit-records", as: admin, query: map[string]string{"from": "2026-01-01", "to": "2026-12-01"}}, 400) // over 92 days
	c.call(req{fn: "list-audit-records", as: admin, query: map[string]string{"from": "yesterday"}}, 400)
	c.call(req{fn: "list-audit-records", as: admin, query: map[string]string{"limit": "501"}, invalid: true}, 400)
	c.call(req{fn: "list-audit-records", as: admin, query: map[string]string{"cursor": "not-a-cursor"}}, 400)
	c.call(req{fn: "list-audit-records", as: user}, 403)
}
