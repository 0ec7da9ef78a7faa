package marketplace

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/liberation/monetization/shared/httpapi"
	"github.com/liberation/monetization/shared/manifest"
	"github.com/liberation/monetization/shared/platform"
	"github.com/liberation/monetization/shared/queue"
)

// Every constructor builds its function from configuration alone (no network call); a route so
// built refuses an anonymous caller before it reads anything.
func TestConstructorsBuildFromConfiguration(t *testing.T) {
	env := map[string]string{}
	rt := func(auth manifest.Auth) *platform.Runtime {
		r, err := platform.New(context.Background(), manifest.Function{Name: "test", Auth: auth}, func(k string) string { return env[k] })
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	routes := map[string]func(*platform.Runtime) (httpapi.Lambda, error){
		"CreateCourse": NewCreateCourse, "UpdateCourse": NewUpdateCourse, "ListInstructorCourses": NewListInstructorCourses,
		"CreateLesson": NewCreateLesson, "PublishCourse": NewPublishCourse, "UnpublishCourse": NewUnpublishCourse,
		"ConnectInstructor": NewConnectInstructor, "GetEarnings": NewGetEarnings, "ListSales": NewListSales,
		"ListMyPayouts": NewListMyPayouts, "PurchaseCourse": NewPurchaseCourse, "ListMyCourses": NewListMyCourses,
		"GetCourseContent": NewGetCourseContent, "PutReview": NewPutReview, "DeleteReview": NewDeleteReview,
		"ListPayouts": NewListPayouts, "RunPayouts": NewRunPayouts, "GetMarketplaceMetrics": NewGetMarketplaceMetrics,
	}
	for name, build := range routes {
		t.Run(name, func(t *testing.T) {
			h, err := build(rt(manifest.User))
			if err != nil {
				t.Fatal(err)
			}
			res, err := h(context.Background(), events.APIGatewayV2HTTPRequest{})
			if err != nil || res.StatusCode != http.StatusUnauthorized {
				t.Fatalf("anonymous: %d %v", res.StatusCode, err)
			}
		})
	}
	for name, build := range map[string]func(*platform.Runtime) (httpapi.Lambda, error){"GetCourse": NewGetCourse, "ListReviews": NewListReviews} {
		if h, err := build(rt(manifest.Public)); err != nil || h == nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	if _, err := NewPayouts(rt(manifest.User)); err != nil {
		t.Fatal(err)
	}
	if _, err := NewProcessPayouts(rt(manifest.User)); err != nil {
		t.Fatal(err)
	}
	if _, err := NewReleaseEarnings(rt(manifest.User)); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"0", "-5", "ten"} {
		env[manifest.EnvPayoutMinimum] = bad
		if _, err := NewDeps(rt(manifest.User)); err == nil {
			t.Fatalf("PAYOUT_MINIMUM_CENTS=%s accepted", bad)
		}
	}
	env[manifest.EnvPayoutMinimum] = "2500"
	d, err := NewDeps(rt(manifest.User))
	if err != nil || d.PayoutMinimum != 2500 || d.Books == nil || d.Courses == nil {
		t.Fatalf("deps: %+v %v", d, err)
	}
}

// The monthly job queues the month's payouts; the payouts queue's consumer pays them, drops a
// message it can never process and fails (for a retry) none.
func TestMonthlyJobAndPayoutsConsumer(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	w.course("crs_1", "ins", 10000)
	w.connect("ins", true)
	w.mustBook(w.paid("cs_a", "ana", "crs_1", 10000))
	w.clk.Advance(32 * 24 * time.Hour)
	if _, err := RunRelease(ctx, w.d); err != nil {
		t.Fatal(err)
	}
	rep, err := RunMonthlyPayouts(ctx, w.d)
	if err != nil || rep.Queued != 1 {
		t.Fatalf("monthly: %+v %v", rep, err)
	}
	var r queue.Router
	PayoutsHooks(w.d, &r)
	consume := r.Consumer(slog.New(slog.NewTextHandler(io.Discard, nil)))
	var ev events.SQSEvent
	for i, m := range w.sent.take(MsgPayout) {
		payload, _ := json.Marshal(m.Payload)
		body, _ := json.Marshal(queue.Message{Type: m.Type, DedupeID: m.Dedupe, Payload: payload})
		ev.Records = append(ev.Records, events.SQSMessage{MessageId: "m" + itoa(int64(i)), Body: string(body)})
	}
	bad, _ := json.Marshal(queue.Message{Type: MsgPayout, DedupeID: "x", Payload: json.RawMessage(`{"instructorId":""}`)})
	ev.Records = append(ev.Records, events.SQSMessage{MessageId: "bad", Body: string(bad)})
	res, err := consume(ctx, ev)
	if err != nil || len(res.BatchItemFailures) != 0 {
		t.Fatalf("consumer: %+v %v", res, err)
	}
	po, _ := w.books.Payout(ctx, "ins", Period(w.clk.Now()))
	if po == nil || po.Status != PayoutPaid || po.AmountCents != 7000 || len(w.statements) != 1 {
		t.Fatalf("payout %+v, statements %v", po, w.statements)
	}
	if id := StatementDedupeID(po.ID); id != "statement#"+po.ID {
		t.Fatal("no statement dedupe id")
	}
}
