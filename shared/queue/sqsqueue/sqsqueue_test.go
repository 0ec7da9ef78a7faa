package sqsqueue

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/liberation/monetization/shared/queue"
)

type fakeSQS struct{ in []*sqs.SendMessageInput }

func (f *fakeSQS) SendMessage(ctx context.Context, in *sqs.SendMessageInput, _ ...func(*sqs.Options)) (*sqs.SendMessageOutput, error) {
	f.in = append(f.in, in)
	return &sqs.SendMessageOutput{}, nil
}

func TestSenderEnvelopeAndUnknownQueue(t *testing.T) {
	f := &fakeSQS{}
	s := New(f, func(k string) string {
		if k == "QUEUE_URL_RECEIPTS" {
			return "http://q/receipts"
		}
		return ""
	})
	if err := s.Send(context.Background(), "receipts", "receipt", "receipt#p1", map[string]string{"paymentId": "p1"}); err != nil {
		t.Fatal(err)
	}
	if len(f.in) != 1 || *f.in[0].QueueUrl != "http://q/receipts" || *f.in[0].MessageAttributes["type"].StringValue != "receipt" {
		t.Fatalf("sent %+v", f.in)
	}
	var m queue.Message
	if err := json.Unmarshal([]byte(*f.in[0].MessageBody), &m); err != nil || m.Type != "receipt" || m.DedupeID != "receipt#p1" || string(m.Payload) != `{"paymentId":"p1"}` {
		t.Fatalf("envelope %+v %v", m, err)
	}
	if err := s.Send(context.Background(), "nope", "x", "y", nil); err == nil {
		t.Fatal("unknown queue must fail")
	}
}
