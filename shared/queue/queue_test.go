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
)

func rec(id, body string) events.SQSMessage { return events.SQSMessage{MessageId: id, Body: body} }

func env(typ, dedupe string) string {
	b, err := Envelope(typ, dedupe, map[string]string{})
	if err != nil {
		panic(err)
	}
	return b
}

func TestConsumerReportsOnlyFailedMessages(t *testing.T) {
	var seen []string
	var r Router
	r.On("receipt", func(ctx context.Context, m Message) error {
		seen = append(seen, m.DedupeID)
		switch m.DedupeID {
		case "bad":
			return errors.New("boom")
		case "panic":
			panic("boom")
		}
		return nil
	})
	c := r.Consumer(slog.New(slog.NewJSONHandler(&bytes.Buffer{}, nil)))
	resp, err := c(context.Background(), events.SQSEvent{Records: []events.SQSMessage{
		rec("m1", env("receipt", "ok")),
		rec("m2", env("receipt", "bad")),
		rec("m3", "not json"), // dropped: retrying cannot fix it
		rec("m4", env("receipt", "panic")),
		rec("m5", env("unknown", "x")), // dropped: nobody handles the type
		rec("m6", env("receipt", "ok2")),
		rec("", env("receipt", "bad")), // failed, but an empty id is never reported
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
	if !slices.Equal(seen, []string{"ok", "bad", "panic", "ok2", "bad"}) {
		t.Fatalf("handled %v", seen)
	}
}

func TestRouterRefusesTwoHandlersForOneType(t *testing.T) {
	var r Router
	r.On("a", func(context.Context, Message) error { return nil })
	defer func() {
		if recover() == nil {
			t.Fatal("a second handler for type a must panic at wiring time")
		}
	}()
	r.On("a", func(context.Context, Message) error { return nil })
}

func TestEnvelope(t *testing.T) {
	body, err := Envelope("receipt", "receipt#p1", map[string]string{"paymentId": "p1"})
	if err != nil {
		t.Fatal(err)
	}
	var m Message
	if err := json.Unmarshal([]byte(body), &m); err != nil || m.Type != "receipt" || m.DedupeID != "receipt#p1" || string(m.Payload) != `{"paymentId":"p1"}` {
		t.Fatalf("envelope %+v %v", m, err)
	}
}
