//go:build integration

package e2e

// Races, for real: many requests at once through the local gateway on the same item. The local
// DynamoDB serves its requests one at a time (docs/decisions/0020), which gives the per-item
// serializability DynamoDB has in AWS, so the outcome is decided by our condition expressions and
// the exact final state can be asserted.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/liberation/monetization/infra/local/stripeevents"
	"github.com/liberation/monetization/shared/manifest"
)

// Twelve admins refund 300 of a 1,000-cent payment at the same moment: exactly three refunds fit.
// Then six admins each ask for "everything left" at once: exactly one gets the last 100.
func TestConcurrentRefundsNeverExceedThePayment(t *testing.T) {
	h := Start(t)
	user := "refund-race-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	o := stripeevents.Options{UserID: user, Tier: "pro", AmountCents: 1000, Created: time.Now().Add(-time.Minute),
		InvoiceID: "in_" + user, ChargeID: "ch_" + user}
	post(t, h, stripeevents.MustBuild(stripeevents.CustomerSubscriptionCreated, o))
	post(t, h, stripeevents.MustBuild(stripeevents.InvoicePaid, o))
	tok := h.Token(t, user, user+"@example.com")
	pays := payments(t, h, tok)
	if len(pays) != 1 || pays[0].AmountCents != 1000 {
		t.Fatalf("payments: %+v", pays)
	}
	payID := pays[0].ID
	admin := h.Token(t, "admin-race", "ops@example.com", "admin")

	refund := func(key string, amount *int64) (int, []byte, error) {
		body := map[string]any{"paymentId": payID, "reason": "requested_by_customer"}
		if amount != nil {
			body["amountCents"] = *amount
		}
		return untilSettled(h, http.MethodPost, "/admin/refunds", admin, body, map[string]string{"Idempotency-Key": key})
	}
	type result struct {
		status int
		body   []byte
		err    error
	}
	race := func(n int, amount *int64) []result {
		out := make([]result, n)
		all(n, func(i int) {
			status, body, err := refund(fmt.Sprintf("race-%p-%d", amount, i), amount)
			out[i] = result{status, body, err}
		})
		return out
	}

	// Round 1: 12 × 300 on 1,000.
	amount := int64(300)
	var refunded int64
	granted, refused := 0, 0
	for _, r := range race(12, &amount) {
		switch {
		case r.err != nil:
			t.Errorf("refund: %v", r.err)
		case r.status == http.StatusCreated:
			var out struct {
				Refund struct {
					AmountCents int64 `json:"amountCents"`
				} `json:"refund"`
			}
			if err := json.Unmarshal(r.body, &out); err != nil {
				t.Fatalf("201 body: %v %s", err, r.body)
			}
			granted++
			refunded += out.Refund.AmountCents
		case r.status == http.StatusUnprocessableEntity:
			refused++
		default:
			t.Errorf("refund: %d %s", r.status, r.body)
		}
	}
	if granted != 3 || refused != 9 || refunded != 900 {
		t.Fatalf("12 racing refunds of 300 on 1,000: %d granted (%d cents), %d refused; want 3 (900), 9", granted, refunded, refused)
	}
	checkRefundState(t, h, user, payID, 900, 3)

	// Round 2: 6 × "everything left" (100).
	granted, refused = 0, 0
	for _, r := range race(6, nil) {
		switch {
		case r.err != nil:
			t.Errorf("refund: %v", r.err)
		case r.status == http.StatusCreated:
			granted++
		case r.status == http.StatusUnprocessableEntity:
			refused++
		default:
			t.Errorf("refund: %d %s", r.status, r.body)
		}
	}
	if granted != 1 || refused != 5 {
		t.Fatalf("6 racing full refunds of the remaining 100: %d granted, %d refused; want 1, 5", granted, refused)
	}
	checkRefundState(t, h, user, payID, 1000, 4)
	if got := getJSON[paymentView](t, h, "/payments/"+payID, tok); got.RefundedCents != 1000 || got.Status != "refunded" {
		t.Fatalf("GET /payments/%s after the races: %+v, want 1000 refunded, status refunded", payID, got)
	}
}

