package store

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/liberation/monetization/shared/manifest"
	"github.com/liberation/monetization/shared/platform"
)

// Open returns the process's Store on TABLE_NAME (one DynamoDB client per process). The cursor key
// is read from the secrets on first use, so opening makes no network call.
func Open(rt *platform.Runtime) *Store {
	return platform.Shared(rt, "store", func() *Store {
		s := New(dynamodb.NewFromConfig(rt.AWS, func(o *dynamodb.Options) { o.BaseEndpoint = rt.Endpoint("DYNAMODB") }), rt.Config.TableName, rt.Clock, nil)
		s.Cursor = NewLazyCursorCodec(func(ctx context.Context) ([]byte, error) {
			v, err := rt.Secrets.Get(ctx, manifest.EnvCursorSecret, manifest.EnvCursorSecretName)
			return []byte(v), err
		})
		return s
	})
}
