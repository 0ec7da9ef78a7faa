package billing

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/stripe/stripe-go/v76"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/clock"
	"github.com/liberation/monetization/shared/manifest"
	"github.com/liberation/monetization/shared/platform"
	"github.com/liberation/monetization/shared/privacy"
	"github.com/liberation/monetization/shared/privacy/privacytest"
	"github.com/liberation/monetization/shared/store"
	"github.com/liberation/monetization/shared/store/storetest"
	"github.com/liberation/monetization/shared/stripeapi"
)

// Billing's eraser on the table (in process; on moto with the integration tag) with a fake Stripe
// port: the profile's address replaced by the pseudonym's, the live subscriptions cancelled and the
// customer deleted at Stripe, nothing else touched, idempotent, resumable after a failure at any
// point. privacy_erase_stripe_test.go runs the port itself against stripe-mock.

// fakeEraserStripe is Stripe as the eraser meets it: a subscription cancelled twice is refused
// (Stripe cannot cancel a cancelled subscription) while reading it says canceled; a customer deleted
// twice, or never known, is "resource_missing". fail, when set, fails a call before it reaches
// "Stripe" (the answer lost: nothing happened).
type fakeEraserStripe struct {
	mu        sync.Mutex
	calls     []string // "cancel sub_1 key", "delete cus_1 key", "get sub_1"
	cancelled map[string]bool
	customers map[string]bool // customers Stripe has
	fail      func(call, id string) error
	// onDelete runs after a customer's deletion (a racing checkout linking a new customer).
	onDelete func(id string)
}

func newFakeEraserStripe(customers ...string) *fakeEraserStripe {
	f := &fakeEraserStripe{cancelled: map[string]bool{}, customers: map[string]bool{}}
	for _, c := range customers {
		f.customers[c] = true
	}
	return f
}

func stripeRefusal(code stripe.ErrorCode, what string) error {
	return stripeapi.Error(&stripe.Error{HTTPStatusCode: http.StatusBadRequest, Type: stripe.ErrorTypeInvalidRequest, Code: code,
		Msg: "refused"}, what)
}

func (f *fakeEraserStripe) record(call string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, call)
}

func (f *fakeEraserStripe) Calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

func (f *fakeEraserStripe) GetSubscription(_ context.Context, id string) (*stripe.Subscription, error) {
	f.record("get " + id)
	f.mu.Lock()
	defer f.mu.Unlock()
	st := stripe.SubscriptionStatusActive
	if f.cancelled[id] {
		st = stripe.SubscriptionStatusCanceled
	}
	return &stripe.Subscription{ID: id, Status: st}, nil
}

func (f *fakeEraserStripe) CancelSubscriptionNow(_ context.Context, id, key string) error {
	if f.fail != nil {
		if err := f.fail("cancel", id); err != nil {
			return err
		}
	}
	f.record("cancel " + id + " " + key)
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.cancelled[id] {
		return stripeRefusal("", "cancelling the subscription")
	}
	f.cancelled[id] = true
	return nil
}

func (f *fakeEraserStripe) DeleteCustomer(_ context.Context, id, key string) error {
	if f.fail != nil {
		if err := f.fail("delete", id); err != nil {
			return err
		}
	}
	f.record("delete " + id + " " + key)
	f.mu.Lock()
	known := f.customers[id]
	delete(f.customers, id)
	f.mu.Unlock()
	if !known {
		return stripeRefusal(stripe.ErrorCodeResourceMissing, "deleting the customer")
	}
	if f.onDelete != nil {
		f.onDelete(id)
	}
	return nil
}

func ambiguous() error {
	return stripeapi.Error(&stripe.Error{HTTPStatusCode: http.StatusInternalServerError, Type: stripe.ErrorTypeAPI, Msg: "down"}, "stripe")
}

// eraseWorld is a table with three users' billing records, made by billing's own writes.
type eraseWorld struct {
	s      *store.Store
	repo   dynamoRepo
	clock  *clock.Fake
	stripe *fakeEraserStripe
	subj   privacy.ErasureSubject
}

const subjectEmail = "ada.lovelace@example.com"