// checkRefundState reads the table: the payment's refundedCents, no reservation left behind, and
// refund items whose amounts sum to it.
func checkRefundState(t *testing.T, h *Harness, user, payID string, wantRefunded int64, wantRefunds int) {
	t.Helper()
	var pay []struct {
		RefundedCents      int64            `dynamodbav:"refundedCents"`
		PendingRefundCents int64            `dynamodbav:"pendingRefundCents"`
		PendingRefunds     map[string]int64 `dynamodbav:"pendingRefunds"`
	}
	scanTable(t, h, map[string]string{"type": "payment", "id": payID}, &pay)
	if len(pay) != 1 {
		t.Fatalf("%d payment items %s", len(pay), payID)
	}
	if p := pay[0]; p.RefundedCents != wantRefunded || p.PendingRefundCents != 0 || len(p.PendingRefunds) != 0 {
		t.Fatalf("payment item: refunded %d, pending %d %v; want refunded %d and no reservation", p.RefundedCents,
			p.PendingRefundCents, p.PendingRefunds, wantRefunded)
	}
	var refunds []struct {
		ID          string `dynamodbav:"id"`
		AmountCents int64  `dynamodbav:"amountCents"`
	}
	scanTable(t, h, map[string]string{"type": "refund", "paymentId": payID, "userId": user}, &refunds)
	var sum int64
	for _, r := range refunds {
		sum += r.AmountCents
	}
	if len(refunds) != wantRefunds || sum != wantRefunded {
		t.Fatalf("refund items %+v (sum %d), want %d summing to %d", refunds, sum, wantRefunds, wantRefunded)
	}
}

// Four upgrades to Enterprise and four cancellations of the same Pro subscription at once. Whatever
// the interleaving, one consistent subscription remains: the cancellation is applied exactly once,
// the upgrade at most once (exactly once if any upgrade answered 200), every state change wrote one
// audit record with the version it produced, and no write was lost.
func TestConcurrentPlanChangesLeaveOneSubscription(t *testing.T) {
	h := Start(t)
	user := "plan-race-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	t0 := time.Now().Add(-time.Minute)
	o := stripeevents.Options{UserID: user, Tier: "pro", Created: t0, PeriodStart: t0}
	post(t, h, stripeevents.MustBuild(stripeevents.CustomerSubscriptionCreated, o))
	post(t, h, stripeevents.MustBuild(stripeevents.InvoicePaid, o))
	tok := h.Token(t, user, user+"@example.com")
	if sub := getJSON[subscriptionView](t, h, "/subscription", tok); sub.Tier != "pro" || sub.Status != "active" {
		t.Fatalf("before the race: %+v", sub)
	}
	before := subscriptionItem(t, h, user)

	const upgrades, cancels = 4, 4
	statuses := make([]int, upgrades+cancels)
	bodies := make([][]byte, upgrades+cancels)
	all(upgrades+cancels, func(i int) {
		key := map[string]string{"Idempotency-Key": "plan-race-" + strconv.Itoa(i)}
		var err error
		if i < upgrades {
			statuses[i], bodies[i], err = untilSettled(h, http.MethodPut, "/subscription", tok, map[string]string{"tier": "enterprise"}, key)
		} else {
			statuses[i], bodies[i], err = untilSettled(h, http.MethodDelete, "/subscription", tok, nil, key)
		}
		if err != nil {
			t.Errorf("request %d: %v", i, err)
		}
	})
	upgraded := 0
	for i, st := range statuses {
		switch {
		case st == http.StatusOK && i < upgrades:
			upgraded++
		case st == http.StatusOK:
		case st == http.StatusUnprocessableEntity && i < upgrades: // read the cancellation first
		default:
			t.Errorf("request %d (upgrade: %v): %d %s", i, i < upgrades, st, bodies[i])
		}
	}
	if t.Failed() {
		t.FailNow()
	}
	t.Logf("statuses (4 upgrades, 4 cancellations): %v", statuses)

	after := subscriptionItem(t, h, user)
	wantTier := "pro"
	if upgraded > 0 {
		wantTier = "enterprise"
	}
	if after.Tier != wantTier || !after.CancelAtPeriodEnd || after.Status != "active" {
		t.Fatalf("after the race (%d upgrades answered 200): %+v, want tier %s, cancelAtPeriodEnd", upgraded, after, wantTier)
	}
	sub := getJSON[subscriptionView](t, h, "/subscription", tok)
	if sub.Tier != wantTier || !sub.CancelAtPeriodEnd {
		t.Fatalf("GET /subscription: %+v, want tier %s, cancelAtPeriodEnd", sub, wantTier)
	}

	// The audit trail: one record per state change, versions before+1 … after, each change starting
	// from the state the previous one left.
	var audits []struct {
		Action  string            `dynamodbav:"action"`
		Details map[string]string `dynamodbav:"details"`
	}
	scanTable(t, h, map[string]string{"type": "audit", "target": "subscription:" + stripeevents.SubscriptionIDFor(user), "actor": user}, &audits)
	byVersion := map[int64]string{}
	count := map[string]int{}
	for _, a := range audits {
		v, _ := strconv.ParseInt(a.Details["version"], 10, 64)
		if prev, dup := byVersion[v]; dup {
			t.Fatalf("two writes produced version %d (%s and %s): a lost update", v, prev, a.Action)
		}
		byVersion[v] = a.Action
		count[a.Action]++
	}
	wantUpgrades := 0
	if upgraded > 0 {
		wantUpgrades = 1
	}
	if count["subscription.cancel"] != 1 || count["subscription.upgrade"] != wantUpgrades || len(audits) != 1+wantUpgrades {
		t.Fatalf("audit records %v, want 1 cancel and %d upgrade", count, wantUpgrades)
	}
	if after.Version != before.Version+int64(len(audits)) {
		t.Fatalf("version %d → %d with %d recorded changes", before.Version, after.Version, len(audits))
	}
	for v := before.Version + 1; v <= after.Version; v++ {
		if _, ok := byVersion[v]; !ok {
			t.Fatalf("no audit record for version %d (have %v)", v, byVersion)
		}
	}
}

