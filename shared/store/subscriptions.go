package store

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/manifest"
)

// Subscription is a user's one current subscription item (PK USER#<id>, SK SUB). It is found by
// Stripe subscription id through GSI1 and listed by status, ordered by ReviewAt, through GSI2.
//
// Every write goes through PutSubscriptionTx, conditioned on the version read before it, so a
// writer that computed metric deltas from version n can only land on version n. The fields
// LastEvent* are the ordering watermark of the Stripe state stored (see docs/decisions/0007).
type Subscription struct {
	PK     string `dynamodbav:"PK"`
	SK     string `dynamodbav:"SK"`
	GSI1PK string `dynamodbav:"GSI1PK,omitempty"`
	GSI1SK string `dynamodbav:"GSI1SK,omitempty"`
	GSI2PK string `dynamodbav:"GSI2PK,omitempty"`
	GSI2SK string `dynamodbav:"GSI2SK,omitempty"`
	Type   string `dynamodbav:"type"`
	UserID string `dynamodbav:"userId"`

	// Tier is what the subscription entitled to when the item was written: PlanTier while the status
	// and the time rules grant it, "free" once they do not (canceled, unpaid, incomplete…, a
	// cancellation past its period end, past_due beyond paid-through + grace). Time-bound ends are
	// applied on read and made permanent by the billing-cycle job. The metric gauges follow Tier.
	Tier string `dynamodbav:"tier"`
	// PlanTier is the tier of the subscription's price, whatever the status ("" on items written
	// before it existed: Tier stands in).
	PlanTier             string    `dynamodbav:"planTier,omitempty"`
	Status               string    `dynamodbav:"status"` // Stripe's status; "" for a stub without one
	StripeSubscriptionID string    `dynamodbav:"stripeSubscriptionId,omitempty"`
	StripeCustomerID     string    `dynamodbav:"stripeCustomerId,omitempty"`
	StripeItemID         string    `dynamodbav:"stripeItemId,omitempty"` // the subscription item carrying the price
	PriceID              string    `dynamodbav:"priceId,omitempty"`
	CurrentPeriodStart   time.Time `dynamodbav:"currentPeriodStart"`
	CurrentPeriodEnd     time.Time `dynamodbav:"currentPeriodEnd"`
	CancelAtPeriodEnd    bool      `dynamodbav:"cancelAtPeriodEnd"`
	PendingTier          string    `dynamodbav:"pendingTier,omitempty"` // downgrade due at currentPeriodEnd
	ScheduleID           string    `dynamodbav:"scheduleId,omitempty"`  // Stripe subscription schedule doing it
	PaidThrough          time.Time `dynamodbav:"paidThrough"`           // end of the last paid invoice period
	// PayingSince is when the subscription last became paying (the day its newPaying was counted);
	// churn uses it to tell customers who joined inside the metrics window.
	PayingSince time.Time `dynamodbav:"payingSince"`
	// ReviewAt is when the billing-cycle job must look at the item (GSI2's sort key): the period end,
	// or for past_due the paid-through date its grace counts from. Zero: CurrentPeriodEnd.
	ReviewAt time.Time `dynamodbav:"reviewAt"`
	Version  int64     `dynamodbav:"version"`
	// Ordering watermark: Stripe event created (unix s), status rank and event id of the stored state.
	LastEventCreated int64     `dynamodbav:"lastEventCreated"`
	LastEventRank    int       `dynamodbav:"lastEventRank"`
	LastEventID      string    `dynamodbav:"lastEventId,omitempty"`
	UpdatedAt        time.Time `dynamodbav:"updatedAt"`
}

// Exists reports whether the item was read from the table (version 0 means never written).
func (s Subscription) Exists() bool { return s.Version > 0 }

// GetSubscription reads a user's subscription item with a strongly consistent read. A user who never
// had one gets apperr.NotFound.
func (s *Store) GetSubscription(ctx context.Context, userID string) (Subscription, error) {
	var sub Subscription
	err := s.getConsistent(ctx, SubscriptionKey(userID), &sub)
	return sub, err
}

