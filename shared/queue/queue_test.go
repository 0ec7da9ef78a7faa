package queue

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"slices"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

func rec(id, body string) events.SQSMessage { return events.SQSMessage{MessageId: id, Body: body} }

func env(typ, dedupe string) string {
	b, _ := json.Marshal(Message{Type: typ, DedupeID: dedupe, Payload: json.RawMessage(`{}`)})
	return string(b)
}

func TestConsumeReportsOnlyFailedMessages(t *testing.T) {
	var seen []string
	c := ConsumeWithLogger(slog.New(slog.NewJSONHandler(&bytes.Buffer{}, nil)), func(ctx context.Context, m Message, raw events.SQSMessage) error {
		seen = append(seen, raw.MessageId)
		switch m.DedupeID {
		case "bad":
			return errors.New("boom")
		case "panic":
			panic("boom")
		}
		return nil
	})
	resp, err := c(context.Background(), events.SQSEvent{Records: []events.SQSMessage{
		rec("m1", env("receipt", "ok")),
		rec("m2", env("receipt", "bad")),
		rec("m3", "not json"), // dropped: retrying cannot fix it
		rec("m4", env("receipt", "panic")),
		rec("m5", env("receipt", "ok2")),
	}})
	if err != nil {
		t.Fatal(err)
	}
	var failed []string
	for _, f := range resp.BatchItemFailures {
		failed = append(failed, f.ItemIdentifier)
	}
	if !slices.Equal(failed, []string{"m2", "m4"}) {
		t.Fatalf("failures %v, want [m2 m4]", failed)
	}
	if !slices.Equal(seen, []string{"m1", "m2", "m4", "m5"}) {
		t.Fatalf("handled %v", seen)
	}
}

type fakeSQS struct{ in []*sqs.SendMessageInput }

func (f *fakeSQS) SendMessage(ctx context.Context, in *sqs.SendMessageInput, _ ...func(*sqs.Options)) (*sqs.SendMessageOutput, error) {
	f.in = append(f.in, in)
	return &sqs.SendMessageOutput{}, nil
}

func TestSenderEnvelopeAndUnknownQueue(t *testing.T) {
	f := &fakeSQS{}
	s := NewSender(f, func(k string) string {
		if k == "QUEUE_URL_RECEIPTS" {
			return "http://q/receipts"
		}
		return ""
	})
	if err := s.Send(context.Background(), "receipts", "receipt", "receipt#p1", map[string]string{"paymentId": "p1"}); err != nil {
		t.Fatal(err)
	}
	var m Message
	if err := json.Unmarshal([]byte(*f.in[0].MessageBody), &m); err != nil || m.Type != "receipt" || m.DedupeID != "receipt#p1" || string(m.Payload) != `{"paymentId":"p1"}` {
		t.Fatalf("envelope %+v %v", m, err)
	}
	if err := s.Send(context.Background(), "nope", "x", "y", nil); err == nil {
		t.Fatal("unknown queue must fail")
	}
}
