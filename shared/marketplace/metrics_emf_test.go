package marketplace

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/liberation/monetization/shared/metric"
	"github.com/liberation/monetization/shared/queue"
)

// The dashboard's payout panels read PayoutsPaid / PayoutsPaidCents / PayoutsFailed from the
// payouts consumer's log lines: one point per payout this call moved to paid or failed, none for a
// redelivered message that finds the payout already settled.
func TestPayoutOutcomesEmitTheirMetrics(t *testing.T) {
	for _, refuse := range []bool{false, true} {
		w := newWorld(t)
		ctx := context.Background()
		w.course("crs_1", "ins", 10000)
		w.connect("ins", true)
		w.mustBook(w.paid("cs_a", "ana", "crs_1", 10000))
		w.clk.Advance(32 * 24 * time.Hour)
		if _, err := RunRelease(ctx, w.d); err != nil {
			t.Fatal(err)
		}
		if rep, err := RunMonthlyPayouts(ctx, w.d); err != nil || rep.Queued != 1 {
			t.Fatalf("monthly: %+v %v", rep, err)
		}
		w.stripe.refuseTransfer = refuse
		var logs bytes.Buffer
		var r queue.Router
		PayoutsHooks(w.d, &r)
		consume := r.Consumer(slog.New(slog.NewJSONHandler(&logs, nil)))
		var ev events.SQSEvent
		for i, m := range w.sent.take(MsgPayout) {
			payload, _ := json.Marshal(m.Payload)
			body, _ := json.Marshal(queue.Message{Type: m.Type, DedupeID: m.Dedupe, Payload: payload})
			ev.Records = append(ev.Records, events.SQSMessage{MessageId: "m" + itoa(int64(i)), Body: string(body)})
		}
		for i := 0; i < 2; i++ { // SQS redelivers
			if res, err := consume(ctx, ev); err != nil || len(res.BatchItemFailures) != 0 {
				t.Fatalf("consumer: %+v %v", res, err)
			}
		}
		obs, err := metric.Parse(logs.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		paid, cents, failed := metric.Sum(obs, metric.PayoutsPaid), metric.Sum(obs, metric.PayoutsPaidCents), metric.Sum(obs, metric.PayoutsFailed)
		if refuse && (paid != 0 || cents != 0 || failed != 1) {
			t.Errorf("refused transfer: paid %v (%v cents), failed %v; want 0, 0, 1", paid, cents, failed)
		}
		if !refuse && (paid != 1 || cents != 7000 || failed != 0) {
			t.Errorf("transfer made: paid %v (%v cents), failed %v; want 1, 7000, 0", paid, cents, failed)
		}
	}
}
