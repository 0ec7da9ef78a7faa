package marketplace

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/audit"
	"github.com/liberation/monetization/shared/auth"
	"github.com/liberation/monetization/shared/manifest"
	"github.com/liberation/monetization/shared/marketplace/catalog"
	"github.com/liberation/monetization/shared/marketplace/mktmetrics"
	"github.com/liberation/monetization/shared/store"
)

// dynamoCourses is Courses on the single table. With repo_books.go it is the only file of
// shared/marketplace that builds DynamoDB inputs: the money path's transactions stay in
// repo_books.go, the course pages' writes and every listed page here. Keys come from
// shared/store/keys.go, indexes by name (manifest.GSI1, manifest.GSI2); docs/data-model.md lists
// the access patterns.
type dynamoCourses struct{ s *store.Store }

var _ Courses = (*dynamoCourses)(nil)

// NewCourses is the DynamoDB Courses.
func NewCourses(s *store.Store) Courses { return &dynamoCourses{s: s} }

func (r *dynamoCourses) CreateCourse(ctx context.Context, c Course, p auth.Principal, e audit.Entry) error {
	c.SetKeys()
	courseItem, err := store.PutNewItem(c)
	if err != nil {
		return err
	}
	listing, err := catalog.NewListingItem(c.Listing())
	if err != nil {
		return err
	}
	au, err := audit.Item(e, c.CreatedAt)
	if err != nil {
		return err
	}
	return r.s.Transact(ctx, []types.TransactWriteItem{courseItem, listing, instructorProfileItem(p, c.CreatedAt), au})
}

// instructorProfileItem creates the instructor's profile on first use and keeps its e-mail (for
// payout statements) without touching the Connect fields.
func instructorProfileItem(p auth.Principal, now time.Time) types.TransactWriteItem {
	vals := map[string]types.AttributeValue{":t": store.S("instructor"), ":i": store.S(p.UserID), ":now": store.S(rfc3339Nano(now.UTC()))}
	expr := "SET #t = :t, id = :i, createdAt = if_not_exists(createdAt, :now), updatedAt = :now"
	if p.Email != "" {
		expr += ", email = :e"
		vals[":e"] = store.S(p.Email)
	}
	return types.TransactWriteItem{Update: &types.Update{Key: store.InstructorKey(p.UserID).Item(),
		UpdateExpression: aws.String(expr), ExpressionAttributeNames: map[string]string{"#t": "type"},
		ExpressionAttributeValues: vals}}
}

func (r *dynamoCourses) SaveCourse(ctx context.Context, c Course, read, publishedDelta int64, e audit.Entry) error {
	c.SetKeys()
	put, err := putVersioned(c, read)
	if err != nil {
		return err
	}
	au, err := audit.Item(e, c.UpdatedAt)
	if err != nil {
		return err
	}
	items := store.Append([]types.TransactWriteItem{put, catalog.UpdateFieldsItem(c.Listing()), au}, publishedGauge(publishedDelta))
	return r.s.Transact(ctx, items)
}

func (r *dynamoCourses) AddLesson(ctx context.Context, l Lesson) error {
	k := store.LessonKey(l.CourseID, l.ID)
	l.PK, l.SK, l.Type = k.PK, k.SK, "lesson"
	put, err := store.PutNewItem(l)
	if err != nil {
		return err
	}
	// The condition caps the lessons and keeps the course's version moving so a concurrent PATCH
	// retries on the fresh item.
	count := types.TransactWriteItem{Update: &types.Update{
		Key:                      store.CourseKey(l.CourseID).Item(),
		UpdateExpression:         aws.String("ADD lessonCount :one, #v :one SET updatedAt = :now"),
		ConditionExpression:      aws.String("attribute_exists(PK) AND lessonCount < :max"),
		ExpressionAttributeNames: map[string]string{"#v": "version"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":one": store.N(1), ":max": store.N(MaxLessons),
			":now": store.S(rfc3339Nano(l.CreatedAt.UTC()))},
	}}
	return r.s.Transact(ctx, []types.TransactWriteItem{count, put})
}

func (r *dynamoCourses) Lessons(ctx context.Context, courseID string) ([]Lesson, error) {
	out, err := store.QueryAll[Lesson](ctx, r.s, &dynamodb.QueryInput{
		KeyConditionExpression: aws.String("PK = :pk AND begins_with(SK, :pre)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": store.S(store.CourseKey(courseID).PK),
			":pre": store.S(store.LessonPrefix)},
		ConsistentRead: aws.Bool(true),
	})
	if out == nil {
		out = []Lesson{}
	}
	return out, err
}

