//go:build integration

package marketplace

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/liberation/monetization/infra/local/localtest"
	"github.com/liberation/monetization/shared/marketplace/catalog"
	"github.com/liberation/monetization/shared/marketplace/ledger"
	"github.com/liberation/monetization/shared/store"
)

// The DynamoDB books on moto keep the contract the in-memory books keep (books_contract_test.go).
func TestDynamoBooksContract(t *testing.T) {
	env := localtest.New(t)
	s := env.Store()
	ctx := context.Background()
	testBooksContract(t, booksHarness{books: NewBooks(s),
		seedCourse: func(c Course) {
			item, err := store.PutNewItem(c)
			if err != nil {
				t.Fatal(err)
			}
			listing, err := catalog.NewListingItem(c.Listing())
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Transact(ctx, []types.TransactWriteItem{item, listing}); err != nil {
				t.Fatal(err)
			}
		},
		seedInstructor: func(in Instructor) {
			k := store.InstructorKey(in.ID)
			in.PK, in.SK, in.Type = k.PK, k.SK, "instructor"
			if err := s.Put(ctx, in, "", nil, nil); err != nil {
				t.Fatal(err)
			}
		},
		ledgerSum: func(id string) ledger.Buckets {
			entries, err := store.QueryAll[LedgerEntry](ctx, s, &dynamodb.QueryInput{
				KeyConditionExpression: aws.String("PK = :pk AND begins_with(SK, :pre)"),
				ExpressionAttributeValues: map[string]types.AttributeValue{":pk": store.S(store.InstructorBalanceKey(id).PK),
					":pre": store.S(store.LedgerPrefix)},
				ConsistentRead: aws.Bool(true),
			})
			if err != nil {
				t.Fatal(err)
			}
			var sum ledger.Buckets
			for _, e := range entries {
				sum = sum.Plus(e.Buckets)
			}
			return sum
		},
		listing: func(id string) map[string]int64 {
			res, err := s.DB.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.Table, Key: store.ListingKey(id).Item(),
				ConsistentRead: aws.Bool(true)})
			if err != nil {
				t.Fatal(err)
			}
			return store.Numbers(res.Item)
		},
	})
}

// The DynamoDB courses on moto keep the contract the in-memory ones keep (courses_contract_test.go).
func TestDynamoCoursesContract(t *testing.T) {
	s := localtest.New(t).Store()
	testCoursesContract(t, NewBooks(s), NewCourses(s))
}
