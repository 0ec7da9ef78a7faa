package billing

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/audit"
	"github.com/liberation/monetization/shared/manifest"
	"github.com/liberation/monetization/shared/marketplace/mktmetrics"
	"github.com/liberation/monetization/shared/rewards/tokenmetrics"
	"github.com/liberation/monetization/shared/store"
)

// dynamoRepo implements billing's repository interfaces over the single table.
type dynamoRepo struct{ *store.Store }

// Page sizes of the job's walks (a run that hits maxPages leaves the rest to the next run).
const duePageSize = 100

func (r dynamoRepo) WriteSubscription(ctx context.Context, w subscriptionWrite) error {
	var extra []types.TransactWriteItem
	if w.Audit != nil {
		a, err := audit.Item(*w.Audit, r.Clock.Now())
		if err != nil {
			return err
		}
		extra = append(extra, a)
	}
	return r.Store.WriteSubscription(ctx, w.UserID, w.Next, w.PrevVersion, w.Gauges, w.Day, w.At, extra...)
}

func (r dynamoRepo) WriteAudit(ctx context.Context, e audit.Entry) error {
	return audit.Write(ctx, r.Store, e)
}

func (r dynamoRepo) EachDue(ctx context.Context, status string, before time.Time, maxPages int,
	f func(store.Subscription) error) (bool, error) {
	var start map[string]types.AttributeValue
	for page := 0; page < maxPages; page++ {
		subs, next, err := r.SubscriptionsDue(ctx, status, before, duePageSize, start)
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

func (r dynamoRepo) EachOpenOther(ctx context.Context, maxPages int, f func(store.OtherSubscription) error) (bool, error) {
	var start map[string]types.AttributeValue
	for page := 0; page < maxPages; page++ {
		recs, next, err := r.OpenOtherSubscriptions(ctx, duePageSize, start)
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
	dayKey := func(t time.Time) string { return store.MetricsDayKey(t).SK }
	p := dynamodb.NewQueryPaginator(r.DB, &dynamodb.QueryInput{
		TableName:              &r.Table,
		KeyConditionExpression: aws.String("PK = :pk AND SK BETWEEN :from AND :to"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": store.S(store.MetricsCurrentKey().PK), ":from": store.S(dayKey(from)), ":to": store.S(dayKey(to)),
		},
	})
	sum := map[string]int64{}
	for p.HasMorePages() {
		res, err := p.NextPage(ctx)
		if err != nil {
			return nil, apperr.Wrap(err, apperr.Unavailable, "query failed")
		}
		for _, it := range res.Items {
			for k, v := range store.Numbers(it) {
				sum[k] += v
			}
		}
	}
	return sum, nil
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
