package store

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/liberation/monetization/shared/apperr"
)

// BatchGetAPI is the DynamoDB call behind BatchGet. It is not part of DynamoAPI so that the fakes
// and wrappers of DynamoAPI need not grow; the real client has it, and functions that use it list
// dynamodb:BatchGetItem in their manifest entry.
type BatchGetAPI interface {
	BatchGetItem(context.Context, *dynamodb.BatchGetItemInput, ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error)
}

// maxBatchGet is DynamoDB's limit of keys per BatchGetItem call.
const maxBatchGet = 100

// BatchGet reads the items at keys (eventually consistent), 100 keys per call, retrying the keys
// DynamoDB returns unprocessed a few times. Missing items are simply absent from the result.
// Callers bound len(keys) (a friends list, a class): the cost is one read per key.
func BatchGet[T any](ctx context.Context, s *Store, keys []Key) ([]T, error) {
	api, ok := s.DB.(BatchGetAPI)
	if !ok {
		return nil, apperr.New(apperr.Internal, "the DynamoDB client cannot BatchGetItem")
	}
	var out []T
	for start := 0; start < len(keys); start += maxBatchGet {
		end := min(start+maxBatchGet, len(keys))
		pending := make([]map[string]types.AttributeValue, 0, end-start)
		for _, k := range keys[start:end] {
			pending = append(pending, k.Item())
		}
		for attempt := 0; len(pending) > 0; attempt++ {
			if attempt == 5 {
				return nil, apperr.New(apperr.Unavailable, "batch read throttled")
			}
			if attempt > 0 { // unprocessed keys mean throttling: back off before asking again
				select {
				case <-ctx.Done():
					return nil, apperr.Wrap(ctx.Err(), apperr.Unavailable, "batch read interrupted")
				case <-time.After(time.Duration(attempt*attempt) * 25 * time.Millisecond):
				}
			}
			res, err := api.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{
				RequestItems: map[string]types.KeysAndAttributes{s.Table: {Keys: pending}},
			})
			if err != nil {
				return nil, apperr.Wrap(err, apperr.Unavailable, "batch read failed")
			}
			var items []T
			if err := attributevalue.UnmarshalListOfMaps(res.Responses[s.Table], &items); err != nil {
				return nil, apperr.Wrap(err, apperr.Internal, "decode batch")
			}
			out = append(out, items...)
			pending = res.UnprocessedKeys[s.Table].Keys
		}
	}
	return out, nil
}

// ScanAPI is the DynamoDB call behind a table walk. Like BatchGetAPI it is not part of DynamoAPI:
// only the functions the manifest lists as table walkers (manifest.TableWalkers: a backfill, a
// migration) are granted dynamodb:Scan; no request path scans.
type ScanAPI interface {
	Scan(context.Context, *dynamodb.ScanInput, ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error)
}
