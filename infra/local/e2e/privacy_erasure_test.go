//go:build integration

package e2e

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/liberation/monetization/infra/local/stripeevents"
	"github.com/liberation/monetization/shared/billing/records"
	"github.com/liberation/monetization/shared/books"
	"github.com/liberation/monetization/shared/manifest"
	"github.com/liberation/monetization/shared/marketplace"
	"github.com/liberation/monetization/shared/privacy"
	"github.com/liberation/monetization/shared/privacy/privacytest"
	"github.com/liberation/monetization/shared/rewards"
)

// A learner with data in every area — a pro subscription (Stripe customer, invoice, receipt PDF),
// a course bought (payment, receipt, the instructor's sale) and reviewed, tokens and a leaderboard
// name, a seat in an organisation's license, a support ticket with an agent's reply, a
// personal-data export — erases themselves through the gateway: DELETE /me without the
// confirmation is a 400; with it 202, and a second DELETE answers the same request; the erasure
// runs over its queue (the poller delivers the continuations) and ends done. Then: the learner's
// e-mail, name, review text and ticket text are nowhere in the table; their receipts are
// re-rendered without the e-mail and no old version is left; their export is gone with every
// version; the seat is freed; they are off the leaderboard with their tokens forfeited; the
// financial records are kept under the pseudonym — the trial balance, the course's rating and
// another buyer's items are exactly as before. Admins list the request; a non-admin gets 403; an
// admin erases another user on a request received by e-mail. Every grant of the four functions
// is used.
func TestPersonalDataErasureThroughTheGateway(t *testing.T) {
	m := startMarket(t)
	ctx := context.Background()
	instructor, learner, other := m.id("era-instr"), m.id("era-learner"), m.id("era-other")
	email := learner + "@example.com"
	admin := m.Token(t, m.id("era-admin"), "ops@liberation.example", "admin")
	itok := m.Token(t, instructor, instructor+"@example.com", "instructor")
	ltok := m.Token(t, learner, email)
	otok := m.Token(t, other, other+"@example.com")
	agent := m.Token(t, m.id("era-agent"), m.id("era-agent")+"@support.liberation.example", manifest.GroupSupport)
	name, review, ticketText := "Lena "+m.run, "Great course, thanks "+m.run, "Please call me back "+m.run

	// Billing: a pro subscription, paid (a payment with its receipt).
	status, body, _ := m.Do(t, http.MethodPost, "/subscription/checkout", ltok,
		map[string]string{"tier": "pro", "successUrl": "https://app.example.com/ok", "cancelUrl": "https://app.example.com/no"})
	if status != http.StatusOK && status != http.StatusCreated {
		t.Fatalf("checkout: %d %s", status, body)
	}
	profile, err := records.Records{S: m.Env.Store()}.GetUser(ctx, learner)
	if err != nil || profile.StripeCustomerID == "" {
		t.Fatalf("checkout did not remember a Stripe customer: %+v %v", profile, err)
	}
	o := stripeevents.Options{UserID: learner, Email: email, Tier: "pro", Created: time.Now().Add(-time.Hour),
		CustomerID: profile.StripeCustomerID, SubscriptionID: "sub_era" + m.run, InvoiceID: "in_era" + m.run, ChargeID: "ch_era" + m.run}
	post(t, m.Harness, stripeevents.MustBuild(stripeevents.CheckoutSessionCompleted, o))
	post(t, m.Harness, stripeevents.MustBuild(stripeevents.CustomerSubscriptionCreated, o))
	o.EventID = "evt_paid_era" + m.run
	post(t, m.Harness, stripeevents.MustBuild(stripeevents.InvoicePaid, o))

	// Marketplace: two buyers of one course, each reviewing it; receipts rendered.
	c, _ := m.publishedCourse(t, itok, "Forget me not", 1999)
	for _, who := range []string{learner, other} {
		_, paid := m.purchase(who, c.ID, 1999, time.Now().Add(-time.Minute))
		post(t, m.Harness, paid)
	}
	m.Drain(t, manifest.ReceiptsQueue)
	m.Call(t, "PUT", "/courses/"+c.ID+"/review", ltok, map[string]any{"rating": 5, "text": review}, 201, nil)
	m.Call(t, "PUT", "/courses/"+c.ID+"/review", otok, map[string]any{"rating": 3, "text": "Fine " + m.run}, 201, nil)

	// Rewards: tokens and a leaderboard name; licensing: a seat; support: a ticket and a reply.
	rwGrant(t, m.Harness, admin, learner, 120)
	rwGrant(t, m.Harness, admin, other, 40)
	m.Call(t, http.MethodPut, "/me/profile", ltok, map[string]any{"displayName": name, "leaderboardOptOut": false}, http.StatusOK, nil)
	org := newOrg(t, m.Harness, 5, "block", "restrict", time.Now().UTC())
	m.Call(t, http.MethodPost, "/licenses/join", ltok, map[string]string{"code": org.invite(t, m.Harness, 1)}, http.StatusCreated, nil)
	var tk struct{ ID string }
	m.Call(t, http.MethodPost, "/support/tickets", ltok, map[string]string{"subject": "Call me", "body": ticketText, "priority": "normal"}, http.StatusCreated, &tk)
	m.Call(t, http.MethodPost, "/support/tickets/"+tk.ID+"/replies", agent, map[string]string{"body": "We will call you at your number."}, http.StatusCreated, nil)

	// Privacy: an export (a zip under exports/ holding everything).
	var exp privacy.View
	m.Call(t, "POST", "/me/export", ltok, nil, http.StatusAccepted, &exp)
	m.Drain(t, manifest.ExportsQueue)

	// Before: the books, the course's rating, the license's seats, the other buyer's items, the
	// learner's receipts (which show their e-mail).
	day := time.Now().UTC().Format(time.DateOnly)
	var tbBefore, tbAfter books.TrialBalanceView
	m.Call(t, "GET", "/admin/books/trial-balance?date="+day, admin, nil, 200, &tbBefore)
	var courseBefore, courseAfter marketplace.CourseDetail
	m.Call(t, "GET", "/courses/"+c.ID, "", nil, 200, &courseBefore)
	var licBefore, licAfter license
	m.Call(t, "GET", "/licenses/"+org.lic.ID, org.admin, nil, 200, &licBefore)
	othersBefore := itemsNaming(t, m.Harness, other)
	bucket := erasureBucket(t, m.Harness)
	receipts := bucket.current(t, "receipts/"+learner+"/")
	if len(receipts) < 2 {
		t.Fatalf("receipts before the erasure: %v", keysOf(receipts))
	}
	for k, b := range receipts {
		if !strings.Contains(string(b), email) {
			t.Fatalf("receipt %s does not show the e-mail before the erasure: the check after it proves nothing", k)
		}
	}
	if len(bucket.versions(t, "exports/"+learner+"/")) == 0 {
		t.Fatal("no export objects before the erasure")
	}

	// The erasure: the confirmation is required; one request per user.
	m.Call(t, http.MethodDelete, "/me", ltok, nil, http.StatusBadRequest, nil)
	var first, again privacy.ErasureView
	m.Call(t, http.MethodDelete, "/me?confirm=ERASE", ltok, nil, http.StatusAccepted, &first, map[string]string{"Idempotency-Key": "erase-" + m.run})
	m.Call(t, http.MethodDelete, "/me?confirm=ERASE", ltok, nil, http.StatusAccepted, &again)
	if first.ErasureID == "" || again.ErasureID != first.ErasureID || !strings.HasPrefix(first.Pseudonym, "anon_") {
		t.Fatalf("one erasure per user: %+v then %+v", first, again)
	}
	m.Drain(t, manifest.ErasuresQueue)
	m.Call(t, http.MethodDelete, "/me?confirm=ERASE", ltok, nil, http.StatusAccepted, &again)
	if again.Status != privacy.ErasureDone || len(again.Holds) != 0 || again.Changed == 0 {
		t.Fatalf("erasure after its runs: %+v", again)
	}

	// Nothing of the person's identity is left in the table; the records kept are tied to the
	// pseudonym.
	for _, gone := range []string{email, name, review, ticketText} {
		if items := itemsNaming(t, m.Harness, gone); len(items) > 0 {
			t.Errorf("%q still in %d items: %v", gone, len(items), keysOf(items))
		}
	}
	if kept := itemsNaming(t, m.Harness, first.Pseudonym); len(kept) < 5 {
		t.Errorf("%d items name the pseudonym, want the kept records (payments, sale, enrolment, review, ledger…): %v", len(kept), keysOf(kept))
	}
	// Receipts: re-rendered without the e-mail, one version each; the export: gone, every version.
	for k := range receipts {
		vs := bucket.versionsOf(t, k)
		if len(vs) != 1 || strings.Contains(string(bucket.get(t, k)), email) {
			t.Errorf("receipt %s: %d versions, e-mail gone: %v", k, len(vs), !strings.Contains(string(bucket.get(t, k)), email))
		}
	}
	if left := bucket.versions(t, "exports/"+learner+"/"); len(left) != 0 {
		t.Errorf("the export keeps %d objects or versions", len(left))
	}
	m.Call(t, "GET", "/me/exports/"+exp.ExportID, ltok, nil, http.StatusNotFound, nil)

	// Every other invariant: books, the course's rating, the other buyer, the seat count.
	m.Call(t, "GET", "/admin/books/trial-balance?date="+day, admin, nil, 200, &tbAfter)
	if a, b := mustJSON(t, tbBefore), mustJSON(t, tbAfter); a != b {
		t.Errorf("trial balance changed:\n%s\n%s", a, b)
	}
	m.Call(t, "GET", "/courses/"+c.ID, "", nil, 200, &courseAfter)
	if mustJSON(t, courseBefore.Rating) != mustJSON(t, courseAfter.Rating) || courseAfter.Rating.Count != 2 {
		t.Errorf("the course's rating changed: %+v → %+v", courseBefore.Rating, courseAfter.Rating)
	}
	if othersAfter := itemsNaming(t, m.Harness, other); mustJSON(t, othersBefore) != mustJSON(t, othersAfter) {
		t.Errorf("the other buyer's items changed:\n%v\n%v", keysOf(othersBefore), keysOf(othersAfter))
	}
	m.Call(t, "GET", "/licenses/"+org.lic.ID, org.admin, nil, 200, &licAfter)
	if licAfter.SeatsUsed != licBefore.SeatsUsed-1 {
		t.Errorf("seats used %d → %d, want the learner's seat freed", licBefore.SeatsUsed, licAfter.SeatsUsed)
	}
	var bal rewards.BalanceView
	rwGet(t, m.Harness, "/tokens", ltok, http.StatusOK, &bal)
	if bal.Available != 0 {
		t.Errorf("tokens after the erasure: %+v, want forfeited", bal)
	}
	_, board, _ := m.Do(t, http.MethodGet, "/leaderboards/global?period=all", "", nil)
	if strings.Contains(string(board), name) {
		t.Errorf("the leaderboard still shows %q", name)
	}

	// The audit trail names the pseudonym, never the user.
	var trail struct {
		Records []map[string]any `json:"records"`
	}
	m.Call(t, "GET", "/admin/audit?target=person:"+first.Pseudonym, admin, nil, 200, &trail)
	actions := map[string]bool{}
	for _, r := range trail.Records {
		actions[r["action"].(string)] = true
		if strings.Contains(mustJSON(t, r), learner) {
			t.Errorf("an erasure audit record names the user: %v", r)
		}
	}
	if !actions["erasure.request"] || !actions["erasure.done"] || len(actions) < 4 {
		t.Errorf("audit actions for the pseudonym: %v", actions)
	}

	// Non-admins: 403; an admin erases another user on a request received by e-mail.
	m.Call(t, "GET", "/admin/privacy-requests", otok, nil, http.StatusForbidden, nil)
	m.Call(t, "POST", "/admin/users/"+other+"/erase", otok, map[string]string{"reason": "me"}, http.StatusForbidden, nil)
	third := m.id("era-third")
	rwGrant(t, m.Harness, admin, third, 10)
	var byAdmin privacy.ErasureView
	m.Call(t, "POST", "/admin/users/"+third+"/erase", admin, map[string]string{"reason": "e-mail of " + day + " from the account address"}, http.StatusAccepted, &byAdmin)
	m.Drain(t, manifest.ErasuresQueue)
	m.Call(t, "POST", "/admin/users/"+third+"/erase", admin, map[string]string{"reason": "again"}, http.StatusAccepted, &byAdmin)
	if byAdmin.Status != privacy.ErasureDone || byAdmin.RequestedBy == privacy.RequestedBySelf {
		t.Errorf("admin erasure %+v", byAdmin)
	}

	// The list, a page at a time: the admin's request first (newest), the learner's on a later page.
	found, cursor := false, ""
	for pages := 0; pages < 50 && !found; pages++ {
		var page struct {
			Requests   []privacy.RequestView `json:"requests"`
			NextCursor string                `json:"nextCursor"`
		}
		m.Call(t, "GET", "/admin/privacy-requests?limit=1&cursor="+cursor, admin, nil, 200, &page)
		for _, r := range page.Requests {
			found = found || r.ID == first.ErasureID && r.Kind == "erasure" && r.Status == privacy.ErasureDone && r.Pseudonym == first.Pseudonym
		}
		if cursor = page.NextCursor; cursor == "" {
			break
		}
	}
	if !found {
		t.Errorf("the list lacks the done erasure %s", first.ErasureID)
	}

	usesCoverGrants(t, "delete-me", "sqs:SendMessage")
	usesCoverGrants(t, "admin-erase-user", "sqs:SendMessage")
	usesCoverGrants(t, "list-privacy-requests", "dynamodb:Query")
	usesCoverGrants(t, manifest.ErasePersonalData, "s3:DeleteObjectVersion")
}

