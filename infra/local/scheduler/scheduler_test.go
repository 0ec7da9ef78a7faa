package scheduler

import (
	"bytes"
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/liberation/monetization/infra/local/invoke"
	"github.com/liberation/monetization/shared/manifest"
)

// every fires every d from now, so Run can be tested in milliseconds.
type every time.Duration

func (e every) Next(t time.Time) time.Time { return t.Add(time.Duration(e)) }

func TestRunFiresJobsWithTheScheduleEvent(t *testing.T) {
	var mu sync.Mutex
	var got []events.EventBridgeEvent
	fn := manifest.Function{Name: "nightly", Trigger: manifest.Trigger{Kind: manifest.Schedule, Expression: "rate(1 day)"}}
	f := invoke.New(fn, func(_ context.Context, ev events.EventBridgeEvent) error {
		mu.Lock()
		got = append(got, ev)
		mu.Unlock()
		return nil
	})
	ctx, cancel := context.WithTimeout(context.Background(), 250*time.Millisecond)
	defer cancel()
	var log bytes.Buffer
	Run(ctx, []Job{{Fn: f, Schedule: every(40 * time.Millisecond)}}, &log)
	mu.Lock()
	defer mu.Unlock()
	if len(got) < 3 {
		t.Fatalf("fired %d times in 250 ms at a 40 ms period", len(got))
	}
	ev := got[0]
	var detail map[string]string
	if ev.Source != "aws.scheduler" || ev.DetailType != "Scheduled Event" || json.Unmarshal(ev.Detail, &detail) != nil ||
		detail["job"] != "nightly" || len(ev.Resources) != 1 || ev.Time.IsZero() || ev.ID == "" {
		t.Errorf("event = %+v", ev)
	}
	if !bytes.Contains(log.Bytes(), []byte("schedule nightly")) {
		t.Errorf("log = %q", log.String())
	}
}

func TestJobsRejectsBadExpression(t *testing.T) {
	fn := manifest.Function{Name: "bad", Trigger: manifest.Trigger{Kind: manifest.Schedule, Expression: "cron(0 0 * * * *)"}}
	if _, err := Jobs([]*invoke.Function{invoke.New(fn, func(context.Context) error { return nil })}); err == nil {
		t.Error("bad expression accepted")
	}
	for _, fn := range manifest.Of(manifest.Schedule) {
		if _, err := Parse(fn.Trigger.Expression); err != nil {
			t.Errorf("manifest schedule %s: %v", fn.Name, err)
		}
	}
}

// TestRunJobWithPutsFieldsInTheDetail: a one-off run carries the operator's fields in its detail
// (reconcile's "day"), and the detail's "job" stays the function's own.
func TestRunJobWithPutsFieldsInTheDetail(t *testing.T) {
	var got events.EventBridgeEvent
	fn := manifest.Function{Name: "reconcile", Trigger: manifest.Trigger{Kind: manifest.Schedule, Expression: "rate(1 day)"}}
	f := invoke.New(fn, func(_ context.Context, ev events.EventBridgeEvent) error { got = ev; return nil })
	at := time.Date(2026, 12, 6, 2, 30, 0, 0, time.UTC)
	if _, err := RunJobWith(context.Background(), f, at, map[string]string{"day": "2026-12-05", "job": "other"}); err != nil {
		t.Fatal(err)
	}
	var detail map[string]string
	if err := json.Unmarshal(got.Detail, &detail); err != nil || detail["day"] != "2026-12-05" || detail["job"] != "reconcile" ||
		len(detail) != 2 || got.Source != "aws.scheduler" || !got.Time.Equal(at) {
		t.Fatalf("event %+v, detail %v (%v)", got, detail, err)
	}
	if _, err := RunJobWith(context.Background(), f, at, nil); err != nil {
		t.Fatal(err)
	}
	detail = nil
	if err := json.Unmarshal(got.Detail, &detail); err != nil || len(detail) != 1 || detail["job"] != "reconcile" {
		t.Fatalf("no extra fields: detail %s", got.Detail)
	}
}