type subscriptionRecord struct {
	Tier              string `dynamodbav:"tier"`
	Status            string `dynamodbav:"status"`
	CancelAtPeriodEnd bool   `dynamodbav:"cancelAtPeriodEnd"`
	Version           int64  `dynamodbav:"version"`
}

func subscriptionItem(t *testing.T, h *Harness, user string) subscriptionRecord {
	t.Helper()
	var subs []subscriptionRecord
	scanTable(t, h, map[string]string{"type": "subscription", "userId": user}, &subs)
	if len(subs) != 1 {
		t.Fatalf("%d subscription items for %s", len(subs), user)
	}
	return subs[0]
}

// scanTable reads every item of the test's own table whose string attributes equal match (a test
// may scan its private table; request paths never do) into out, a pointer to a slice.
func scanTable(t *testing.T, h *Harness, match map[string]string, out any) {
	t.Helper()
	db := dynamoFromEnv(t)
	filter, names, values := "", map[string]string{}, map[string]types.AttributeValue{}
	i := 0
	for k, v := range match {
		if filter != "" {
			filter += " AND "
		}
		filter += fmt.Sprintf("#k%d = :v%d", i, i)
		names[fmt.Sprintf("#k%d", i)] = k
		values[fmt.Sprintf(":v%d", i)] = &types.AttributeValueMemberS{Value: v}
		i++
	}
	var items []map[string]types.AttributeValue
	p := dynamodb.NewScanPaginator(db, &dynamodb.ScanInput{TableName: aws.String(h.Env.Resources.Table), ConsistentRead: aws.Bool(true),
		FilterExpression: aws.String(filter), ExpressionAttributeNames: names, ExpressionAttributeValues: values})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatalf("scan: %v", err)
		}
		items = append(items, page.Items...)
	}
	if err := attributevalue.UnmarshalListOfMaps(items, out); err != nil {
		t.Fatalf("scan: %v", err)
	}
}

// all runs f(0) … f(n-1) in n goroutines released at the same moment, and waits for them.
func all(n int, f func(i int)) {
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			<-start
			f(i)
		}(i)
	}
	close(start)
	wg.Wait()
}

// raceClient is shared by the racing goroutines (enough idle connections for all of them).
var raceClient = &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}

// untilSettled sends a request (safe to call from any goroutine: it reports errors instead of
// failing the test) and sends it again with the same Idempotency-Key while the answer is 409 — a
// lost race the caller is told to retry — as a client would. Any other answer is returned.
func untilSettled(h *Harness, method, path, token string, body any, headers map[string]string) (int, []byte, error) {
	var payload []byte
	if body != nil {
		var err error
		if payload, err = json.Marshal(body); err != nil {
			return 0, nil, err
		}
	}
	deadline := time.Now().Add(45 * time.Second)
	for attempt := 1; ; attempt++ {
		req, err := http.NewRequest(method, h.URL+path, bytes.NewReader(payload))
		if err != nil {
			return 0, nil, err
		}
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		req.Header.Set("Authorization", "Bearer "+token)
		for k, v := range headers {
			req.Header.Set(k, v)
		}
		status, b, err := do(req)
		if err != nil || status != http.StatusConflict {
			return status, b, err
		}
		if time.Now().After(deadline) {
			return status, b, fmt.Errorf("%s %s still 409 after %d attempts: %s", method, path, attempt, b)
		}
		backoff(attempt)
	}
}

func do(req *http.Request) (int, []byte, error) {
	res, err := raceClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return res.StatusCode, b, err
}

// backoff waits a short, jittered, growing time before a retry (as Stripe and clients do).
func backoff(attempt int) {
	d := time.Duration(min(attempt, 10)) * 10 * time.Millisecond
	time.Sleep(d/2 + time.Duration(rand.Int63n(int64(d))))
}

// webhookPath is the function URL's path.
func webhookPath(t testing.TB) string {
	t.Helper()
	for _, f := range manifest.Of(manifest.FunctionURL) {
		return f.Trigger.Path
	}
	t.Fatal("no function URL in the manifest")
	return ""
}
