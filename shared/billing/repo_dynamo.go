package billing

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/audit"
	"github.com/liberation/monetization/shared/billing/records"
	"github.com/liberation/monetization/shared/manifest"
	"github.com/liberation/monetization/shared/marketplace/mktmetrics"
	"github.com/liberation/monetization/shared/rewards/tokenmetrics"
	"github.com/liberation/monetization/shared/store"
)

// dynamoRepo implements billing's repository interfaces over the single table. It is the only
// code that reads and writes billing's entities (entities.go): subscription items, other-subscription
// records and user profiles.
type dynamoRepo struct{ *store.Store }

// Page sizes of the job's walks (a run that hits maxPages leaves the rest to the next run).
const duePageSize = 100

// SubscriptionVersion reads only the version of a user's subscription (consistently); 0 if none.
// It is the cheap stamp the feature-check cache compares against.
func (r dynamoRepo) SubscriptionVersion(ctx context.Context, userID string) (int64, error) {
	res, err := r.DB.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: &r.Table, Key: store.SubscriptionKey(userID).Item(), ConsistentRead: aws.Bool(true),
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
	if err := decodeItem(res.Item, &v); err != nil {
		return 0, err
	}
	return v.Version, nil
}

// putSubscriptionItem returns the transaction item that writes next for userID, conditioned on the
// stored item still being at prevVersion (absent when prevVersion is 0). It sets the keys, the index
// attributes and next.Version = prevVersion+1. A lost race fails the transaction's condition.
func putSubscriptionItem(userID string, next *Subscription, prevVersion int64) (types.TransactWriteItem, error) {
	k := store.SubscriptionKey(userID)
	next.PK, next.SK, next.Type, next.UserID = k.PK, k.SK, "subscription", userID
	next.Version = prevVersion + 1
	next.GSI1PK, next.GSI1SK, next.GSI2PK, next.GSI2SK = "", "", "", ""
	if next.StripeSubscriptionID != "" {
		next.GSI1PK, next.GSI1SK = store.StripeSubscriptionGSI1(next.StripeSubscriptionID)
	}
	if next.Status != "" {
		review := next.ReviewAt
		if review.IsZero() {
			review = next.CurrentPeriodEnd
		}
		next.GSI2PK, next.GSI2SK = store.SubscriptionStatusGSI2(next.Status, review, userID)
	}
	return store.PutVersioned(next, prevVersion)
}

// WriteSubscription writes w.Next for w.UserID in one transaction with the metric deltas (gauges on
// METRICS/CURRENT, day counters on the day of w.At) and the audit record, conditioned on the stored
// item still being at w.PrevVersion. A lost race is a failed condition (store.IsConditionFailed).
func (r dynamoRepo) WriteSubscription(ctx context.Context, w subscriptionWrite) error {
	put, err := putSubscriptionItem(w.UserID, w.Next, w.PrevVersion)
	if err != nil {
		return err
	}
	items := store.Append([]types.TransactWriteItem{put},
		store.AddCounters(store.MetricsCurrentKey(), w.Gauges), store.AddDayCounters(w.At, w.Day))
	if w.Audit != nil {
		a, err := audit.Item(*w.Audit, r.Clock.Now())
		if err != nil {
			return err
		}
		items = append(items, a)
	}
	return r.Transact(ctx, items)
}

