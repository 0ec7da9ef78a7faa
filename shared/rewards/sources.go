package rewards

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	"github.com/liberation/monetization/shared/facts"
	"github.com/liberation/monetization/shared/licensing"
	"github.com/liberation/monetization/shared/logging"
	"github.com/liberation/monetization/shared/metric"
	"github.com/liberation/monetization/shared/platform"
	"github.com/liberation/monetization/shared/queue"
)

// Where tokens come from: learning events from the learning platform (the learning-events queue,
// consumed by apply-learning-events) and other areas' facts (the facts queue, consumed by the
// apply-facts host with these hooks).

// Learning event types (the EventBridge detail-type, and the queue envelope's type).
const (
	EventLessonCompleted = RuleLessonCompleted
	EventCourseCompleted = RuleCourseCompleted
)

// LearningSource is the EventBridge source the learning platform publishes with.
const LearningSource = "liberation.learning"

// LearningEvent is the payload of a learning-events message: the EventBridge event's id, time and
// source and its detail, as the rule's input transformer puts them in our queue envelope
// ({"type": <detail-type>, "dedupeId": <id>, "payload": {…}}; see manifest.LearningEventsQueue).
type LearningEvent struct {
	EventID string         `json:"eventId"`
	Time    time.Time      `json:"time"`
	Source  string         `json:"source"`
	Detail  LearningDetail `json:"detail"`
}

// LearningDetail is what the learning platform says about a completion.
type LearningDetail struct {
	UserID   string `json:"userId"`
	CourseID string `json:"courseId"`
	LessonID string `json:"lessonId,omitempty"`
}

// Metric names of the area.
const (
	MetricRejectedMessages = "RewardsRejectedMessages" // learning events or facts that cannot be understood
	MetricEmailFailures    = "RewardsEmailFailures"    // redemption e-mails that could not be sent
)

// maxIDLength bounds every id taken from a message into a key.
const maxIDLength = 128

func validID(s string) bool {
	return s != "" && len(s) <= maxIDLength && !strings.ContainsAny(s, "#\x00\n\r")
}

// wireApplyLearningEvents builds the learning-events consumer.
func wireApplyLearningEvents(w wiring) (queue.Consumer, error) {
	var r queue.Router
	h := w.d.earner().ApplyLearningEvent
	r.On(EventLessonCompleted, h)
	r.On(EventCourseCompleted, h)
	return r.Consumer(w.rt.Log), nil
}

// ApplyLearningEvent earns from one learning event. A message that cannot be understood is logged,
// counted and dropped: retrying cannot fix it (the DLQ keeps what failed for other reasons).
func (er earner) ApplyLearningEvent(ctx context.Context, msg queue.Message) error {
	var ev LearningEvent
	err := json.Unmarshal(msg.Payload, &ev)
	det := ev.Detail
	e := Earning{UserID: det.UserID, Rule: msg.Type, OccurredAt: ev.Time, Actor: "system:learning"}
	switch msg.Type {
	case EventLessonCompleted:
		e.SourceID = det.CourseID + "/" + det.LessonID
		if !validID(det.LessonID) {
			err = errString("lessonId")
		}
	case EventCourseCompleted:
		e.SourceID = det.CourseID
	}
	if err == nil && (!validID(det.UserID) || !validID(det.CourseID)) {
		err = errString("userId and courseId")
	}
	if err == nil && ev.Source != LearningSource {
		err = errString("source " + LearningSource)
	}
	if err != nil {
		er.reject(ctx, msg, err)
		return nil
	}
	// A completion's day is when it happened, within reason: a clock far ahead of ours is not
	// allowed to pick a future day's cap.
	if now := er.clk.Now(); e.OccurredAt.IsZero() || e.OccurredAt.After(now.Add(5*time.Minute)) {
		e.OccurredAt = now
	}
	out, entry, err := er.Earn(ctx, e)
	if err != nil {
		return err
	}
	// A learning event makes a seat holder one of their license's monthly active learners (issue 8);
	// counted once per user and month, so a redelivery changes nothing.
	if err := licensing.RecordActivity(ctx, er.st, det.UserID, "", e.OccurredAt); err != nil {
		return err
	}
	logging.From(ctx).Info("learning event applied", "eventId", ev.EventID, "outcome", out, "seq", entry.Seq)
	return nil
}

