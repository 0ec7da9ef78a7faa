//go:build integration

package e2e

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/liberation/monetization/infra/local/localtest"
	"github.com/liberation/monetization/shared/blob"
	"github.com/liberation/monetization/shared/manifest"
	"github.com/liberation/monetization/shared/marketplace/catalog"
	"github.com/liberation/monetization/shared/marketplace/catalog/catalogtest"
	"github.com/liberation/monetization/shared/store"
)

// GET /courses at 1,000 and 10,000 published courses: the real search handler (its Lambda
// signature, with the API Gateway event) on moto's DynamoDB and S3, the request mix of
// catalogtest.SyntheticQueries. It reports p50/p99 of the handler, the DynamoDB calls per request
// (reads-per-op: the claim is that it does not grow with the catalog) and the S3 reads per request
// once the snapshot is loaded, plus the snapshot's size and the builder's time. Figures in
// docs/performance.md:
//
//	go test -run '^$' -bench SearchCourses -benchtime 300x ./infra/local/e2e/
func BenchmarkSearchCourses(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("courses=%d", n), func(b *testing.B) {
			fx := searchFixture(b, n)
			fx.db.calls.Store(0)
			fx.blobs.gets.Store(0)
			lat := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				ev := fx.events[i%len(fx.events)]
				start := time.Now()
				res, err := fx.handler(context.Background(), ev)
				lat = append(lat, time.Since(start))
				if err != nil || res.StatusCode != 200 {
					b.Fatalf("%s: %d %s %v", ev.RawQueryString, res.StatusCode, res.Body, err)
				}
			}
			b.StopTimer()
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(lat[(len(lat)-1)*99/100].Microseconds())/1000, "p99-ms")
			b.ReportMetric(float64(fx.db.calls.Load())/float64(b.N), "dynamodb-calls/op")
			b.ReportMetric(float64(fx.blobs.gets.Load())/float64(b.N), "s3-gets/op")
			b.ReportMetric(float64(fx.snapshotBytes), "snapshot-bytes")
			b.ReportMetric(fx.buildTime.Seconds()*1000, "build-ms")
			b.ReportMetric(fx.loadTime.Seconds()*1000, "first-request-ms")
		})
	}
}

type searchBench struct {
	handler       func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error)
	events        []events.APIGatewayV2HTTPRequest
	db            *countingDB
	blobs         *countingBlobs
	snapshotBytes int
	buildTime     time.Duration
	loadTime      time.Duration
}

var searchFixtures = map[int]*searchBench{}

// searchFixture fills a fresh table with n published listings (once per size: a benchmark function
// runs more than once), builds the snapshot with the real builder and warms the handler.
func searchFixture(b *testing.B, n int) *searchBench {
	b.Helper()
	if fx, ok := searchFixtures[n]; ok {
		return fx
	}
	env := localtest.New(b)
	ls := catalogtest.SyntheticListings(n, 1)
	db := dynamoFromEnv(b)
	for start := 0; start < len(ls); start += 25 {
		var reqs []types.WriteRequest
		for _, l := range ls[start:min(start+25, len(ls))] {
			item, err := store.Marshal(l)
			if err != nil {
				b.Fatal(err)
			}
			reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: item}})
		}
		if _, err := db.BatchWriteItem(context.Background(), &dynamodb.BatchWriteItemInput{
			RequestItems: map[string][]types.WriteRequest{env.Resources.Table: reqs}}); err != nil {
			b.Fatal(err)
		}
	}
	fn := manifest.MustByName("search-courses")
	blobs, err := blob.From(env.RuntimeFor(b, fn))
	if err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	rep, err := (&catalog.Builder{Store: env.Store(), Blobs: blobs, Clock: env.Runtime.Clock}).Rebuild(context.Background())
	if err != nil || rep.Published != n {
		b.Fatalf("rebuild: %+v %v", rep, err)
	}
	fx := &searchBench{snapshotBytes: rep.Bytes, buildTime: time.Since(start)}
	fx.db = &countingDB{DynamoAPI: env.Store().DB}
	fx.blobs = &countingBlobs{Store: blobs}
	st := *env.Store()
	st.DB = fx.db
	fx.handler = catalog.HandleSearchCourses(fn, &catalog.Reader{Store: &st, Blobs: fx.blobs})
	base := events.APIGatewayV2HTTPRequest{Version: "2.0", RouteKey: fn.RouteKey(), RawPath: "/courses",
		Headers: map[string]string{"accept": "application/json"}}
	base.RequestContext.HTTP.Method, base.RequestContext.HTTP.Path, base.RequestContext.RequestID = "GET", "/courses", "bench"
	for _, q := range catalogtest.SyntheticQueries(ls) {
		ev := base
		ev.QueryStringParameters = q
		v := url.Values{}
		for k, x := range q {
			v.Set(k, x)
		}
		ev.RawQueryString = v.Encode()
		fx.events = append(fx.events, ev)
	}
	start = time.Now()
	if res, err := fx.handler(context.Background(), fx.events[0]); err != nil || res.StatusCode != 200 {
		b.Fatalf("warm-up: %d %s %v", res.StatusCode, res.Body, err)
	}
	fx.loadTime = time.Since(start)
	searchFixtures[n] = fx
	return fx
}

// countingDB counts every DynamoDB call the handler makes.
type countingDB struct {
	store.DynamoAPI
	calls atomic.Int64
}

func (c *countingDB) GetItem(ctx context.Context, in *dynamodb.GetItemInput, o ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	c.calls.Add(1)
	return c.DynamoAPI.GetItem(ctx, in, o...)
}

func (c *countingDB) Query(ctx context.Context, in *dynamodb.QueryInput, o ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	c.calls.Add(1)
	return c.DynamoAPI.Query(ctx, in, o...)
}

// countingBlobs counts S3 object reads.
type countingBlobs struct {
	blob.Store
	gets atomic.Int64
}

func (c *countingBlobs) Get(ctx context.Context, key string) ([]byte, error) {
	c.gets.Add(1)
	return c.Store.Get(ctx, key)
}

func (c *countingDB) PutItem(ctx context.Context, in *dynamodb.PutItemInput, o ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	c.calls.Add(1)
	return c.DynamoAPI.PutItem(ctx, in, o...)
}

func (c *countingDB) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, o ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	c.calls.Add(1)
	return c.DynamoAPI.UpdateItem(ctx, in, o...)
}

func (c *countingDB) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, o ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	c.calls.Add(1)
	return c.DynamoAPI.TransactWriteItems(ctx, in, o...)
}
