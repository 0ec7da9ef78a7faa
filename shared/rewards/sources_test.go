package rewards

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/liberation/monetization/shared/clock"
	"github.com/liberation/monetization/shared/facts"
	"github.com/liberation/monetization/shared/logging"
	"github.com/liberation/monetization/shared/queue"
	"github.com/liberation/monetization/shared/rewards/tokenmetrics"
)

// Messages that cannot be understood are dropped (nil: not retried) before any storage is touched
// (the Deps here has no store: touching it would panic), and counted.
func TestMalformedMessagesAreDroppedAndCounted(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, nil))
	d := &Deps{Clock: clock.NewFake(time.Date(2026, 3, 3, 9, 0, 0, 0, time.UTC)), Log: log, Fn: "apply-learning-events"}
	ctx := logging.With(context.Background(), log)
	learning := func(typ string, ev any) queue.Message {
		p, _ := json.Marshal(ev)
		return queue.Message{Type: typ, DedupeID: "d", Payload: p}
	}
	ok := LearningDetail{UserID: "u", CourseID: "c", LessonID: "l"}
	for name, msg := range map[string]queue.Message{
		"not JSON":         {Type: EventLessonCompleted, Payload: json.RawMessage(`[`)},
		"no lesson":        learning(EventLessonCompleted, LearningEvent{Source: LearningSource, Detail: LearningDetail{UserID: "u", CourseID: "c"}}),
		"no user":          learning(EventCourseCompleted, LearningEvent{Source: LearningSource, Detail: LearningDetail{CourseID: "c"}}),
		"'#' in an id":     learning(EventCourseCompleted, LearningEvent{Source: LearningSource, Detail: LearningDetail{UserID: "u#x", CourseID: "c"}}),
		"other source":     learning(EventLessonCompleted, LearningEvent{Source: "someone.else", Detail: ok}),
		"id too long":      learning(EventCourseCompleted, LearningEvent{Source: LearningSource, Detail: LearningDetail{UserID: strings.Repeat("u", 129), CourseID: "c"}}),
		"fact without ids": {Type: facts.CoursePurchased, Payload: json.RawMessage(`{"userId":"u"}`)},
		"fact not JSON":    {Type: facts.SubscriptionRenewed, Payload: json.RawMessage(`"x"`)},
	} {
		var err error
		if msg.Type == facts.CoursePurchased || msg.Type == facts.SubscriptionRenewed {
			err = d.earner().ApplyFact(ctx, msg)
		} else {
			err = d.earner().ApplyLearningEvent(ctx, msg)
		}
		if err != nil {
			t.Errorf("%s: %v (must be dropped, not retried)", name, err)
		}
	}
	if n := strings.Count(logs.String(), `"RewardsRejectedMessages":1`); n != 8 {
		t.Errorf("%d rejections counted, want 8:\n%s", n, logs.String())
	}
}

// The counter names written by the ledger are the attributes the metrics read back.
func TestMetricCounterNamesMatchTheReadModel(t *testing.T) {
	tags := map[string]bool{}
	typ := reflect.TypeOf(tokenmetrics.Counters{})
	for i := 0; i < typ.NumField(); i++ {
		tags[typ.Field(i).Tag.Get("dynamodbav")] = true
	}
	for _, n := range []string{CtrIssued, CtrPendingEarned, CtrPendingCancelled, CtrDeducted, CtrRedeemed, CtrHeldNew,
		GaugeOutstanding, GaugeHeld, GaugePending} {
		if !tags[n] {
			t.Errorf("counter %q is never read", n)
		}
	}
	if len(tags) != 9 {
		t.Errorf("read model has %d counters", len(tags))
	}
}

// Each entry kind lands in the right counters.
func TestMetricItemsPerEntry(t *testing.T) {
	at := time.Date(2026, 3, 3, 9, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		e    Entry
		want string
	}{
		{Entry{Seq: 1, Kind: KindEarn, Delta: 5, At: at}, "issued=5 | outstanding=5"},
		{Entry{Seq: 1, Kind: KindPending, PendingDelta: 50, At: at}, "pendingEarned=50 | pending=50"},
		{Entry{Seq: 1, Kind: KindCancel, PendingDelta: -50, At: at}, "pendingCancelled=50 | pending=-50"},
		{Entry{Seq: 1, Kind: KindRelease, Delta: 50, PendingDelta: -50, At: at}, "issued=50 | outstanding=50 pending=-50"},
		{Entry{Seq: 1, Kind: KindHold, HeldDelta: 500, At: at}, "heldNew=500 | held=500"},
		{Entry{Seq: 1, Kind: KindRedeem, Delta: -500, HeldDelta: -500, At: at}, "redeemed=500 | held=-500 outstanding=-500"},
		{Entry{Seq: 1, Kind: KindAdjust, Delta: -20, At: at}, "deducted=20 | outstanding=-20"},
	} {
		items := metricItems(tc.e, 3)
		var parts []string
		for _, it := range items {
			var kv []string
			for ph, name := range it.Update.ExpressionAttributeNames {
				v := it.Update.ExpressionAttributeValues[":d"+ph[2:]]
				b, _ := json.Marshal(v)
				kv = append(kv, name+"="+strings.Trim(strings.TrimPrefix(string(b), `{"Value":`), `"}`))
			}
			slices.Sort(kv)
			parts = append(parts, strings.Join(kv, " "))
		}
		if got := strings.Join(parts, " | "); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.e.Kind, got, tc.want)
		}
		if k := items[0].Update.Key["SK"]; !strings.Contains(mustJSON(k), "2026-03-03#03") {
			t.Errorf("day counter key %s", mustJSON(k))
		}
	}
}

func mustJSON(v any) string { b, _ := json.Marshal(v); return string(b) }
