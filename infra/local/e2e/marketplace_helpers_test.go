//go:build integration

package e2e

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/liberation/monetization/infra/local/localtest"
	"github.com/liberation/monetization/infra/local/stripeevents"
	"github.com/liberation/monetization/infra/local/stripefake"
	"github.com/liberation/monetization/shared/manifest"
	"github.com/liberation/monetization/shared/marketplace"
	"github.com/liberation/monetization/shared/marketplace/ledger"
	"github.com/liberation/monetization/shared/store"
	"github.com/liberation/monetization/shared/stripeapi"
)

// market is the harness plus a stateful Stripe stand-in (refund lists, transfers) in front of
// stripe-mock, which the system's Stripe client is pointed at.
type market struct {
	*Harness
	fake *stripefake.Fake
	run  string // unique suffix for this test's ids
}

func startMarket(t *testing.T) *market {
	t.Helper()
	h := Start(t)
	fake := stripefake.Start(t, h.Env.Getenv(manifest.EnvStripeAPIBase))
	stripeapi.Open(h.Env.Runtime).Set(fake.API(localtest.StripeKey))
	return &market{Harness: h, fake: fake, run: strconv.FormatInt(time.Now().UnixNano(), 36)}
}

func (m *market) id(name string) string { return name + "-" + m.run }

// publishedCourse creates a course with one uploaded lesson and publishes it.
func (m *market) publishedCourse(t *testing.T, instructorTok, title string, price int64) (marketplace.CourseView, []byte) {
	t.Helper()
	var c marketplace.CourseView
	m.Call(t, "POST", "/courses", instructorTok, map[string]any{"title": title, "description": "All about " + title + ".",
		"category": "development", "level": "beginner", "language": "en", "priceCents": price, "tags": []string{"e2e"}}, 201, &c)
	file := []byte("%PDF-1.4\n% lesson of " + title + "\n%%EOF\n")
	var lesson marketplace.CreateLessonResponse
	m.Call(t, "POST", "/courses/"+c.ID+"/lessons", instructorTok, map[string]any{"title": "Lesson one", "kind": "document",
		"contentType": "application/pdf", "sizeBytes": len(file)}, 201, &lesson)
	put(t, lesson.Upload, file)
	m.Call(t, "POST", "/courses/"+c.ID+"/publish", instructorTok, map[string]any{}, 200, nil)
	return c, file
}

// put uploads a file with a presigned URL exactly as a browser would.
func put(t *testing.T, u marketplace.Upload, body []byte) {
	t.Helper()
	req, _ := http.NewRequest(u.Method, u.URL, bytes.NewReader(body))
	req.Header.Set("content-type", u.Headers["content-type"])
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("upload with the presigned URL: %d", res.StatusCode)
	}
}

// sale is what Stripe's events of one course purchase name.
type sale struct {
	learner, course, session, intent, charge string
	amount                                   int64
}

// purchase is a paid purchase's checkout.session.completed, built as Stripe sends it, at paidAt.
func (m *market) purchase(learner, courseID string, amount int64, paidAt time.Time) (sale, []byte) {
	s := sale{learner: learner, course: courseID, amount: amount, session: "cs_" + learner + courseID,
		intent: "pi_" + learner + courseID, charge: "ch_" + learner + courseID}
	o := stripeevents.CoursePurchase(learner, courseID, amount)
	o.SessionID, o.PaymentIntentID, o.ChargeID, o.Created = s.session, s.intent, s.charge, paidAt
	o.EventID = "evt_" + s.session
	m.fake.SetIntent(s.intent, s.charge) // Stripe's lists by PaymentIntent answer the charge's
	return s, stripeevents.MustBuild(stripeevents.CheckoutSessionCompleted, o)
}

// refund makes Stripe's record of the sale's charge hold refunds (each of amounts) and delivers
// charge.refunded as Stripe would (API 2023-10-16: the charge carries its total, not the list).
func (m *market) refund(t *testing.T, s sale, amounts ...int64) {
	t.Helper()
	total := m.stripeRefunds(s, "", amounts...)
	payload := stripeevents.MustBuild(stripeevents.ChargeRefunded, stripeevents.Options{UserID: s.learner,
		ChargeID: s.charge, PaymentIntentID: s.intent, AmountCents: s.amount, AmountRefundedCents: total,
		EventID: fmt.Sprintf("evt_refund_%s_%d", s.charge, total)})
	post(t, m.Harness, payload)
}

// stripeRefunds makes Stripe's record of the sale's charge hold refunds of amounts (in status, ""
// for succeeded) and returns the amount they refund.
func (m *market) stripeRefunds(s sale, status string, amounts ...int64) int64 {
	var refunds []stripefake.Refund
	var total int64
	for i, a := range amounts {
		refunds = append(refunds, stripefake.Refund{ID: fmt.Sprintf("re_%s_%d", s.charge, i), Amount: a, Status: status})
		if status != "failed" && status != "canceled" {
			total += a
		}
	}
	m.fake.SetRefunds(s.charge, refunds...)
	return total
}

func (m *market) earnings(t *testing.T, tok string) marketplace.Earnings {
	t.Helper()
	var e marketplace.Earnings
	m.Call(t, "GET", "/instructors/me/earnings", tok, nil, 200, &e)
	return e
}

func (m *market) sales(t *testing.T, tok string) []marketplace.SaleView {
	t.Helper()
	var l marketplace.SaleList
	m.Call(t, "GET", "/instructors/me/sales", tok, nil, 200, &l)
	return l.Sales
}

// ledgerMatchesBalance checks the money invariant: an instructor's stored balance equals the sum
// of their ledger entries, bucket by bucket.
func (m *market) ledgerMatchesBalance(t *testing.T, instructorID string) ledger.Buckets {
	t.Helper()
	s := m.Env.Store()
	entries, err := store.QueryAll[marketplace.LedgerEntry](context.Background(), s, &dynamodb.QueryInput{
		KeyConditionExpression: aws.String("PK = :pk AND begins_with(SK, :pre)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": store.S(store.InstructorBalanceKey(instructorID).PK),
			":pre": store.S(store.LedgerPrefix)},
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		t.Fatal(err)
	}
	var sum ledger.Buckets
	for _, e := range entries {
		sum = sum.Plus(e.Buckets)
	}
	var bal marketplace.Balance
	if err := s.GetConsistent(context.Background(), store.InstructorBalanceKey(instructorID), &bal); err != nil && len(entries) > 0 {
		t.Fatal(err)
	}
	if bal.Buckets != sum {
		t.Fatalf("instructor %s: balance %+v, ledger entries (%d) sum to %+v", instructorID, bal.Buckets, len(entries), sum)
	}
	return sum
}

// count returns how many items of a partition start with prefix.
func (m *market) count(t *testing.T, pk, prefix string) int {
	t.Helper()
	items, err := store.QueryAll[map[string]any](context.Background(), m.Env.Store(), &dynamodb.QueryInput{
		KeyConditionExpression:    aws.String("PK = :pk AND begins_with(SK, :pre)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": store.S(pk), ":pre": store.S(prefix)},
		ConsistentRead:            aws.Bool(true),
	})
	if err != nil {
		t.Fatal(err)
	}
	return len(items)
}

// fetch downloads a presigned URL.
func fetch(t *testing.T, url string) []byte {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET presigned URL: %d %s", res.StatusCode, b)
	}
	return b
}
