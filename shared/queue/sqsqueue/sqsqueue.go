// Package sqsqueue sends queue.Messages to SQS. Functions whose manifest entry declares Sends link
// it (their generated main passes Provide); nothing else pays for the SQS client's initialisation.
package sqsqueue

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/manifest"
	"github.com/liberation/monetization/shared/platform"
	"github.com/liberation/monetization/shared/queue"
)

// API is the subset of the SQS client used to send.
type API interface {
	SendMessage(context.Context, *sqs.SendMessageInput, ...func(*sqs.Options)) (*sqs.SendMessageOutput, error)
}

// Sender sends to the queues named in the manifest, resolving their URLs from the environment.
type Sender struct {
	Client API
	URLs   map[string]string // queue name → URL
}

var _ queue.Sender = (*Sender)(nil)

// New reads QUEUE_URL_<NAME> for every manifest queue from getenv.
func New(c API, getenv func(string) string) *Sender {
	urls := map[string]string{}
	for _, q := range manifest.Queues {
		if u := getenv(q.EnvVar()); u != "" {
			urls[q.Name] = u
		}
	}
	return &Sender{Client: c, URLs: urls}
}

// Provide gives the function a queue sender (one SQS client per process).
func Provide(rt *platform.Runtime) error {
	rt.Provide(platform.CapQueue, platform.Shared(rt, "sqs-sender", func() queue.Sender {
		return New(sqs.NewFromConfig(rt.AWS, func(o *sqs.Options) { o.BaseEndpoint = rt.Endpoint("SQS") }), rt.Getenv)
	}))
	return nil
}

// Send marshals payload into a queue.Message and sends it.
func (s *Sender) Send(ctx context.Context, q, typ, dedupeID string, payload any) error {
	url, ok := s.URLs[q]
	if !ok {
		return apperr.New(apperr.Internal, "queue %q has no URL configured", q)
	}
	body, err := queue.Envelope(typ, dedupeID, payload)
	if err != nil {
		return err
	}
	_, err = s.Client.SendMessage(ctx, &sqs.SendMessageInput{
		QueueUrl:    aws.String(url),
		MessageBody: aws.String(body),
		MessageAttributes: map[string]types.MessageAttributeValue{
			"type": {DataType: aws.String("String"), StringValue: aws.String(typ)},
		},
	})
	if err != nil {
		return apperr.Wrap(err, apperr.Unavailable, "send to %s", q)
	}
	return nil
}
