package books

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/blob"
	"github.com/liberation/monetization/shared/books/journal"
	"github.com/liberation/monetization/shared/clock"
	"github.com/liberation/monetization/shared/httpapi"
	"github.com/liberation/monetization/shared/httpapi/httpapitest"
	"github.com/liberation/monetization/shared/manifest"
	"github.com/liberation/monetization/shared/store/tabletest"
)

// The tests' own posting rules: areas register theirs from their init, and the journal has none.
const (
	kindSale = "bookstest.sale" // a course sale 70/30
	kindSub  = "bookstest.sub"  // a subscription payment, or its refund
	kindFee  = "bookstest.fee"  // Stripe's balance transaction with its fee
	kindAny  = "bookstest.any"  // any account (the random histories)
)

func init() {
	journal.Register(journal.Rule{Area: "marketplace", Kind: kindSale, Summary: "a course sale",
		Accounts: []journal.AccountID{journal.StripeInFlight, journal.InstructorPayablePending, journal.RevenueMarketplaceCommission}})
	journal.Register(journal.Rule{Area: "payments", Kind: kindSub, Summary: "a subscription payment or refund",
		Accounts: []journal.AccountID{journal.StripeInFlight, journal.RevenueSubscriptions, journal.RefundsSubscriptions}})
	journal.Register(journal.Rule{Area: "books", Kind: kindFee, Summary: "a charge's balance transaction",
		Accounts: []journal.AccountID{journal.StripeBalance, journal.StripeInFlight, journal.FeesStripeProcessing}})
	var all []journal.AccountID
	for _, a := range journal.Chart() {
		all = append(all, a.ID)
	}
	journal.Register(journal.Rule{Area: "test", Kind: kindAny, Summary: "anything", Accounts: all})
}

// now is the tests' clock: the middle of November 2026 (October is closed, November open).
var now = time.Date(2026, 11, 15, 12, 0, 0, 0, time.UTC)

func dr(a journal.AccountID, n int64) journal.Line { return journal.Line{Account: a, Debit: n} }
func cr(a journal.AccountID, n int64) journal.Line { return journal.Line{Account: a, Credit: n} }

func entry(kind, area, source, currency string, at time.Time, lines ...journal.Line) journal.Entry {
	return journal.Entry{ID: journal.EntryID(kind, source), Kind: kind, Area: area, Source: source, Date: at,
		Currency: currency, Memo: "test " + source, Lines: lines}
}

// sale is a course sale of amount: 70 % to the instructor, the rest commission.
func sale(source, currency string, at time.Time, amount int64) journal.Entry {
	inst := amount * 70 / 100
	return entry(kindSale, "marketplace", source, currency, at, dr(journal.StripeInFlight, amount),
		journal.Line{Account: journal.InstructorPayablePending, Credit: inst, Party: "ins_1"},
		cr(journal.RevenueMarketplaceCommission, amount-inst))
}

func sub(source string, at time.Time, amount int64) journal.Entry {
	return entry(kindSub, "payments", source, "usd", at, dr(journal.StripeInFlight, amount), cr(journal.RevenueSubscriptions, amount))
}

func subRefund(source string, at time.Time, amount int64) journal.Entry {
	return entry(kindSub, "payments", source, "usd", at, dr(journal.RefundsSubscriptions, amount), cr(journal.StripeInFlight, amount))
}

func fee(source string, at time.Time, amount, fee int64) journal.Entry {
	return entry(kindFee, "books", source, "usd", at, dr(journal.StripeBalance, amount-fee), dr(journal.FeesStripeProcessing, fee),
		cr(journal.StripeInFlight, amount))
}

// world is the routes over one in-process table, with entries posted through the journal.
type world struct {
	clk   *clock.Fake
	repo  journal.Repo
	blobs *memBlobs
	reqs  int
}

func newWorld(t *testing.T) *world {
	clk := clock.NewFake(now)
	return &world{clk: clk, repo: journal.Repo{S: tabletest.New(t, clk)}, blobs: &memBlobs{objects: map[string]memObject{}}}
}

func (w *world) post(t *testing.T, es ...journal.Entry) {
	t.Helper()
	for _, e := range es {
		if err := w.repo.Post(t.Context(), e); err != nil {
			t.Fatalf("post %s: %v", e.ID, err)
		}
	}
}

// handler builds function name's handler over the world, framed as the Lambda serves it (the
// admin check included).
func (w *world) handler(name string) httpapi.Lambda {
	fn := manifest.MustByName(name)
	var h httpapi.Handler
	switch name {
	case "get-books-trial-balance":
		h = handleTrialBalance(w.clk, w.repo)
	case "list-books-account-entries":
		h = handleAccountEntries(w.clk, w.repo)
	case "get-books-statement":
		h = handleStatement(w.clk, w.repo)
	case "create-books-export":
		h = handleExport(w.clk, w.repo, w.blobs)
	default:
		panic("no handler " + name)
	}
	return httpapi.Route(fn, h)
}