// SubscriptionVersion reads only the version of a user's subscription (consistently); 0 if none.
// It is the cheap stamp the feature-check cache compares against.
func (s *Store) SubscriptionVersion(ctx context.Context, userID string) (int64, error) {
	res, err := s.DB.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: &s.Table, Key: SubscriptionKey(userID).Item(), ConsistentRead: aws.Bool(true),
		ProjectionExpression: aws.String("version"),
	})
	if err != nil {
		return 0, apperr.Wrap(err, apperr.Unavailable, "read failed")
	}
	if res.Item == nil {
		return 0, nil
	}
	var v struct {
		Version int64 `dynamodbav:"version"`
	}
	if err := decode(res.Item, &v); err != nil {
		return 0, err
	}
	return v.Version, nil
}

// SubscriptionByStripeID finds the subscription item for a Stripe subscription id (GSI1; eventually
// consistent). NotFound if unknown.
func (s *Store) SubscriptionByStripeID(ctx context.Context, subID string) (Subscription, error) {
	g1, g1s := StripeSubscriptionGSI1(subID)
	return QueryIndexOne[Subscription](ctx, s, manifest.GSI1, g1, g1s, "unknown Stripe subscription")
}

// PutSubscriptionTx returns the transaction item that writes next for userID, conditioned on the
// stored item still being at prevVersion (absent when prevVersion is 0). It sets the keys, the index
// attributes and next.Version = prevVersion+1. A lost race fails the transaction's condition.
func (s *Store) PutSubscriptionTx(userID string, next *Subscription, prevVersion int64) (types.TransactWriteItem, error) {
	k := SubscriptionKey(userID)
	next.PK, next.SK, next.Type, next.UserID = k.PK, k.SK, "subscription", userID
	next.Version = prevVersion + 1
	next.GSI1PK, next.GSI1SK, next.GSI2PK, next.GSI2SK = "", "", "", ""
	if next.StripeSubscriptionID != "" {
		next.GSI1PK, next.GSI1SK = StripeSubscriptionGSI1(next.StripeSubscriptionID)
	}
	if next.Status != "" {
		review := next.ReviewAt
		if review.IsZero() {
			review = next.CurrentPeriodEnd
		}
		next.GSI2PK, next.GSI2SK = SubscriptionStatusGSI2(next.Status, review, userID)
	}
	item, err := Marshal(next)
	if err != nil {
		return types.TransactWriteItem{}, err
	}
	return PutOver(item, prevVersion), nil
}

// WriteSubscription writes next for userID in one transaction with the metric deltas (gauges on
// METRICS/CURRENT, day counters on the day of at) and any extra items (an audit record), conditioned
// on the stored item still being at prevVersion. A lost race is a failed condition (IsConditionFailed).
func (s *Store) WriteSubscription(ctx context.Context, userID string, next *Subscription, prevVersion int64,
	gauges, day map[string]int64, at time.Time, extra ...types.TransactWriteItem) error {
	put, err := s.PutSubscriptionTx(userID, next, prevVersion)
	if err != nil {
		return err
	}
	items := Append([]types.TransactWriteItem{put}, AddCounters(MetricsCurrentKey(), gauges), AddDayCounters(at, day))
	return s.Transact(ctx, append(items, extra...))
}

// SubscriptionsDue lists one page of subscriptions with status whose ReviewAt is before
// `before` (GSI2, oldest first; eventually consistent — re-read an item before acting on it).
// start is the previous page's LastEvaluatedKey (nil for the first page); the returned key is nil on
// the last page.
func (s *Store) SubscriptionsDue(ctx context.Context, status string, before time.Time, limit int32,
	start map[string]types.AttributeValue) ([]Subscription, map[string]types.AttributeValue, error) {
	res, err := s.DB.Query(ctx, &dynamodb.QueryInput{
		TableName:              &s.Table,
		IndexName:              aws.String(manifest.GSI2.Name),
		KeyConditionExpression: aws.String("GSI2PK = :pk AND GSI2SK < :before"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": av(SubscriptionStatusPrefix + status), ":before": av(SortTime(before)),
		},
		Limit:             aws.Int32(limit),
		ExclusiveStartKey: start,
	})
	if err != nil {
		return nil, nil, apperr.Wrap(err, apperr.Unavailable, "query failed")
	}
	out := make([]Subscription, 0, len(res.Items))
	for _, it := range res.Items {
		var sub Subscription
		if err := decode(it, &sub); err != nil {
			return nil, nil, err
		}
		out = append(out, sub)
	}
	return out, res.LastEvaluatedKey, nil
}

