//go:build integration

package apispec_test

import "testing"

// booksContract: the books' admin routes (shared/books), each with a validated 2xx and its
// documented refusals.
func booksContract(t *testing.T, c *contract) {
	t.Helper()
	admin, user := newCaller(true), newCaller(false)

	c.call(req{fn: "get-books-trial-balance", as: admin}, 200)
	c.call(req{fn: "get-books-trial-balance", as: admin, query: map[string]string{"date": "2000-01-01"}}, 200)
	c.call(req{fn: "get-books-trial-balance", as: admin, query: map[string]string{"date": "2026-13-01"}, invalid: true}, 400)
	c.call(req{fn: "get-books-trial-balance", as: admin, query: map[string]string{"date": "2999-01-01"}}, 400) // the future
	c.call(req{fn: "get-books-trial-balance", as: user}, 403)

	entries := map[string]string{"account": "stripe_in_flight"}
	c.call(req{fn: "list-books-account-entries", as: admin, path: entries}, 200)
	c.call(req{fn: "list-books-account-entries", as: admin, path: entries, query: map[string]string{"limit": "501"}, invalid: true}, 400)
	c.call(req{fn: "list-books-account-entries", as: admin, path: map[string]string{"account": "petty_cash"}}, 404)

	c.call(req{fn: "get-books-statement", as: admin}, 200)
	c.call(req{fn: "get-books-statement", as: admin, query: map[string]string{"month": "2026-13"}, invalid: true}, 400)

	c.call(req{fn: "create-books-export", as: admin, body: `{"month":"2026-11","format":"csv"}`}, 201)
	c.call(req{fn: "create-books-export", as: admin, body: `{"month":"2026-11","format":"xml"}`, invalid: true}, 400)
	c.call(req{fn: "create-books-export", as: user, body: `{"month":"2026-11","format":"json"}`}, 403)
}

// booksProbes are the idempotency probes of the books' POST routes: an export is not replayed
// (each builds a new file; the route documents no Idempotency-Key).
func booksProbes(_, admin *caller) map[string]req {
	return map[string]req{
		"create-books-export": {as: admin, body: `{"month":"x","format":"csv"}`, invalid: true},
	}
}
