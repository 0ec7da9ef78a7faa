// Package storetest holds what the areas' in-memory fakes share: a value copied the way DynamoDB
// stores and returns it, with DynamoDB's refusal of an empty string as an index key, so that a fake
// neither aliases what a caller keeps nor accepts an item the table would refuse.
package storetest

import (
	"fmt"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/liberation/monetization/shared/manifest"
)

// RoundTrip copies an item as written (keys set) through DynamoDB's encoding. It panics, as a
// ValidationException would fail the write, when an index key attribute is an empty string.
func RoundTrip[T any](v T) T {
	item, err := attributevalue.MarshalMap(v)
	if err != nil {
		panic(err)
	}
	for _, ix := range manifest.Indexes {
		for _, k := range []string{ix.PK, ix.SK} {
			if s, ok := item[k].(*types.AttributeValueMemberS); ok && s.Value == "" {
				panic(fmt.Sprintf("ValidationException: empty string for index key %s in %T", k, v))
			}
		}
	}
	var out T
	if err := attributevalue.UnmarshalMap(item, &out); err != nil {
		panic(err)
	}
	return out
}

// Copy copies a value through DynamoDB's encoding, for fakes that keep domain values whose keys
// the repository sets only when it writes them.
func Copy[T any](v T) T {
	item, err := attributevalue.MarshalMap(v)
	if err != nil {
		panic(err)
	}
	var out T
	if err := attributevalue.UnmarshalMap(item, &out); err != nil {
		panic(err)
	}
	return out
}