func newEraseWorld(t *testing.T) *eraseWorld {
	t.Helper()
	clk := clock.NewFake(time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC))
	s := newTestStore(t, clk)
	w := &eraseWorld{s: s, repo: dynamoRepo{s}, clock: clk,
		stripe: newFakeEraserStripe("cus_u1", "cus_u2", "cus_u3"),
		subj: privacy.ErasureSubject{UserID: "u1", Emails: []string{subjectEmail}, Pseudonym: "anon_01JERASEDPERSON0000000000",
			RequestID: "era_01JREQUEST000000000000000"}}
	ctx := context.Background()
	emails := map[string]string{"u1": subjectEmail, "u2": "grace@example.com", "u3": "alan@example.com"}
	for _, u := range []string{"u1", "u2", "u3"} {
		if _, err := w.repo.LinkStripeCustomer(ctx, u, emails[u], "cus_"+u); err != nil {
			t.Fatal(err)
		}
	}
	// u1 and u2 pay for Pro; u3's subscription was cancelled.
	now := clk.Now()
	for u, status := range map[string]string{"u1": "active", "u2": "active", "u3": "canceled"} {
		next := Subscription{Tier: TierPro, PlanTier: TierPro, Status: status, StripeSubscriptionID: "sub_" + u, StripeCustomerID: "cus_" + u,
			CurrentPeriodStart: now.AddDate(0, 0, -3), CurrentPeriodEnd: now.AddDate(0, 1, -3), PaidThrough: now.AddDate(0, 1, -3),
			PayingSince: now.AddDate(0, 0, -3), UpdatedAt: now}
		if status == "canceled" {
			next.Tier = TierFree
		}
		g, d := metricDeltas(Subscription{}, next, now)
		if err := w.repo.WriteSubscription(ctx, subscriptionWrite{UserID: u, Next: &next, Gauges: g, Day: d, At: now}); err != nil {
			t.Fatal(err)
		}
	}
	// u1 has a second live subscription on record (open) and one resolved; u2 an open one.
	for _, o := range []struct{ user, sub string }{{"u1", "sub_u1_other"}, {"u1", "sub_u1_old"}, {"u2", "sub_u2_other"}} {
		if err := w.repo.RecordOtherSubscription(ctx, o.user, o.sub, "active", now); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.repo.ResolveOtherSubscription(ctx, "u1", "sub_u1_old", "ended"); err != nil {
		t.Fatal(err)
	}
	return w
}

func (w *eraseWorld) eraser() privacy.Eraser {
	return PersonalDataEraser(privacy.Reader{S: w.s}, w.repo, w.stripe, w.clock)
}

// isAudit reports the audit trail's items (records and chain heads), written by the erasure.
func isAudit(key string) bool { return strings.HasPrefix(key, "AUDIT") }

// withoutAudit drops the audit trail's items (their ids and times differ between two runs).
func withoutAudit(items map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range items {
		if !isAudit(k) {
			out[k] = v
		}
	}
	return out
}

func auditRecords(t *testing.T, items map[string]string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for k, v := range items {
		if !strings.HasPrefix(k, "AUDIT#") {
			continue
		}
		var row map[string]any
		if err := json.Unmarshal([]byte(v), &row); err != nil {
			t.Fatal(err)
		}
		out = append(out, row)
	}
	return out
}

