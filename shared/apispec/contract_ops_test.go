//go:build integration

package apispec_test

import "testing"

// opsContract: GET /admin/queues (shared/ops) answers the documented body to an admin and 403 to a
// user. The route is a GET: no idempotency probe.
func opsContract(t *testing.T, c *contract) {
	t.Helper()
	admin, user := newCaller(true), newCaller(false)
	c.call(req{fn: "list-queues", as: admin}, 200)
	c.call(req{fn: "list-queues", as: user}, 403)
	c.call(req{fn: "list-queues"}, 401)
}
