//go:build integration

package ops

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/liberation/monetization/infra/local/localtest"
	"github.com/liberation/monetization/shared/manifest"
)

func TestMain(m *testing.M) { localtest.Main(m) }

// On moto: the counts SQS reports for a queue with messages waiting and in flight, and the report
// over every queue of a fresh local stack, found through the variables the local stack sets
// (QUEUE_URL_<NAME>, DLQ_URL_<NAME>), unhealthy exactly where a DLQ holds a message.
func TestSQSDepthsOnMoto(t *testing.T) {
	env := localtest.New(t)
	ctx := context.Background()
	c := sqs.NewFromConfig(env.Runtime.AWS, func(o *sqs.Options) { o.BaseEndpoint = env.Runtime.Endpoint("SQS") })
	d := SQSDepths{Client: c}
	q := manifest.Queues[0]
	url := env.Resources.QueueURLs[q.Name]
	for range 3 {
		if _, err := c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String("{}")}); err != nil {
			t.Fatal(err)
		}
	}
	got, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), MaxNumberOfMessages: 1, VisibilityTimeout: 60})
	if err != nil || len(got.Messages) != 1 {
		t.Fatalf("receive: %v %v", got, err)
	}
	if depth, err := d.Depth(ctx, url); err != nil || depth != (Depth{Visible: 2, InFlight: 1}) {
		t.Fatalf("Depth(%s) = %+v, %v; want 2 visible, 1 in flight", q.Name, depth, err)
	}

	queues := URLsFromEnv(manifest.MustByName("list-queues"), env.Getenv)
	rep, err := Health(ctx, d, queues)
	if err != nil || !rep.Healthy || len(rep.Queues) != len(manifest.Queues) || rep.Queues[0].Visible != 2 {
		t.Fatalf("fresh stack: %+v, %v", rep, err)
	}
	dead := manifest.Queues[1]
	if _, err := c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(env.Resources.DLQURLs[dead.Name]),
		MessageBody: aws.String("{}")}); err != nil {
		t.Fatal(err)
	}
	rep, err = Health(ctx, d, queues)
	if err != nil || rep.Healthy || rep.Queues[1].DeadLetters != 1 || rep.Queues[1].Healthy || !rep.Queues[0].Healthy {
		t.Fatalf("one dead letter in %s: %+v, %v", dead.DLQName(), rep, err)
	}
}