func TestBillingEraser(t *testing.T) {
	ctx := context.Background()
	w := newEraseWorld(t)
	before := privacytest.Table(t, w.s)
	gaugesBefore, err := w.repo.Gauges(ctx)
	if err != nil {
		t.Fatal(err)
	}

	changed, holds := privacytest.RunToEnd(t, w.eraser(), w.subj, "")
	if changed != 1 || len(holds) != 0 {
		t.Fatalf("changed %d, holds %v; want the profile, no hold", changed, holds)
	}
	after := privacytest.Table(t, w.s)

	// Stripe: both live subscriptions cancelled (not the resolved record's, nor the other users'),
	// then the customer deleted, with keys derived from the request id.
	want := []string{
		"cancel sub_u1 erase-subscription-" + w.subj.RequestID + "-sub_u1",
		"cancel sub_u1_other erase-subscription-" + w.subj.RequestID + "-sub_u1_other",
		"delete cus_u1 erase-customer-" + w.subj.RequestID + "-cus_u1",
	}
	if got := w.stripe.Calls(); !reflect.DeepEqual(got, want) {
		t.Fatalf("stripe calls\n got %v\nwant %v", got, want)
	}

	// The profile: the pseudonym's address and erasedAs; the customer id kept (late webhooks of the
	// deleted customer still find the user).
	var u User
	if err := w.s.GetConsistent(ctx, store.UserKey("u1"), &u); err != nil {
		t.Fatal(err)
	}
	var raw map[string]any
	_ = json.Unmarshal([]byte(after["USER#u1|PROFILE"]), &raw)
	if u.Email != w.subj.PseudonymEmail() || raw["erasedAs"] != w.subj.Pseudonym || u.StripeCustomerID != "cus_u1" {
		t.Fatalf("profile %+v erasedAs %v", u, raw["erasedAs"])
	}

	// Nothing else changed: every other item byte-identical (the subscription too: the webhook, not
	// the eraser, turns it canceled), the gauges the same.
	for k, v := range before {
		if k != "USER#u1|PROFILE" && !isAudit(k) && after[k] != v {
			t.Errorf("%s changed:\n%s\n%s", k, v, after[k])
		}
	}
	for k := range after {
		if _, ok := before[k]; !ok && !isAudit(k) {
			t.Errorf("new item %s", k)
		}
	}
	if g, _ := w.repo.Gauges(ctx); !reflect.DeepEqual(g, gaugesBefore) {
		t.Fatalf("gauges %v, were %v", g, gaugesBefore)
	}
	// No trace of the address anywhere in the table, audit records included.
	for k, v := range after {
		if strings.Contains(v, subjectEmail) {
			t.Errorf("%s still holds the address: %s", k, v)
		}
	}

	// One audit record: the erasure's actor, the pseudonym as target, ids only.
	recs := auditRecords(t, after)
	if len(recs) != 1 {
		t.Fatalf("%d audit records, want 1", len(recs))
	}
	r := recs[0]
	details, _ := r["details"].(map[string]any)
	if r["actor"] != privacy.ActorErasure || r["action"] != ActionEraseCustomer || r["target"] != w.subj.PseudonymTarget() ||
		r["requestId"] != w.subj.RequestID || details["stripeCustomers"] != "cus_u1" ||
		details["cancelledSubscriptions"] != "sub_u1,sub_u1_other" {
		t.Fatalf("audit record %v", r)
	}
	if js := fmt.Sprint(r); strings.Contains(js, "u1\"") || strings.Contains(js, " u1 ") || strings.Contains(js, "@") {
		t.Fatalf("the audit record names the person: %s", js)
	}

	// Idempotent: run again to the end, nothing changes, no call to Stripe.
	again, _ := privacytest.RunToEnd(t, w.eraser(), w.subj, "")
	if again != 0 || len(w.stripe.Calls()) != len(want) {
		t.Fatalf("second run: %d changed, calls %v", again, w.stripe.Calls())
	}
	if final := privacytest.Table(t, w.s); !reflect.DeepEqual(final, after) {
		t.Fatal("the second run changed the table")
	}
}

// An erasure interrupted at any point — Stripe's answer lost on the cancellation or on the
// deletion, the table unreachable for the profile's write — changes nothing in the table, and
// resumed from the last cursor ends as an uninterrupted erasure does.
func TestBillingEraserResumes(t *testing.T) {
	ref := newEraseWorld(t)
	privacytest.RunToEnd(t, ref.eraser(), ref.subj, "")
	wantItems := withoutAudit(privacytest.Table(t, ref.s))

	for _, c := range []struct {
		name  string
		setUp func(w *eraseWorld)
	}{
		{"cancellation", func(w *eraseWorld) {
			w.stripe.fail = failOnce("cancel", "sub_u1_other")
		}},
		{"deletion", func(w *eraseWorld) { w.stripe.fail = failOnce("delete", "cus_u1") }},
		{"profile write", func(w *eraseWorld) { w.s.DB = &storetest.FailingWrites{DynamoAPI: w.s.DB, FailAt: 1} }},
	} {
		t.Run(c.name, func(t *testing.T) {
			w := newEraseWorld(t)
			before := privacytest.Table(t, w.s)
			c.setUp(w)
			st, err := w.eraser()(context.Background(), w.subj, "")
			if err == nil {
				t.Fatalf("the step did not fail: %+v", st)
			}
			if got := privacytest.Table(t, w.s); !reflect.DeepEqual(got, before) {
				t.Fatal("a failed step changed the table")
			}
			// The host resumes from the last cursor it saved (the start: the step failed).
			changed, _ := privacytest.RunToEnd(t, w.eraser(), w.subj, "")
			if changed != 1 {
				t.Fatalf("resumed: %d changed, want 1", changed)
			}
			after := privacytest.Table(t, w.s)
			if got := withoutAudit(after); !reflect.DeepEqual(got, wantItems) {
				t.Fatalf("resumed end state differs from an uninterrupted erasure:\n%v\n%v", got, wantItems)
			}
			if n := len(auditRecords(t, after)); n != 1 {
				t.Fatalf("%d audit records, want 1", n)
			}
			// Stripe ends as after one erasure: both subscriptions cancelled, the customer gone.
			if !w.stripe.cancelled["sub_u1"] || !w.stripe.cancelled["sub_u1_other"] || w.stripe.customers["cus_u1"] ||
				!w.stripe.customers["cus_u2"] {
				t.Fatalf("stripe: cancelled %v, customers %v", w.stripe.cancelled, w.stripe.customers)
			}
		})
	}
}

