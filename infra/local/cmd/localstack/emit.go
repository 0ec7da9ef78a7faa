package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/liberation/monetization/shared/facts"
	m "github.com/liberation/monetization/shared/manifest"
	"github.com/liberation/monetization/shared/queue"
	"github.com/liberation/monetization/shared/rewards"
)

// emit puts a realistic message on a queue of the running `make dev` stack: a learning event on
// the learning-events queue — exactly what the EventBridge rule's input transformer delivers in
// AWS — or one of our own facts on the facts queue (what billing and the marketplace send).
//
//	make emit EVENT=lesson.completed SUB=alice COURSE=spanish-a1 [LESSON=les-3] [ID=evt-1]
//	make emit EVENT=course.purchased SUB=alice COURSE=spanish-a1 [ID=pur-1] [AMOUNT=4900]
//
// ID is the event id (learning events) or the purchase, invoice or review id (facts): emitting
// the same ID again is a redelivery, which must change nothing.

// emitEvents are the types emit knows, with the queue each goes to.
var emitEvents = map[string]string{
	rewards.EventLessonCompleted: m.LearningEventsQueue,
	rewards.EventCourseCompleted: m.LearningEventsQueue,
	facts.CoursePurchased:        m.FactsQueue,
	facts.CourseRefunded:         m.FactsQueue,
	facts.ReviewPublished:        m.FactsQueue,
	facts.SubscriptionRenewed:    m.FactsQueue,
}

// emitOptions are emit's flags.
type emitOptions struct {
	Event, User, Course, Lesson, ID, Tier string
	Amount                                int64
	At                                    time.Time
}

// emitMessage builds the queue, type, dedupe id and payload of an emitted event.
func emitMessage(o emitOptions) (q, typ, dedupeID string, payload any, err error) {
	q, ok := emitEvents[o.Event]
	if !ok {
		names := make([]string, 0, len(emitEvents))
		for n := range emitEvents {
			names = append(names, n)
		}
		slices.Sort(names)
		return "", "", "", nil, fmt.Errorf("unknown -event %q; one of %s", o.Event, strings.Join(names, ", "))
	}
	if o.User == "" {
		return "", "", "", nil, errors.New("-user is required (make emit EVENT=… SUB=alice …)")
	}
	if o.Course == "" && o.Event != facts.SubscriptionRenewed {
		return "", "", "", nil, errors.New("-course is required for " + o.Event + " (COURSE=…)")
	}
	if o.ID == "" {
		o.ID = randomID()
	}
	at := o.At.UTC()
	switch o.Event {
	case rewards.EventLessonCompleted, rewards.EventCourseCompleted:
		det := rewards.LearningDetail{UserID: o.User, CourseID: o.Course}
		if o.Event == rewards.EventLessonCompleted {
			// Without LESSON the lesson follows from the event id, so re-emitting an ID is a true replay.
			det.LessonID = or(o.Lesson, "les-"+o.ID)
		}
		return q, o.Event, o.ID, rewards.LearningEvent{EventID: o.ID, Time: at, Source: rewards.LearningSource, Detail: det}, nil
	case facts.CoursePurchased:
		f := facts.CoursePurchasedFact{UserID: o.User, CourseID: o.Course, PurchaseID: o.ID, AmountCents: o.Amount,
			Currency: "usd", PurchasedAt: at, RefundWindowEndsAt: at.Add(rewards.RefundWindow)}
		if f.AmountCents == 0 {
			f.AmountCents = 4900
		}
		return q, o.Event, f.DedupeID(), f, nil
	case facts.CourseRefunded:
		f := facts.CourseRefundedFact{UserID: o.User, CourseID: o.Course, PurchaseID: o.ID, RefundID: "re_" + o.ID,
			AmountCents: o.Amount, Currency: "usd", Full: true, RefundedAt: at}
		return q, o.Event, f.DedupeID(), f, nil
	case facts.ReviewPublished:
		f := facts.ReviewPublishedFact{UserID: o.User, CourseID: o.Course, ReviewID: o.ID, Rating: 5, PublishedAt: at}
		return q, o.Event, f.DedupeID(), f, nil
	default: // subscription.renewed
		f := facts.SubscriptionRenewedFact{UserID: o.User, Tier: or(o.Tier, "pro"), InvoiceID: o.ID,
			PeriodStart: at, PeriodEnd: at.AddDate(0, 1, 0), PaidAt: at}
		return q, o.Event, f.DedupeID(), f, nil
	}
}

func randomID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return "evt-" + hex.EncodeToString(b)
}

// sqsSender is the part of the SQS client emit uses.
type sqsSender interface {
	GetQueueUrl(context.Context, *sqs.GetQueueUrlInput, ...func(*sqs.Options)) (*sqs.GetQueueUrlOutput, error)
	SendMessage(context.Context, *sqs.SendMessageInput, ...func(*sqs.Options)) (*sqs.SendMessageOutput, error)
}

// newSQS returns emit's SQS client on the running stack's moto (from dev.env).
var newSQS = func(getenv func(string) string) (sqsSender, error) {
	moto := getenv("MOTO_URL")
	if moto == "" {
		return nil, errors.New("no running stack found (start `make dev` first)")
	}
	return sqs.New(sqs.Options{Region: or(getenv("AWS_REGION"), "us-east-1"), BaseEndpoint: aws.String(moto),
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "testing", SecretAccessKey: "testing", Source: "moto"}, nil
		})}), nil
}

func (c *cli) runEmit(ctx context.Context, args []string) error {
	fs := c.flags("emit")
	var o emitOptions
	fs.StringVar(&o.Event, "event", "", "lesson.completed, course.completed, course.purchased, course.refunded, review.published or subscription.renewed (required)")
	fs.StringVar(&o.User, "user", "", "the learner's user id (required)")
	fs.StringVar(&o.Course, "course", "", "course id (required except for subscription.renewed)")
	fs.StringVar(&o.Lesson, "lesson", "", "lesson id (lesson.completed; default derived from -id)")
	fs.StringVar(&o.ID, "id", "", "event id, or purchase/review/invoice id for facts (default random); repeat one to replay")
	fs.StringVar(&o.Tier, "tier", "", "subscription.renewed: pro or enterprise (default pro)")
	fs.Int64Var(&o.Amount, "amount", 0, "course.purchased/refunded: amount in cents (default 4900)")
	if err := parse(fs, args); err != nil {
		return err
	}
	o.At = time.Now()
	q, typ, dedupe, payload, err := emitMessage(o)
	if err != nil {
		return err
	}
	root, err := projectRoot()
	if err != nil {
		return err
	}
	getenv := c.devGetenv(c.stateDir(root))
	client, err := newSQS(getenv)
	if err != nil {
		return err
	}
	url, err := client.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String(devPrefix + "-" + q)})
	if err != nil {
		return fmt.Errorf("queue %s: %w (is `make dev` running?)", q, err)
	}
	body, err := queue.Envelope(typ, dedupe, payload)
	if err != nil {
		return err
	}
	if _, err := client.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: url.QueueUrl, MessageBody: aws.String(body)}); err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "sent %s to %s\n%s\n", typ, q, body)
	return nil
}