// OtherSubscription records a live Stripe subscription of a user other than the stored one: its
// events are not applied while the stored one is live (one live subscription per user). The
// billing-cycle job checks each open record with Stripe, adopts the other subscription once the
// stored one has ended, or reports two live subscriptions.
type OtherSubscription struct {
	PK                   string    `dynamodbav:"PK"`
	SK                   string    `dynamodbav:"SK"`
	GSI2PK               string    `dynamodbav:"GSI2PK,omitempty"`
	GSI2SK               string    `dynamodbav:"GSI2SK,omitempty"`
	Type                 string    `dynamodbav:"type"`
	UserID               string    `dynamodbav:"userId"`
	StripeSubscriptionID string    `dynamodbav:"stripeSubscriptionId"`
	Status               string    `dynamodbav:"status"` // as first seen
	SeenAt               time.Time `dynamodbav:"seenAt"`
	ResolvedAt           time.Time `dynamodbav:"resolvedAt,omitempty"`
	Resolution           string    `dynamodbav:"resolution,omitempty"`
}

// RecordOtherSubscription stores the record once (the first sighting wins; a repeat is no error).
// A record resolved earlier is opened again: the subscription is live once more.
func (s *Store) RecordOtherSubscription(ctx context.Context, userID, subID, status string, seenAt time.Time) error {
	k := OtherSubscriptionKey(userID, subID)
	g2, g2s := OpenOtherSubscriptionsGSI2(seenAt, userID, subID)
	o := OtherSubscription{PK: k.PK, SK: k.SK, GSI2PK: g2, GSI2SK: g2s, Type: "subscription-other", UserID: userID,
		StripeSubscriptionID: subID, Status: status, SeenAt: seenAt.UTC()}
	err := s.Put(ctx, o, "attribute_not_exists(PK) OR attribute_not_exists(GSI2PK)", nil, nil)
	if IsConditionFailed(err) {
		return nil
	}
	return err
}

// ResolveOtherSubscription closes a record (it leaves the open list) with a short resolution.
func (s *Store) ResolveOtherSubscription(ctx context.Context, userID, subID, resolution string) error {
	return s.Update(ctx, &dynamodb.UpdateItemInput{
		Key:                       OtherSubscriptionKey(userID, subID).Item(),
		UpdateExpression:          aws.String("SET resolvedAt = :at, resolution = :r REMOVE GSI2PK, GSI2SK"),
		ConditionExpression:       aws.String("attribute_exists(PK)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":at": av(s.Clock.Now().UTC().Format(time.RFC3339Nano)), ":r": av(resolution)},
	}, nil)
}

// OpenOtherSubscriptions lists one page of open records, oldest first (GSI2; eventually consistent).
func (s *Store) OpenOtherSubscriptions(ctx context.Context, limit int32,
	start map[string]types.AttributeValue) ([]OtherSubscription, map[string]types.AttributeValue, error) {
	res, err := s.DB.Query(ctx, &dynamodb.QueryInput{
		TableName:                 &s.Table,
		IndexName:                 aws.String(manifest.GSI2.Name),
		KeyConditionExpression:    aws.String("GSI2PK = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": av(OpenOtherSubscriptionsPK)},
		Limit:                     aws.Int32(limit),
		ExclusiveStartKey:         start,
	})
	if err != nil {
		return nil, nil, apperr.Wrap(err, apperr.Unavailable, "query failed")
	}
	out := make([]OtherSubscription, 0, len(res.Items))
	for _, it := range res.Items {
		var o OtherSubscription
		if err := decode(it, &o); err != nil {
			return nil, nil, err
		}
		out = append(out, o)
	}
	return out, res.LastEvaluatedKey, nil
}
