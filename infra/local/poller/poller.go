// Package poller emulates Lambda's SQS event source mapping locally: it long-polls each queue,
// hands batches to the consumer as events.SQSEvent, deletes what succeeded and lets the rest
// return for another try (ReportBatchItemFailures). Redrive to the DLQ after maxReceiveCount is
// done by the queue itself (moto implements RedrivePolicy on receive, as SQS does).
//
// Local differences from AWS, on purpose:
//   - a failed message is made visible again after RetryVisibility (1 s) instead of the queue's
//     visibility timeout (180 s), so retries and DLQ moves can be watched in seconds;
//   - one poller per queue and one batch at a time (Lambda scales pollers and concurrent batches);
//   - at most 10 messages per batch (one ReceiveMessage); no batching window.
package poller

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/liberation/monetization/infra/local/invoke"
)

// SQSAPI is the part of the SQS client the poller uses.
type SQSAPI interface {
	ReceiveMessage(context.Context, *sqs.ReceiveMessageInput, ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error)
	DeleteMessageBatch(context.Context, *sqs.DeleteMessageBatchInput, ...func(*sqs.Options)) (*sqs.DeleteMessageBatchOutput, error)
	ChangeMessageVisibilityBatch(context.Context, *sqs.ChangeMessageVisibilityBatchInput, ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityBatchOutput, error)
	GetQueueAttributes(context.Context, *sqs.GetQueueAttributesInput, ...func(*sqs.Options)) (*sqs.GetQueueAttributesOutput, error)
}

// Source is one event source mapping: a queue and the function it feeds.
type Source struct {
	Fn       *invoke.Function
	QueueURL string
}

// Poller runs the mappings.
type Poller struct {
	SQS SQSAPI
	// RetryVisibility is how soon a failed message is received again (default 1 s).
	RetryVisibility time.Duration
	// Wait is the long-poll duration (default 1 s, so shutdown is quick).
	Wait time.Duration
	// Log receives one line per batch; nil means stderr.
	Log io.Writer
}

// Run polls every source until ctx ends, then returns once all pollers stopped.
func (p *Poller) Run(ctx context.Context, sources []Source) error {
	var wg sync.WaitGroup
	errs := make([]error, len(sources))
	for i, s := range sources {
		arn, err := p.queueARN(ctx, s.QueueURL)
		if ctx.Err() != nil {
			break // stopped while starting: not an error
		}
		if err != nil {
			return fmt.Errorf("poller %s: %w", s.Fn.Name, err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = p.poll(ctx, s, arn)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

func (p *Poller) queueARN(ctx context.Context, url string) (string, error) {
	out, err := p.SQS.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(url),
		AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameQueueArn}})
	if err != nil {
		return "", err
	}
	return out.Attributes[string(types.QueueAttributeNameQueueArn)], nil
}

func (p *Poller) poll(ctx context.Context, s Source, arn string) error {
	batch := s.Fn.Trigger.BatchSize
	if batch < 1 || batch > 10 {
		batch = 10
	}
	wait := p.Wait
	if wait == 0 {
		wait = time.Second
	}
	for ctx.Err() == nil {
		out, err := p.SQS.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl:                    aws.String(s.QueueURL),
			MaxNumberOfMessages:         int32(batch),
			WaitTimeSeconds:             int32(wait / time.Second),
			MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameAll},
			MessageAttributeNames:       []string{"All"},
		})
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			p.logf("poller %s: receive: %v (retrying)", s.Fn.Name, err)
			sleep(ctx, time.Second)
			continue
		}
		if len(out.Messages) == 0 {
			continue
		}
		p.handle(ctx, s, arn, out.Messages)
	}
	return nil
}

// handle invokes the function with one batch and settles each message.
func (p *Poller) handle(ctx context.Context, s Source, arn string, msgs []types.Message) {
	start := time.Now()
	failed, err := p.invoke(ctx, s.Fn, Event(msgs, arn))
	if ctx.Err() != nil {
		return // shutting down: the messages come back after their visibility timeout
	}
	var ok, retry []types.Message
	for _, m := range msgs {
		if failed == nil || failed[aws.ToString(m.MessageId)] {
			retry = append(retry, m)
		} else {
			ok = append(ok, m)
		}
	}
	status := fmt.Sprintf("%d ok, %d to retry", len(ok), len(retry))
	if err != nil {
		status += " (" + err.Error() + ")"
	}
	p.logf("sqs %s: batch of %d: %s %dms", s.Fn.Name, len(msgs), status, time.Since(start).Milliseconds())
	p.settle(ctx, s, ok, retry)
}