type errString string

func (e errString) Error() string { return "message lacks a valid " + string(e) }

func (er earner) reject(ctx context.Context, msg queue.Message, err error) {
	l := logging.From(ctx)
	l.Error("dropping a message that cannot be understood", "type", msg.Type, "dedupeId", msg.DedupeID, "err", err.Error())
	metric.Emit(ctx, l, er.fn, MetricRejectedMessages, 1)
}

// ApplyFactsHooks registers the facts rewards earns from with the apply-facts host.
func ApplyFactsHooks(rt *platform.Runtime, r *queue.Router) error {
	er := NewDeps(rt).earner()
	for _, t := range facts.Types {
		r.On(t, er.ApplyFact)
	}
	return nil
}

// ApplyFact earns (or cancels) tokens for one fact.
func (er earner) ApplyFact(ctx context.Context, msg queue.Message) error {
	var (
		out Outcome
		err error
	)
	switch msg.Type {
	case facts.CoursePurchased:
		var f facts.CoursePurchasedFact
		if err = decode(msg, &f); err == nil {
			err = requireIDs(f.UserID, f.CourseID, f.PurchaseID)
		}
		if err != nil {
			break
		}
		if f.AmountCents <= 0 {
			out = OutIgnored // a free course is not a paid purchase
			break
		}
		release := f.RefundWindowEndsAt
		if release.IsZero() {
			release = f.PurchasedAt.Add(RefundWindow)
		}
		out, _, err = er.Earn(ctx, Earning{UserID: f.UserID, Rule: RuleCoursePurchased, SourceID: f.PurchaseID,
			OccurredAt: f.PurchasedAt, ReleaseAt: release, AmountCents: f.AmountCents, Actor: "system:facts"})
	case facts.CourseRefunded:
		var f facts.CourseRefundedFact
		if err = decode(msg, &f); err == nil {
			err = requireIDs(f.UserID, f.PurchaseID, f.RefundID)
		}
		if err == nil && (f.AmountCents < 0 || f.PurchaseAmountCents < 0) {
			err = errString("non-negative amounts")
		}
		if err == nil {
			out, _, err = er.Refund(ctx, RefundNotice{UserID: f.UserID, PurchaseID: f.PurchaseID, RefundID: f.RefundID,
				Cents: f.AmountCents, PurchaseCents: f.PurchaseAmountCents, Full: f.Full, Dispute: f.Dispute, Reversed: f.Reversed, At: f.RefundedAt})
		}
	case facts.ReviewPublished:
		var f facts.ReviewPublishedFact
		if err = decode(msg, &f); err == nil {
			err = requireIDs(f.UserID, f.CourseID)
		}
		if err == nil {
			out, _, err = er.Earn(ctx, Earning{UserID: f.UserID, Rule: RuleReviewPublished, SourceID: f.CourseID,
				OccurredAt: f.PublishedAt, Actor: "system:facts"})
		}
	case facts.SubscriptionRenewed:
		var f facts.SubscriptionRenewedFact
		if err = decode(msg, &f); err == nil {
			err = requireIDs(f.UserID, f.InvoiceID)
		}
		if err == nil {
			tokens, ok := TierTokens[f.Tier]
			if !ok {
				out = OutIgnored
				break
			}
			out, _, err = er.Earn(ctx, Earning{UserID: f.UserID, Rule: RuleSubscriptionRenewed, SourceID: f.InvoiceID,
				Tokens: tokens, OccurredAt: f.PaidAt, Actor: "system:facts"})
		}
	}
	if err != nil {
		if _, bad := err.(errString); bad {
			er.reject(ctx, msg, err)
			return nil
		}
		return err
	}
	logging.From(ctx).Info("fact applied", "outcome", out)
	return nil
}

func decode(msg queue.Message, v any) error {
	if err := json.Unmarshal(msg.Payload, v); err != nil {
		return errString("JSON payload")
	}
	return nil
}

// requireIDs checks the ids a fact must carry.
func requireIDs(vals ...string) error {
	for _, v := range vals {
		if !validID(v) {
			return errString("user and source ids")
		}
	}
	return nil
}