func (r *dynamoCourses) SetUploaded(ctx context.Context, l Lesson, ok bool) error {
	return r.s.Update(ctx, &dynamodb.UpdateItemInput{
		Key:                       store.LessonKey(l.CourseID, l.ID).Item(),
		UpdateExpression:          aws.String("SET uploaded = :u"),
		ConditionExpression:       aws.String("attribute_exists(PK)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":u": &types.AttributeValueMemberBOOL{Value: ok}},
	}, nil)
}

func (r *dynamoCourses) Listing(ctx context.Context, courseID string) (catalog.Listing, error) {
	var l catalog.Listing
	err := r.s.GetConsistent(ctx, store.ListingKey(courseID), &l)
	if apperr.Is(err, apperr.NotFound) {
		return catalog.Listing{CourseID: courseID}, nil
	}
	return l, err
}

// ----- lists -----

func (r *dynamoCourses) InstructorCourses(ctx context.Context, instructorID string, limit int32, cursor string) (store.Page[Course], error) {
	pk, _ := store.InstructorCoursesGSI1(instructorID, time.Time{}, "")
	return store.NewestPage[Course](ctx, r.s, "instructor-courses#"+instructorID, pk, limit, cursor)
}

func (r *dynamoCourses) MyCourses(ctx context.Context, userID string, limit int32, cursor string) (store.Page[Enrollment], error) {
	pk, _ := store.MyCoursesGSI1(userID, time.Time{}, "")
	return store.NewestPage[Enrollment](ctx, r.s, "my-courses#"+userID, pk, limit, cursor)
}

func (r *dynamoCourses) CourseReviews(ctx context.Context, courseID string, limit int32, cursor string) (store.Page[Review], error) {
	pk, _ := store.CourseReviewsGSI1(courseID, time.Time{}, "")
	return store.NewestPage[Review](ctx, r.s, "reviews#"+courseID, pk, limit, cursor)
}

func (r *dynamoCourses) Sales(ctx context.Context, instructorID string, limit int32, cursor string) (store.Page[Sale], error) {
	return store.QueryPage[Sale](ctx, r.s, "sales#"+instructorID,
		partitionSlice(store.InstructorBalanceKey(instructorID).PK, store.SalePrefix), limit, cursor)
}

func (r *dynamoCourses) InstructorPayouts(ctx context.Context, instructorID string, limit int32, cursor string) (store.Page[Payout], error) {
	return store.QueryPage[Payout](ctx, r.s, "payouts#"+instructorID,
		partitionSlice(store.InstructorBalanceKey(instructorID).PK, store.PayoutPrefix), limit, cursor)
}

// partitionSlice queries one partition's items of one kind, newest (highest sort key) first.
func partitionSlice(pk, prefix string) *dynamodb.QueryInput {
	return &dynamodb.QueryInput{
		KeyConditionExpression:    aws.String("PK = :pk AND begins_with(SK, :pre)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": store.S(pk), ":pre": store.S(prefix)},
		ScanIndexForward:          aws.Bool(false),
	}
}

func (r *dynamoCourses) PeriodPayouts(ctx context.Context, period, status string, limit int32, cursor string) (store.Page[Payout], error) {
	ix := manifest.GSI2
	pk, _ := store.PayoutsGSI2(period, "", "")
	in := &dynamodb.QueryInput{
		IndexName:                 aws.String(ix.Name),
		KeyConditionExpression:    aws.String("#pk = :pk"),
		ExpressionAttributeNames:  map[string]string{"#pk": ix.PK},
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": store.S(pk)},
	}
	if status != "" {
		in.KeyConditionExpression = aws.String("#pk = :pk AND begins_with(#sk, :st)")
		in.ExpressionAttributeNames["#sk"] = ix.SK
		in.ExpressionAttributeValues[":st"] = store.S(status + "#")
	}
	return store.QueryPage[Payout](ctx, r.s, "admin-payouts#"+period+"#"+status, in, limit, cursor)
}

// NextRelease reads a bounded slice of the instructor's partition oldest first (sale ids are time
// ordered).
func (r *dynamoCourses) NextRelease(ctx context.Context, instructorID string, since time.Time) (*time.Time, error) {
	floor := store.SalePrefix + prefixSale + idFloor(since)
	in := &dynamodb.QueryInput{
		TableName:              &r.s.Table,
		KeyConditionExpression: aws.String("PK = :pk AND SK BETWEEN :from AND :to"),
		FilterExpression:       aws.String("released = :f"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": store.S(store.InstructorBalanceKey(instructorID).PK),
			":from": store.S(floor), ":to": store.S(store.SalePrefix + "~"), ":f": &types.AttributeValueMemberBOOL{Value: false}},
		ProjectionExpression: aws.String("releaseAt"),
	}
	p := dynamodb.NewQueryPaginator(r.s.DB, in)
	for p.HasMorePages() {
		res, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		var sales []Sale
		if err := unmarshalList(res.Items, &sales); err != nil {
			return nil, err
		}
		if len(sales) > 0 {
			t := sales[0].ReleaseAt
			return &t, nil
		}
	}
	return nil, nil
}

func (r *dynamoCourses) LedgerEntries(ctx context.Context, instructorID string, from, to time.Time, max int32) ([]LedgerEntry, error) {
	res, err := r.s.DB.Query(ctx, &dynamodb.QueryInput{
		TableName:              &r.s.Table,
		KeyConditionExpression: aws.String("PK = :pk AND SK BETWEEN :from AND :to"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk":   store.S(store.InstructorBalanceKey(instructorID).PK),
			":from": store.S(store.LedgerPrefix + from.UTC().Format(time.RFC3339Nano)),
			":to":   store.S(store.LedgerPrefix + to.UTC().Format(time.RFC3339Nano) + "~"),
		},
		Limit: aws.Int32(max),
	})
	if err != nil {
		return nil, apperr.Wrap(err, apperr.Unavailable, "query failed")
	}
	var out []LedgerEntry
	err = unmarshalList(res.Items, &out)
	return out, err
}

func (r *dynamoCourses) Metrics(ctx context.Context, period string) (mktmetrics.Metrics, error) {
	return mktmetrics.Read(ctx, r.s, period)
}

func (r *dynamoCourses) WriteAudit(ctx context.Context, e audit.Entry) error {
	return audit.Write(ctx, r.s, e)
}

// publishedGauge moves the published-courses gauge.
func publishedGauge(delta int64) *types.TransactWriteItem {
	return store.AddCounters(store.MarketplaceMetricsCurrentKey(), map[string]int64{mktmetrics.GaugePublishedCourses: delta})
}