// subscriptionsDue lists one page of subscriptions with status whose ReviewAt is before `before`
// (GSI2, oldest first; eventually consistent — re-read an item before acting on it). start is the
// previous page's LastEvaluatedKey (nil for the first page); the returned key is nil on the last
// page.
func (r dynamoRepo) subscriptionsDue(ctx context.Context, status string, before time.Time, limit int32,
	start map[string]types.AttributeValue) ([]Subscription, map[string]types.AttributeValue, error) {
	res, err := r.DB.Query(ctx, &dynamodb.QueryInput{
		TableName:              &r.Table,
		IndexName:              aws.String(manifest.GSI2.Name),
		KeyConditionExpression: aws.String("GSI2PK = :pk AND GSI2SK < :before"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": store.S(store.SubscriptionStatusPrefix + status), ":before": store.S(store.SortTime(before)),
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
		if err := decodeItem(it, &sub); err != nil {
			return nil, nil, err
		}
		out = append(out, sub)
	}
	return out, res.LastEvaluatedKey, nil
}

// RecordOtherSubscription stores the record once (the first sighting wins; a repeat is no error).
// A record resolved earlier is opened again: the subscription is live once more.
func (r dynamoRepo) RecordOtherSubscription(ctx context.Context, userID, subID, status string, seenAt time.Time) error {
	k := store.OtherSubscriptionKey(userID, subID)
	g2, g2s := store.OpenOtherSubscriptionsGSI2(seenAt, userID, subID)
	o := OtherSubscription{PK: k.PK, SK: k.SK, GSI2PK: g2, GSI2SK: g2s, Type: "subscription-other", UserID: userID,
		StripeSubscriptionID: subID, Status: status, SeenAt: seenAt.UTC()}
	err := r.Put(ctx, o, "attribute_not_exists(PK) OR attribute_not_exists(GSI2PK)", nil, nil)
	if store.IsConditionFailed(err) {
		return nil
	}
	return err
}

// ResolveOtherSubscription closes a record (it leaves the open list) with a short resolution.
func (r dynamoRepo) ResolveOtherSubscription(ctx context.Context, userID, subID, resolution string) error {
	return r.Update(ctx, &dynamodb.UpdateItemInput{
		Key:                 store.OtherSubscriptionKey(userID, subID).Item(),
		UpdateExpression:    aws.String("SET resolvedAt = :at, resolution = :r REMOVE GSI2PK, GSI2SK"),
		ConditionExpression: aws.String("attribute_exists(PK)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":at": store.S(r.Clock.Now().UTC().Format(time.RFC3339Nano)), ":r": store.S(resolution),
		},
	}, nil)
}

// openOtherSubscriptions lists one page of open records, oldest first (GSI2; eventually consistent).
func (r dynamoRepo) openOtherSubscriptions(ctx context.Context, limit int32,
	start map[string]types.AttributeValue) ([]OtherSubscription, map[string]types.AttributeValue, error) {
	res, err := r.DB.Query(ctx, &dynamodb.QueryInput{
		TableName:                 &r.Table,
		IndexName:                 aws.String(manifest.GSI2.Name),
		KeyConditionExpression:    aws.String("GSI2PK = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": store.S(store.OpenOtherSubscriptionsPK)},
		Limit:                     aws.Int32(limit),
		ExclusiveStartKey:         start,
	})
	if err != nil {
		return nil, nil, apperr.Wrap(err, apperr.Unavailable, "query failed")
	}
	out := make([]OtherSubscription, 0, len(res.Items))
	for _, it := range res.Items {
		var o OtherSubscription
		if err := decodeItem(it, &o); err != nil {
			return nil, nil, err
		}
		out = append(out, o)
	}
	return out, res.LastEvaluatedKey, nil
}

// The user, customer and subscription records are read and linked by records.Records, billing's
// leaf package that the other areas import (decision 0075); billing's repository delegates to it.
func (r dynamoRepo) records() records.Records { return records.Records{S: r.Store} }

// GetSubscription reads a user's subscription item strongly consistently (apperr.NotFound: none).
func (r dynamoRepo) GetSubscription(ctx context.Context, userID string) (Subscription, error) {
	return r.records().GetSubscription(ctx, userID)
}

// GetUser reads a user's profile (apperr.NotFound if the user never touched billing).
func (r dynamoRepo) GetUser(ctx context.Context, userID string) (User, error) {
	return r.records().GetUser(ctx, userID)
}

// LinkStripeCustomer records the user's Stripe customer once and returns the one on file.
func (r dynamoRepo) LinkStripeCustomer(ctx context.Context, userID, email, customerID string) (string, error) {
	return r.records().LinkStripeCustomer(ctx, userID, email, customerID)
}

// ResolveStripeUser ties a Stripe object to our user ("" when none is known).
func (r dynamoRepo) ResolveStripeUser(ctx context.Context, customerID, subscriptionID string, candidates ...string) (string, error) {
	return r.records().ResolveStripeUser(ctx, customerID, subscriptionID, candidates...)
}

// decodeItem reads an item into out (Internal when it has another shape).
func decodeItem(item map[string]types.AttributeValue, out any) error {
	if err := attributevalue.UnmarshalMap(item, out); err != nil {
		return apperr.Wrap(err, apperr.Internal, "decode item")
	}
	return nil
}

func (r dynamoRepo) WriteAudit(ctx context.Context, e audit.Entry) error {
	return audit.Write(ctx, r.Store, e)
}

func (r dynamoRepo) EachDue(ctx context.Context, status string, before time.Time, maxPages int,
	f func(Subscription) error) (bool, error) {
	var start map[string]types.AttributeValue
	for page := 0; page < maxPages; page++ {
		subs, next, err := r.subscriptionsDue(ctx, status, before, duePageSize, start)
		if err != nil {
			return false, err
		}
		for _, s := range subs {
			if err := f(s); err != nil {
				return false, err
			}
		}
		if next == nil {
			return false, nil
		}
		start = next
	}
	return true, nil
}

func (r dynamoRepo) EachOpenOther(ctx context.Context, maxPages int, f func(OtherSubscription) error) (bool, error) {
	var start map[string]types.AttributeValue
	for page := 0; page < maxPages; page++ {
		recs, next, err := r.openOtherSubscriptions(ctx, duePageSize, start)
		if err != nil {
			return false, err
		}
		for _, o := range recs {
			if err := f(o); err != nil {
				return false, err
			}
		}
		if next == nil {
			return false, nil
		}
		start = next
	}
	return true, nil
}

func (r dynamoRepo) Gauges(ctx context.Context) (map[string]int64, error) {
	cur, err := r.DB.GetItem(ctx, &dynamodb.GetItemInput{TableName: &r.Table, Key: store.MetricsCurrentKey().Item()})
	if err != nil {
		return nil, apperr.Wrap(err, apperr.Unavailable, "read failed")
	}
	return store.Numbers(cur.Item), nil
}

// Marketplace reads the marketplace's metrics of a month (one GetItem, one Query of ≤ 31 items).
func (r dynamoRepo) Marketplace(ctx context.Context, period string) (mktmetrics.Metrics, error) {
	return mktmetrics.Read(ctx, r.Store, period)
}

// Tokens reads the token programme's metrics (two Queries of small counter items).
func (r dynamoRepo) Tokens(ctx context.Context, now time.Time, days int) (tokenmetrics.Metrics, error) {
	return tokenmetrics.Read(ctx, r.Store, now, days)
}

// MonthCounters reads one month's counters item (one GetItem).
func (r dynamoRepo) MonthCounters(ctx context.Context, month string) (map[string]int64, error) {
	res, err := r.DB.GetItem(ctx, &dynamodb.GetItemInput{TableName: &r.Table, Key: store.MetricsMonthKey(month).Item()})
	if err != nil {
		return nil, apperr.Wrap(err, apperr.Unavailable, "read failed")
	}
	return store.Numbers(res.Item), nil
}

// DaySums adds up the day counters of the days from…to (inclusive): one Query on the METRICS
// partition, at most a few dozen small items.
func (r dynamoRepo) DaySums(ctx context.Context, from, to time.Time) (map[string]int64, error) {
	return store.SumNumbersBetween(ctx, r.Store, store.MetricsCurrentKey().PK, store.MetricsDayKey(from).SK, store.MetricsDayKey(to).SK)
}

func (r dynamoRepo) LatestSnapshot(ctx context.Context) (string, error) {
	latest, err := r.DB.Query(ctx, &dynamodb.QueryInput{
		TableName:                &r.Table,
		KeyConditionExpression:   aws.String("PK = :pk"),
		ExpressionAttributeNames: map[string]string{"#sk": manifest.AttrSK},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": store.S(store.SnapshotKey(time.Time{}).PK),
		},
		ProjectionExpression: aws.String("#sk"),
		ScanIndexForward:     aws.Bool(false),
		Limit:                aws.Int32(1),
	})
	if err != nil {
		return "", apperr.Wrap(err, apperr.Unavailable, "query failed")
	}
	if len(latest.Items) == 1 {
		if sk, ok := latest.Items[0][manifest.AttrSK].(*types.AttributeValueMemberS); ok {
			return sk.Value, nil
		}
	}
	return "", nil
}

func (r dynamoRepo) PutSnapshot(ctx context.Context, s Snapshot) (bool, error) {
	err := r.Put(ctx, s, "attribute_not_exists(PK)", nil, nil)
	if store.IsConditionFailed(err) {
		return false, nil
	}
	return err == nil, err
}

func (r dynamoRepo) RecordJobRun(ctx context.Context, job, period string, at time.Time, report any) error {
	k := store.JobRunKey(job, period)
	run := struct {
		PK     string    `dynamodbav:"PK"`
		SK     string    `dynamodbav:"SK"`
		Type   string    `dynamodbav:"type"`
		At     time.Time `dynamodbav:"at"`
		Report any       `dynamodbav:"report"`
	}{k.PK, k.SK, "jobrun", at.UTC(), report}
	if err := r.Put(ctx, run, "attribute_not_exists(PK)", nil, nil); err != nil && !store.IsConditionFailed(err) {
		return err
	}
	return nil
}
