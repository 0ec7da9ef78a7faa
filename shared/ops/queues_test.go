package ops

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/manifest"
)

// fakeSQS answers GetQueueAttributes from attrs by URL and records what was asked.
type fakeSQS struct {
	attrs map[string]map[string]string
	asked []*sqs.GetQueueAttributesInput
}

func (f *fakeSQS) GetQueueAttributes(_ context.Context, in *sqs.GetQueueAttributesInput, _ ...func(*sqs.Options)) (*sqs.GetQueueAttributesOutput, error) {
	f.asked = append(f.asked, in)
	a, ok := f.attrs[aws.ToString(in.QueueUrl)]
	if !ok {
		return nil, errors.New("AWS.SimpleQueueService.NonExistentQueue")
	}
	return &sqs.GetQueueAttributesOutput{Attributes: a}, nil
}

func counts(visible, inFlight string) map[string]string {
	return map[string]string{"ApproximateNumberOfMessages": visible, "ApproximateNumberOfMessagesNotVisible": inFlight}
}

// The repository asks for exactly the two counts and parses them; a missing or malformed count is
// an error, never a zero (a zero would call a DLQ SQS did not describe empty).
func TestSQSDepths(t *testing.T) {
	f := &fakeSQS{attrs: map[string]map[string]string{
		"q": counts("7", "3"), "partial": {"ApproximateNumberOfMessages": "1"}, "junk": counts("x", "0"), "neg": counts("-1", "0"),
	}}
	d := SQSDepths{Client: f}
	got, err := d.Depth(context.Background(), "q")
	if err != nil || got != (Depth{Visible: 7, InFlight: 3}) {
		t.Fatalf("Depth(q) = %+v, %v; want 7 visible, 3 in flight", got, err)
	}
	names := f.asked[0].AttributeNames
	if len(names) != 2 || names[0] != "ApproximateNumberOfMessages" || names[1] != "ApproximateNumberOfMessagesNotVisible" {
		t.Errorf("asked for %v", names)
	}
	for _, u := range []string{"partial", "junk", "neg", "missing"} {
		if _, err := d.Depth(context.Background(), u); err == nil {
			t.Errorf("Depth(%s): no error", u)
		}
	}
}

// Health reports every queue in order with its DLQ's visible count, and is unhealthy exactly when a
// DLQ holds a message; the main queue's backlog alone is not unhealthy.
func TestHealth(t *testing.T) {
	f := &fakeSQS{attrs: map[string]map[string]string{
		"a": counts("120", "4"), "a-dlq": counts("0", "0"),
		"b": counts("0", "0"), "b-dlq": counts("2", "0"),
	}}
	qs := []QueueURLs{{Name: "a", URL: "a", DLQURL: "a-dlq"}, {Name: "b", URL: "b", DLQURL: "b-dlq"}}
	rep, err := Health(context.Background(), SQSDepths{Client: f}, qs)
	if err != nil {
		t.Fatal(err)
	}
	want := Report{Healthy: false, Queues: []QueueHealth{
		{Name: "a", Visible: 120, InFlight: 4, DeadLetters: 0, Healthy: true},
		{Name: "b", Visible: 0, InFlight: 0, DeadLetters: 2, Healthy: false},
	}}
	if g, w := mustJSON(t, rep), mustJSON(t, want); g != w {
		t.Errorf("Health = %s, want %s", g, w)
	}
	rep, err = Health(context.Background(), SQSDepths{Client: f}, qs[:1])
	if err != nil || !rep.Healthy {
		t.Errorf("only a: healthy=%v err=%v, want healthy", rep.Healthy, err)
	}
}

// A queue without a configured URL is a 500, not a queue silently left out of the report.
func TestHealthWithoutURLs(t *testing.T) {
	_, err := Health(context.Background(), SQSDepths{Client: &fakeSQS{}}, []QueueURLs{{Name: "a", URL: "a"}})
	if apperr.CodeOf(err) != apperr.Internal || !strings.Contains(err.Error(), `"a"`) {
		t.Errorf("err = %v, want internal naming the queue", err)
	}
}

// URLsFromEnv covers every manifest queue, with the variables the CDK stack, template.yaml and the
// local stack set for a function with InspectQueues; a function without it inspects nothing.
func TestURLsFromEnv(t *testing.T) {
	fn := manifest.MustByName("list-queues")
	got := URLsFromEnv(fn, func(k string) string { return "url:" + k })
	if len(got) != len(manifest.Queues) {
		t.Fatalf("%d queues, want %d", len(got), len(manifest.Queues))
	}
	for i, q := range manifest.Queues {
		if got[i] != (QueueURLs{Name: q.Name, URL: "url:" + q.EnvVar(), DLQURL: "url:" + q.DLQEnvVar()}) {
			t.Errorf("queue %d = %+v", i, got[i])
		}
	}
	if n := len(URLsFromEnv(manifest.Function{Name: "x"}, func(string) string { return "u" })); n != 0 {
		t.Errorf("without InspectQueues: %d queues", n)
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
