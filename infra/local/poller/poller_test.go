package poller

import (
	"context"
	"errors"
	"io"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/liberation/monetization/infra/local/invoke"
	"github.com/liberation/monetization/shared/manifest"
)

// fakeSQS records which receipt handles were deleted or returned for retry.
type fakeSQS struct {
	SQSAPI
	deleted, retried []string
}

func (f *fakeSQS) DeleteMessageBatch(_ context.Context, in *sqs.DeleteMessageBatchInput, _ ...func(*sqs.Options)) (*sqs.DeleteMessageBatchOutput, error) {
	for _, e := range in.Entries {
		f.deleted = append(f.deleted, aws.ToString(e.ReceiptHandle))
	}
	return &sqs.DeleteMessageBatchOutput{}, nil
}

func (f *fakeSQS) ChangeMessageVisibilityBatch(_ context.Context, in *sqs.ChangeMessageVisibilityBatchInput, _ ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityBatchOutput, error) {
	for _, e := range in.Entries {
		if e.VisibilityTimeout != 1 {
			return nil, errors.New("retry visibility is not 1 s")
		}
		f.retried = append(f.retried, aws.ToString(e.ReceiptHandle))
	}
	return &sqs.ChangeMessageVisibilityBatchOutput{}, nil
}

func msgs(ids ...string) []types.Message {
	var out []types.Message
	for _, id := range ids {
		out = append(out, types.Message{MessageId: aws.String(id), ReceiptHandle: aws.String("rh-" + id), Body: aws.String("b"),
			Attributes:        map[string]string{"ApproximateReceiveCount": "1"},
			MessageAttributes: map[string]types.MessageAttributeValue{"type": {DataType: aws.String("String"), StringValue: aws.String("t")}}})
	}
	return out
}

func TestSettle(t *testing.T) {
	fn := manifest.Function{Name: "c", Trigger: manifest.Trigger{Kind: manifest.Queue, BatchSize: 10}}
	respond := func(resp events.SQSEventResponse, err error) any {
		return func(context.Context, events.SQSEvent) (events.SQSEventResponse, error) { return resp, err }
	}
	fail := func(ids ...string) events.SQSEventResponse {
		var r events.SQSEventResponse
		for _, id := range ids {
			r.BatchItemFailures = append(r.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: id})
		}
		return r
	}
	tests := []struct {
		name             string
		handler          any
		deleted, retried int
	}{
		{"all ok", respond(events.SQSEventResponse{}, nil), 3, 0},
		{"one failure", respond(fail("m2"), nil), 2, 1},
		{"function error fails the batch", respond(events.SQSEventResponse{}, errors.New("boom")), 0, 3},
		{"empty itemIdentifier fails the batch", respond(fail(""), nil), 0, 3},
		{"unknown itemIdentifier fails the batch", respond(fail("nope"), nil), 0, 3},
		{"handler with no response", func(context.Context, events.SQSEvent) error { return nil }, 3, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeSQS{}
			p := &Poller{SQS: f, Log: io.Discard}
			p.handle(context.Background(), Source{Fn: invoke.New(fn, tc.handler), QueueURL: "q"}, "arn:q", msgs("m1", "m2", "m3"))
			if len(f.deleted) != tc.deleted || len(f.retried) != tc.retried {
				t.Errorf("deleted %v, retried %v; want %d and %d", f.deleted, f.retried, tc.deleted, tc.retried)
			}
			if tc.name == "one failure" && (len(f.retried) != 1 || f.retried[0] != "rh-m2") {
				t.Errorf("retried %v, want [rh-m2]", f.retried)
			}
		})
	}
}

func TestEventShape(t *testing.T) {
	ev := Event(msgs("m1"), "arn:aws:sqs:us-east-1:123456789012:q")
	r := ev.Records[0]
	if r.MessageId != "m1" || r.ReceiptHandle != "rh-m1" || r.EventSource != "aws:sqs" || r.AWSRegion != "us-east-1" ||
		r.EventSourceARN != "arn:aws:sqs:us-east-1:123456789012:q" || r.Attributes["ApproximateReceiveCount"] != "1" ||
		aws.ToString(r.MessageAttributes["type"].StringValue) != "t" || r.MessageAttributes["type"].StringListValues == nil {
		t.Errorf("record = %+v", r)
	}
}
