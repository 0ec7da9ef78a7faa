package store

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// go test -run '^$' -bench . -benchmem ./shared/store/
func BenchmarkCursorRoundTrip(b *testing.B) {
	c := NewCursorCodec([]byte("bench-secret-0123456789"))
	lek := map[string]types.AttributeValue{
		"PK": &types.AttributeValueMemberS{Value: "USER#u1"},
		"SK": &types.AttributeValueMemberS{Value: "PAY#01M8H6RBR8SYR814D59HXNKXM0"},
	}
	ctx := context.Background()
	for b.Loop() {
		s, err := c.Encode(ctx, "payments#u1", lek)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := c.Decode(ctx, "payments#u1", s); err != nil {
			b.Fatal(err)
		}
	}
}