func failOnce(call, id string) func(string, string) error {
	done := false
	return func(c, i string) error {
		if c == call && i == id && !done {
			done = true
			return ambiguous()
		}
		return nil
	}
}

// A checkout racing the erasure links a new Stripe customer after the first was deleted: the
// profile's write (conditioned on the customer read) fails, the eraser reads again and deletes the
// new customer too before erasing the profile.
func TestBillingEraserCustomerLinkedMeanwhile(t *testing.T) {
	ctx := context.Background()
	w := newEraseWorld(t)
	w.stripe.onDelete = func(id string) {
		if id != "cus_u1" {
			return
		}
		w.stripe.mu.Lock()
		w.stripe.customers["cus_u1_new"] = true
		w.stripe.mu.Unlock()
		// What LinkStripeCustomer does for a new customer once the first is gone from the profile
		// (seeded directly: the profile's link is first-wins).
		if err := w.s.Update(ctx, &dynamodb.UpdateItemInput{Key: store.UserKey("u1").Item(),
			UpdateExpression:          awsString("SET stripeCustomerId = :c"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":c": store.S("cus_u1_new")}}, nil); err != nil {
			t.Fatal(err)
		}
	}
	changed, _ := privacytest.RunToEnd(t, w.eraser(), w.subj, "")
	if changed != 1 || w.stripe.customers["cus_u1"] || w.stripe.customers["cus_u1_new"] {
		t.Fatalf("changed %d, customers left %v", changed, w.stripe.customers)
	}
	var u User
	if err := w.s.GetConsistent(ctx, store.UserKey("u1"), &u); err != nil || u.StripeCustomerID != "cus_u1_new" || u.Email != w.subj.PseudonymEmail() {
		t.Fatalf("profile %+v %v", u, err)
	}
}

func awsString(s string) *string { return &s }

// Done at Stripe before: a subscription already cancelled (Stripe refuses to cancel it again and
// says canceled) and a customer already deleted ("resource_missing") count as done. Any other
// refusal fails the step and leaves the profile as it was.
func TestBillingEraserStripeAnswers(t *testing.T) {
	ctx := context.Background()
	w := newEraseWorld(t)
	w.stripe.cancelled["sub_u1"] = true
	delete(w.stripe.customers, "cus_u1")
	if changed, _ := privacytest.RunToEnd(t, w.eraser(), w.subj, ""); changed != 1 {
		t.Fatalf("changed %d", changed)
	}
	var u User
	if err := w.s.GetConsistent(ctx, store.UserKey("u1"), &u); err != nil || u.Email != w.subj.PseudonymEmail() {
		t.Fatalf("profile %+v %v", u, err)
	}

	w = newEraseWorld(t)
	w.stripe.fail = func(call, id string) error {
		if call == "delete" {
			return stripeRefusal("account_invalid", "deleting the customer")
		}
		return nil
	}
	if _, err := w.eraser()(ctx, w.subj, ""); apperr.CodeOf(err) != apperr.Unprocessable {
		t.Fatalf("err %v, want the refusal", err)
	}
	if err := w.s.GetConsistent(ctx, store.UserKey("u1"), &u); err != nil || u.Email != subjectEmail {
		t.Fatalf("profile %+v %v: changed after a refusal", u, err)
	}
}