// invoke returns the ids that failed; nil means the whole batch failed (a function error, or a
// response Lambda cannot use: an empty or unknown itemIdentifier fails the whole batch in AWS).
func (p *Poller) invoke(ctx context.Context, f *invoke.Function, ev events.SQSEvent) (map[string]bool, error) {
	payload, err := json.Marshal(ev)
	if err != nil {
		return nil, err
	}
	out, err := f.Invoke(ctx, payload)
	if err != nil {
		return nil, err
	}
	var resp events.SQSEventResponse
	if len(out) > 0 && string(out) != "null" {
		if err := json.Unmarshal(out, &resp); err != nil {
			return nil, fmt.Errorf("response is not an SQSEventResponse: %w", err)
		}
	}
	ids := map[string]bool{}
	for _, r := range ev.Records {
		ids[r.MessageId] = false
	}
	failed := map[string]bool{}
	for _, f := range resp.BatchItemFailures {
		if _, known := ids[f.ItemIdentifier]; !known {
			return nil, fmt.Errorf("batchItemFailures has unknown itemIdentifier %q", f.ItemIdentifier)
		}
		failed[f.ItemIdentifier] = true
	}
	return failed, nil
}

func (p *Poller) settle(ctx context.Context, s Source, ok, retry []types.Message) {
	for _, chunk := range chunks(ok) {
		var entries []types.DeleteMessageBatchRequestEntry
		for i, m := range chunk {
			entries = append(entries, types.DeleteMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), ReceiptHandle: m.ReceiptHandle})
		}
		if _, err := p.SQS.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(s.QueueURL), Entries: entries}); err != nil {
			p.logf("poller %s: delete: %v", s.Fn.Name, err)
		}
	}
	vis := p.RetryVisibility
	if vis == 0 {
		vis = time.Second
	}
	for _, chunk := range chunks(retry) {
		var entries []types.ChangeMessageVisibilityBatchRequestEntry
		for i, m := range chunk {
			entries = append(entries, types.ChangeMessageVisibilityBatchRequestEntry{Id: aws.String(strconv.Itoa(i)),
				ReceiptHandle: m.ReceiptHandle, VisibilityTimeout: int32(vis / time.Second)})
		}
		if _, err := p.SQS.ChangeMessageVisibilityBatch(ctx, &sqs.ChangeMessageVisibilityBatchInput{QueueUrl: aws.String(s.QueueURL), Entries: entries}); err != nil {
			p.logf("poller %s: change visibility: %v", s.Fn.Name, err)
		}
	}
}

// Event builds the event Lambda's SQS event source mapping sends for msgs.
func Event(msgs []types.Message, arn string) events.SQSEvent {
	ev := events.SQSEvent{Records: make([]events.SQSMessage, 0, len(msgs))}
	for _, m := range msgs {
		attrs := make(map[string]events.SQSMessageAttribute, len(m.MessageAttributes))
		for k, a := range m.MessageAttributes {
			attrs[k] = events.SQSMessageAttribute{StringValue: a.StringValue, BinaryValue: a.BinaryValue,
				StringListValues: nonNil(a.StringListValues), BinaryListValues: nonNilB(a.BinaryListValues),
				DataType: aws.ToString(a.DataType)}
		}
		ev.Records = append(ev.Records, events.SQSMessage{
			MessageId: aws.ToString(m.MessageId), ReceiptHandle: aws.ToString(m.ReceiptHandle),
			Body: aws.ToString(m.Body), Md5OfBody: aws.ToString(m.MD5OfBody),
			Md5OfMessageAttributes: aws.ToString(m.MD5OfMessageAttributes),
			Attributes:             m.Attributes, MessageAttributes: attrs,
			EventSource: "aws:sqs", EventSourceARN: arn, AWSRegion: invoke.Region,
		})
	}
	return ev
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func nonNilB(s [][]byte) [][]byte {
	if s == nil {
		return [][]byte{}
	}
	return s
}

func chunks(ms []types.Message) [][]types.Message {
	var out [][]types.Message
	for len(ms) > 0 {
		n := min(10, len(ms))
		out = append(out, ms[:n])
		ms = ms[n:]
	}
	return out
}

func (p *Poller) logf(format string, args ...any) {
	w := p.Log
	if w == nil {
		w = os.Stderr
	}
	fmt.Fprintf(w, time.Now().Format("15:04:05")+" "+format+"\n", args...)
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
