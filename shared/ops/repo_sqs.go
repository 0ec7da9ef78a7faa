package ops

import (
	"context"
	"fmt"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// SQSAPI is the one SQS call the ops routes make.
type SQSAPI interface {
	GetQueueAttributes(context.Context, *sqs.GetQueueAttributesInput, ...func(*sqs.Options)) (*sqs.GetQueueAttributesOutput, error)
}

// SQSDepths reads queue depths with GetQueueAttributes (sqs:GetQueueAttributes on the queue).
type SQSDepths struct{ Client SQSAPI }

// Depth is a queue's approximate counts: messages visible (waiting) and in flight (received, not
// yet deleted). SQS's counts are approximate and lag by up to a minute.
type Depth struct {
	Visible  int64
	InFlight int64
}

// Depth asks SQS for the queue's ApproximateNumberOfMessages and ...NotVisible.
func (d SQSDepths) Depth(ctx context.Context, url string) (Depth, error) {
	out, err := d.Client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(url),
		AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameApproximateNumberOfMessages,
			types.QueueAttributeNameApproximateNumberOfMessagesNotVisible}})
	if err != nil {
		return Depth{}, fmt.Errorf("get attributes of %s: %w", url, err)
	}
	visible, err := count(out.Attributes, types.QueueAttributeNameApproximateNumberOfMessages)
	if err != nil {
		return Depth{}, err
	}
	inFlight, err := count(out.Attributes, types.QueueAttributeNameApproximateNumberOfMessagesNotVisible)
	if err != nil {
		return Depth{}, err
	}
	return Depth{Visible: visible, InFlight: inFlight}, nil
}

// count parses one attribute; a missing or malformed one is an error, not a zero (a zero would
// report a DLQ healthy that SQS did not describe).
func count(attrs map[string]string, name types.QueueAttributeName) (int64, error) {
	v, ok := attrs[string(name)]
	if !ok {
		return 0, fmt.Errorf("SQS answered no %s", name)
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("SQS answered %s=%q", name, v)
	}
	return n, nil
}
