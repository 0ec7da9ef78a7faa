//go:build integration

package e2e

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/liberation/monetization/shared/manifest"
)

// flaky is a consumer that fails "fail-once" on its first delivery and "always-fail" every time,
// reporting them as batch item failures; it counts deliveries per message id.
type flaky struct {
	mu     sync.Mutex
	counts map[string]int // messageId → deliveries
	bodies map[string]string
	seen   map[string]bool // bodies that already failed once
}

func (f *flaky) handle(_ context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var resp events.SQSEventResponse
	for _, r := range ev.Records {
		f.counts[r.MessageId]++
		f.bodies[r.MessageId] = r.Body
		fail := r.Body == "always-fail" || (r.Body == "fail-once" && !f.seen[r.Body])
		f.seen[r.Body] = true
		if r.EventSource != "aws:sqs" || r.EventSourceARN == "" || r.Attributes["ApproximateReceiveCount"] == "" || r.ReceiptHandle == "" {
			fail = true // a malformed record must show up as an extra delivery
		}
		if fail {
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: r.MessageId})
		}
	}
	return resp, nil
}

func (f *flaky) byBody() map[string]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string]int{}
	for id, n := range f.counts {
		out[f.bodies[id]] += n
	}
	return out
}

func TestPollerRetriesOnlyFailedMessagesAndDeadLetters(t *testing.T) {
	q, _ := manifest.QueueByName(manifest.ReceiptsQueue)
	consumer := manifest.Function{Name: "e2e-consumer", Auth: manifest.Internal, TimeoutSeconds: 5,
		Trigger: manifest.Trigger{Kind: manifest.Queue, Queue: q.Name, BatchSize: 10}}
	f := &flaky{counts: map[string]int{}, bodies: map[string]string{}, seen: map[string]bool{}}
	// Only the test consumer: the real receipts consumer must not compete for the messages.
	h := Start(t, WithFunctions(), WithHandler(consumer, f.handle))

	ctx := context.Background()
	url := h.Env.Resources.QueueURLs[q.Name]
	ids := map[string]string{}
	for _, body := range []string{"ok-1", "fail-once", "ok-2", "always-fail"} {
		out, err := h.SQS.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String(body)})
		if err != nil {
			t.Fatal(err)
		}
		ids[body] = aws.ToString(out.MessageId)
	}

	want := map[string]int{"ok-1": 1, "fail-once": 2, "ok-2": 1, "always-fail": q.MaxReceiveCount}
	deadline := time.Now().Add(45 * time.Second)
	for !equal(f.byBody(), want) && time.Now().Before(deadline) {
		time.Sleep(200 * time.Millisecond)
	}
	// The DLQ move happens on the receive after the last delivery; give it time, then check that no
	// further deliveries happen.
	dlq := receiveAll(t, h, h.Env.Resources.DLQURLs[q.Name], 10*time.Second)
	time.Sleep(2500 * time.Millisecond)
	got := f.byBody()
	if !equal(got, want) {
		t.Errorf("deliveries by body = %v, want %v", got, want)
	}
	f.mu.Lock()
	for body, id := range ids {
		if f.counts[id] != want[body] {
			t.Errorf("message %s (%s) delivered %d times, want %d", id, body, f.counts[id], want[body])
		}
	}
	f.mu.Unlock()
	if len(dlq) != 1 || dlq[0] != "always-fail" {
		t.Errorf("DLQ holds %v, want [always-fail]", dlq)
	}
	if left := receiveAll(t, h, url, 0); len(left) != 0 {
		t.Errorf("queue still holds %v", left)
	}
}

// receiveAll reads (and deletes) what the queue holds, waiting up to wait for the first message.
func receiveAll(t *testing.T, h *Harness, url string, wait time.Duration) []string {
	t.Helper()
	var bodies []string
	deadline := time.Now().Add(wait)
	for {
		out, err := h.SQS.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{
			QueueUrl: aws.String(url), MaxNumberOfMessages: 10, WaitTimeSeconds: 1})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range out.Messages {
			bodies = append(bodies, aws.ToString(m.Body))
			_, _ = h.SQS.DeleteMessage(context.Background(), &sqs.DeleteMessageInput{QueueUrl: aws.String(url), ReceiptHandle: m.ReceiptHandle})
		}
		if len(out.Messages) == 0 && (len(bodies) > 0 || time.Now().After(deadline)) {
			return bodies
		}
	}
}

func equal(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