// itemsNaming returns every table item (by PK|SK) in which s appears anywhere, as JSON. A scan is
// fine here: the test's table, read by the test, not by a function.
func itemsNaming(t *testing.T, h *Harness, s string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for k, it := range privacytest.Items(t, h.Env.Store()) {
		if js := mustJSON(t, privacy.Row(it)); strings.Contains(js, s) {
			out[k] = js
		}
	}
	return out
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func keysOf[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// testBucket reads the local bucket directly (versions included), as an operator with S3 rights.
type testBucket struct {
	c    *s3.Client
	name string
}

func erasureBucket(t *testing.T, h *Harness) testBucket {
	endpoint := h.Env.Runtime.Endpoint("S3")
	c := s3.NewFromConfig(h.Env.Runtime.AWS, func(o *s3.Options) { o.BaseEndpoint, o.UsePathStyle = endpoint, endpoint != nil })
	return testBucket{c: c, name: h.Env.Getenv(manifest.EnvBucket)}
}

// versions lists every version and delete marker under prefix ("key#versionId").
func (b testBucket) versions(t *testing.T, prefix string) []string {
	t.Helper()
	out, err := b.c.ListObjectVersions(context.Background(), &s3.ListObjectVersionsInput{Bucket: &b.name, Prefix: &prefix})
	if err != nil {
		t.Fatal(err)
	}
	var all []string
	for _, v := range out.Versions {
		all = append(all, aws.ToString(v.Key)+"#"+aws.ToString(v.VersionId))
	}
	for _, d := range out.DeleteMarkers {
		all = append(all, aws.ToString(d.Key)+"#marker")
	}
	return all
}

// versionsOf lists the versions of exactly key.
func (b testBucket) versionsOf(t *testing.T, key string) []string {
	var out []string
	for _, v := range b.versions(t, key) {
		if strings.HasPrefix(v, key+"#") {
			out = append(out, v)
		}
	}
	return out
}

// current reads the current objects under prefix.
func (b testBucket) current(t *testing.T, prefix string) map[string][]byte {
	t.Helper()
	out, err := b.c.ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{Bucket: &b.name, Prefix: &prefix})
	if err != nil {
		t.Fatal(err)
	}
	objs := map[string][]byte{}
	for _, o := range out.Contents {
		objs[aws.ToString(o.Key)] = b.get(t, aws.ToString(o.Key))
	}
	return objs
}

func (b testBucket) get(t *testing.T, key string) []byte {
	t.Helper()
	out, err := b.c.GetObject(context.Background(), &s3.GetObjectInput{Bucket: &b.name, Key: &key})
	if err != nil {
		t.Fatalf("%s: %v", key, err)
	}
	defer out.Body.Close()
	body, _ := io.ReadAll(out.Body)
	return body
}