// A person without a billing profile: nothing to change, nothing asked of Stripe; with a live
// subscription but no profile, the subscription is cancelled all the same.
func TestBillingEraserWithoutProfile(t *testing.T) {
	w := newEraseWorld(t)
	nobody := w.subj
	nobody.UserID = "u-none"
	if changed, _ := privacytest.RunToEnd(t, w.eraser(), nobody, ""); changed != 0 || len(w.stripe.Calls()) != 0 {
		t.Fatalf("changed %d, calls %v", changed, w.stripe.Calls())
	}
	ctx := context.Background()
	w.stripe.customers["cus_orphan"] = true
	next := Subscription{Tier: TierPro, Status: "active", StripeSubscriptionID: "sub_orphan", StripeCustomerID: "cus_orphan", UpdatedAt: w.clock.Now()}
	if err := w.repo.WriteSubscription(ctx, subscriptionWrite{UserID: "u-none", Next: &next, At: w.clock.Now()}); err != nil {
		t.Fatal(err)
	}
	if changed, _ := privacytest.RunToEnd(t, w.eraser(), nobody, ""); changed != 0 || !w.stripe.cancelled["sub_orphan"] || w.stripe.customers["cus_orphan"] {
		t.Fatalf("changed %d, cancelled %v, customers %v", changed, w.stripe.cancelled, w.stripe.customers)
	}
	calls := w.stripe.Calls()
	sort.Strings(calls)
	if len(calls) != 2 || !strings.HasPrefix(calls[0], "cancel sub_orphan") || !strings.HasPrefix(calls[1], "delete cus_orphan") {
		t.Fatalf("calls %v", calls)
	}
}

// The port's two erasure calls are DELETEs carrying our Idempotency-Key; Stripe's "resource_missing"
// answer (a repeat after the deletion) is what missing recognises, and nothing else is.
func TestStripePortErasureCalls(t *testing.T) {
	ctx := context.Background()
	p, srv := newStripePort(t)
	if err := p.CancelSubscriptionNow(ctx, "sub_1", "erase-subscription-era_1-sub_1"); err != nil {
		t.Fatal(err)
	}
	if r := srv.last(); r.Method != http.MethodDelete || r.Path != "/v1/subscriptions/sub_1" || r.Key != "erase-subscription-era_1-sub_1" {
		t.Fatalf("request %+v", r)
	}
	err := p.DeleteCustomer(ctx, "gone", "erase-customer-era_1-gone")
	if r := srv.last(); r.Method != http.MethodDelete || r.Path != "/v1/customers/gone" || r.Key != "erase-customer-era_1-gone" {
		t.Fatalf("request %+v", r)
	}
	if !missing(err) {
		t.Fatalf("a missing customer: %v, want resource_missing", err)
	}
	// Another refusal (an unknown path answers 404 without a code), a declined card, an outage: not
	// "missing".
	if err := p.DeleteCustomer(ctx, "cus_unknown", "k"); err == nil || missing(err) {
		t.Fatalf("unknown: %v", err)
	}
	if err := p.CancelSubscriptionNow(ctx, "declined", "k"); err == nil || missing(err) {
		t.Fatalf("declined: %v", err)
	}
	if err := p.CancelSubscriptionNow(ctx, "down", "k"); !stripeapi.IsAmbiguous(err) || missing(err) {
		t.Fatalf("down: %v", err)
	}
	if err := (stripePort{}).DeleteCustomer(ctx, "cus_1", "k"); apperr.CodeOf(err) != apperr.Internal {
		t.Fatalf("without a client: %v", err)
	}
}

// The hook registers billing's eraser (its Stripe port needs the host's Stripe declaration).
func TestErasePersonalDataHooks(t *testing.T) {
	rt, err := platform.New(context.Background(), manifest.Function{Name: manifest.ErasePersonalData}, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	var r privacy.Registry
	if err := ErasePersonalDataHooks(rt, &r); err != nil {
		t.Fatal(err)
	}
	if _, ok := r.Eraser("billing"); !ok || len(r.EraseAreas()) != 1 {
		t.Fatalf("areas %v", r.EraseAreas())
	}
}
