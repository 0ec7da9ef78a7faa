// Package queue sends JSON messages to SQS and turns a per-message function into an SQS consumer
// that reports partial batch failures, so only the failed messages are retried.
package queue

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/logging"
	"github.com/liberation/monetization/shared/manifest"
)

// SQSAPI is the subset of the SQS client used to send.
type SQSAPI interface {
	SendMessage(context.Context, *sqs.SendMessageInput, ...func(*sqs.Options)) (*sqs.SendMessageOutput, error)
}

// Sender sends to the queues named in the manifest, resolving their URLs from the environment.
type Sender struct {
	Client SQSAPI
	URLs   map[string]string // queue name → URL
}

// NewSender reads QUEUE_URL_<NAME> for every manifest queue from getenv.
func NewSender(c SQSAPI, getenv func(string) string) *Sender {
	urls := map[string]string{}
	for _, q := range manifest.Queues {
		if u := getenv(q.EnvVar()); u != "" {
			urls[q.Name] = u
		}
	}
	return &Sender{Client: c, URLs: urls}
}

// Message is the envelope on every queue: a type, a dedupe id and the payload.
type Message struct {
	Type     string          `json:"type"`
	DedupeID string          `json:"dedupeId"` // consumers use it to act once per logical message
	Payload  json.RawMessage `json:"payload"`
}

// Send marshals payload into a Message and sends it.
func (s *Sender) Send(ctx context.Context, queue, typ, dedupeID string, payload any) error {
	url, ok := s.URLs[queue]
	if !ok {
		return apperr.New(apperr.Internal, "queue %q has no URL configured", queue)
	}
	p, err := json.Marshal(payload)
	if err != nil {
		return apperr.Wrap(err, apperr.Internal, "encode message")
	}
	body, _ := json.Marshal(Message{Type: typ, DedupeID: dedupeID, Payload: p})
	_, err = s.Client.SendMessage(ctx, &sqs.SendMessageInput{
		QueueUrl:    aws.String(url),
		MessageBody: aws.String(string(body)),
		MessageAttributes: map[string]types.MessageAttributeValue{
			"type": {DataType: aws.String("String"), StringValue: aws.String(typ)},
		},
	})
	if err != nil {
		return apperr.Wrap(err, apperr.Unavailable, "send to %s", queue)
	}
	return nil
}

// Handler processes one message; an error marks just that message as failed.
type Handler func(ctx context.Context, msg Message, raw events.SQSMessage) error

// Consumer is the signature lambda.Start receives for an SQS function.
type Consumer func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error)

// Consume turns h into a consumer with ReportBatchItemFailures semantics. A message whose body is
// not a valid envelope is logged and dropped (retrying cannot fix it; it would only reach the DLQ).
func Consume(function string, h Handler) Consumer {
	return ConsumeWithLogger(logging.New(os.Stdout, function), h)
}

// ConsumeWithLogger is Consume with an explicit logger.
func ConsumeWithLogger(log *slog.Logger, h Handler) Consumer {
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
			if err := safe(logging.With(ctx, l), h, msg, rec); err != nil {
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

func safe(ctx context.Context, h Handler, msg Message, rec events.SQSMessage) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v", p)
		}
	}()
	return h(ctx, msg, rec)
}
