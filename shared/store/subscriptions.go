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
// Stripe subscription id through GSI1 and listed by status, ordered by period end, through GSI2.
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

	// Tier is what the subscription entitles to as stored: the price's tier while the status grants
	// access, "free" once it does not (canceled, unpaid, incomplete…). Time-bound ends (a cancellation
	// or past_due reaching currentPeriodEnd) are applied on read and made permanent by the job.
	Tier                 string    `dynamodbav:"tier"`
	Status               string    `dynamodbav:"status"` // Stripe's status; "" for a stub without one
	StripeSubscriptionID string    `dynamodbav:"stripeSubscriptionId,omitempty"`
	StripeCustomerID     string    `dynamodbav:"stripeCustomerId,omitempty"`
	StripeItemID         string    `dynamodbav:"stripeItemId,omitempty"` // the subscription item carrying the price
	PriceID              string    `dynamodbav:"priceId,omitempty"`
	CurrentPeriodEnd     time.Time `dynamodbav:"currentPeriodEnd"`
	CancelAtPeriodEnd    bool      `dynamodbav:"cancelAtPeriodEnd"`
	PendingTier          string    `dynamodbav:"pendingTier,omitempty"` // downgrade due at currentPeriodEnd
	ScheduleID           string    `dynamodbav:"scheduleId,omitempty"`  // Stripe subscription schedule doing it
	PaidThrough          time.Time `dynamodbav:"paidThrough"`           // end of the last paid invoice period
	Version              int64     `dynamodbav:"version"`
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
	return QueryIndexOne[Subscription](ctx, s, manifest.Indexes[0], g1, g1s, "unknown Stripe subscription")
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
		next.GSI2PK, next.GSI2SK = SubscriptionStatusGSI2(next.Status, next.CurrentPeriodEnd, userID)
	}
	item, err := Marshal(next)
	if err != nil {
		return types.TransactWriteItem{}, err
	}
	put := &types.Put{Item: item}
	if prevVersion == 0 {
		put.ConditionExpression = aws.String("attribute_not_exists(PK)")
	} else {
		put.ConditionExpression = aws.String("version = :v")
		put.ExpressionAttributeValues = map[string]types.AttributeValue{":v": N(prevVersion)}
	}
	return types.TransactWriteItem{Put: put}, nil
}

// SubscriptionsDue lists one page of subscriptions with status whose currentPeriodEnd is before
// `before` (GSI2, oldest first; eventually consistent — re-read an item before acting on it).
// start is the previous page's LastEvaluatedKey (nil for the first page); the returned key is nil on
// the last page.
func (s *Store) SubscriptionsDue(ctx context.Context, status string, before time.Time, limit int32,
	start map[string]types.AttributeValue) ([]Subscription, map[string]types.AttributeValue, error) {
	res, err := s.DB.Query(ctx, &dynamodb.QueryInput{
		TableName:              &s.Table,
		IndexName:              aws.String(manifest.Indexes[1].Name),
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
