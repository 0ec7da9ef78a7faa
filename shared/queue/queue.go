// Package queue is the SQS frame: the message envelope every queue carries, the Sender interface
// producers use, and the consumer host that dispatches each message to the area that registered
// its type, reporting partial batch failures so only the failed messages are retried.
//
// It links no AWS package: the SQS implementation is queue/sqsqueue, linked only by functions whose
// manifest entry sends to a queue.
package queue

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sort"

	"github.com/aws/aws-lambda-go/events"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/logging"
	"github.com/liberation/monetization/shared/platform"
)

// Message is the envelope on every queue: a type, a dedupe id and the payload.
type Message struct {
	Type     string          `json:"type"`
	DedupeID string          `json:"dedupeId"` // consumers use it to act once per logical message
	Payload  json.RawMessage `json:"payload"`
}

// Sender sends a typed payload to a manifest queue.
type Sender interface {
	Send(ctx context.Context, queue, typ, dedupeID string, payload any) error
}

// From returns the function's queue sender (its manifest entry must declare Sends).
func From(rt *platform.Runtime) (Sender, error) {
	return platform.Capability[Sender](rt, platform.CapQueue)
}

// Envelope marshals payload into the body of a Message.
func Envelope(typ, dedupeID string, payload any) (string, error) {
	p, err := json.Marshal(payload)
	if err != nil {
		return "", apperr.Wrap(err, apperr.Internal, "encode message")
	}
	body, err := json.Marshal(Message{Type: typ, DedupeID: dedupeID, Payload: p})
	if err != nil {
		return "", apperr.Wrap(err, apperr.Internal, "encode message")
	}
	return string(body), nil
}

// Handler processes one message; an error marks just that message as failed (SQS retries it).
type Handler func(ctx context.Context, msg Message) error

// Router maps message types to the handlers areas registered.
type Router struct{ handlers map[string]Handler }

// On registers h for messages of type typ. A type has exactly one handler: two areas registering
// the same type is a wiring error reported when the host is built.
func (r *Router) On(typ string, h Handler) {
	if r.handlers == nil {
		r.handlers = map[string]Handler{}
	}
	if _, dup := r.handlers[typ]; dup {
		panic(fmt.Sprintf("queue: two handlers for message type %q", typ))
	}
	r.handlers[typ] = h
}

// Types lists the registered message types, sorted.
func (r *Router) Types() []string {
	out := make([]string, 0, len(r.handlers))
	for t := range r.handlers {
		out = append(out, t)
	}
	sort.Strings(out)
	return out
}

// Hooks is what an area contributes to a consumer host: it registers its message types.
type Hooks func(rt *platform.Runtime, r *Router) error

// Consumer is the signature lambda.Start receives for an SQS function.
type Consumer func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error)

// NewHost builds a queue consumer from the hooks of the areas that handle its messages.
func NewHost(hooks ...Hooks) func(*platform.Runtime) (Consumer, error) {
	return func(rt *platform.Runtime) (Consumer, error) {
		var r Router
		for _, h := range hooks {
			if err := h(rt, &r); err != nil {
				return nil, err
			}
		}
		return r.Consumer(rt.Log), nil
	}
}

// Consumer turns the router into an SQS consumer with ReportBatchItemFailures semantics. A body that
// is not a valid envelope, or a type nobody handles, is logged and dropped: retrying cannot fix it,
// it would only reach the DLQ.
func (r *Router) Consumer(log *slog.Logger) Consumer {
	return func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
		var resp events.SQSEventResponse
		for _, rec := range ev.Records {
			l := log.With("messageId", rec.MessageId, "receiveCount", rec.Attributes["ApproximateReceiveCount"])
			var msg Message
			if err := json.Unmarshal([]byte(rec.Body), &msg); err != nil || msg.Type == "" {
				l.Error("dropping malformed message")
				continue
			}
			l = l.With("type", msg.Type, "dedupeId", msg.DedupeID)
			h, ok := r.handlers[msg.Type]
			if !ok {
				l.Warn("dropping message of a type nobody handles")
				continue
			}
			if err := safe(logging.With(ctx, l), h, msg); err != nil {
				l.Error("message failed; will retry", "code", apperr.CodeOf(err), "err", err.Error())
				// An empty identifier would fail the whole batch, so never report one.
				if rec.MessageId != "" {
					resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: rec.MessageId})
				}
				continue
			}
			l.Info("message processed")
		}
		return resp, nil
	}
}

func safe(ctx context.Context, h Handler, msg Message) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v", p)
		}
	}()
	return h(ctx, msg)
}