// req is one call: who (admin, another user, or nobody), path parameters, query and body.
type req struct {
	who   string // "admin" (default), "user", "none"
	path  map[string]string
	query map[string]string
	body  any
}

func (w *world) call(t *testing.T, name string, q req, out any) (int, apperr.Code) {
	t.Helper()
	w.reqs++
	claims := map[string]string{"sub": "usr_admin", "email": "admin@example.com", "email_verified": "true", "cognito:groups": "[admin]"}
	if q.who == "user" {
		delete(claims, "cognito:groups")
	}
	ev := events.APIGatewayV2HTTPRequest{PathParameters: q.path, QueryStringParameters: q.query,
		Headers: map[string]string{"content-type": "application/json"},
		RequestContext: events.APIGatewayV2HTTPRequestContext{RequestID: fmt.Sprintf("req-%d", w.reqs),
			Authorizer: &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
				JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{Claims: claims}}}}
	if q.who == "none" {
		ev.RequestContext.Authorizer = nil
	}
	if q.body != nil {
		b, _ := json.Marshal(q.body)
		ev.Body = string(b)
	}
	return httpapitest.Serve(t, w.handler(name), ev, out)
}

// must is call that expects status want.
func (w *world) must(t *testing.T, name string, q req, want int, out any) {
	t.Helper()
	if got, code := w.call(t, name, q, out); got != want {
		t.Fatalf("%s %v: status %d (%s), want %d", name, q, got, code, want)
	}
}

// bad is call that expects a 400 invalid.
func (w *world) bad(t *testing.T, name string, q req) {
	t.Helper()
	if got, code := w.call(t, name, q, nil); got != http.StatusBadRequest || code != apperr.Invalid {
		t.Errorf("%s %v: status %d (%s), want 400 invalid", name, q, got, code)
	}
}

// memBlobs is an in-memory exportStore: the object store is not what these tests are about.
type memBlobs struct {
	mu      sync.Mutex
	objects map[string]memObject
}

type memObject struct {
	obj  blob.Object
	body []byte
}

func (m *memBlobs) Put(_ context.Context, o blob.Object, body []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.objects[o.Key] = memObject{obj: o, body: bytes.Clone(body)}
	return nil
}

func (m *memBlobs) PresignGet(_ context.Context, o blob.Object, ttl time.Duration) (string, error) {
	return fmt.Sprintf("https://blobs.test/%s?ttl=%s", o.Key, ttl), nil
}

func (m *memBlobs) get(t *testing.T, key string) memObject {
	t.Helper()
	m.mu.Lock()
	defer m.mu.Unlock()
	o, ok := m.objects[key]
	if !ok {
		t.Fatalf("no object %s", key)
	}
	return o
}

// expected is what the journal should hold, computed from the entries posted (never from the
// routes): per currency and account, debits and credits.
type expected map[string]map[journal.AccountID][2]int64

func expect(es []journal.Entry, include func(journal.Entry) bool) expected {
	out := expected{}
	for _, e := range es {
		if !include(e) {
			continue
		}
		if out[e.Currency] == nil {
			out[e.Currency] = map[journal.AccountID][2]int64{}
		}
		for _, l := range e.Lines {
			v := out[e.Currency][l.Account]
			v[0] += l.Debit
			v[1] += l.Credit
			out[e.Currency][l.Account] = v
		}
	}
	return out
}

// postingsOf lists es' postings in the journal's order: by effective time, then entry id, then line.
func postingsOf(es []journal.Entry, include func(journal.Posting) bool) []journal.Posting {
	var out []journal.Posting
	for _, e := range es {
		for _, p := range e.Postings() {
			if include(p) {
				out = append(out, p)
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if !a.Date.Equal(b.Date) {
			return a.Date.Before(b.Date)
		}
		if a.EntryID != b.EntryID {
			return a.EntryID < b.EntryID
		}
		return a.Line < b.Line
	})
	return out
}

// callLambda calls a framed handler as an admin with query and a raw body ("" for none).
func callLambda(t *testing.T, h httpapi.Lambda, query map[string]string, out any, body string) (int, apperr.Code) {
	t.Helper()
	ev := events.APIGatewayV2HTTPRequest{QueryStringParameters: query, Body: body,
		Headers: map[string]string{"content-type": "application/json"},
		RequestContext: events.APIGatewayV2HTTPRequestContext{RequestID: "req-x",
			Authorizer: &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
				JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{Claims: map[string]string{
					"sub": "usr_admin", "email": "admin@example.com", "email_verified": "true", "cognito:groups": "[admin]"}}}}}
	return httpapitest.Serve(t, h, ev, out)
}
