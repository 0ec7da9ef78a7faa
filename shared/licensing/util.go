package licensing

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/licensing/licensekey"
	"github.com/liberation/monetization/shared/store"
)

func decodeItem(item map[string]types.AttributeValue, out any) error {
	if err := attributevalue.UnmarshalMap(item, out); err != nil {
		return apperr.Wrap(err, apperr.Internal, "decode item")
	}
	return nil
}

func backoff(ctx context.Context, attempt int) error { return store.Backoff(ctx, attempt) }

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func boolStr(b bool) string { return strconv.FormatBool(b) }

// publicKey decodes a stored verification key.
func publicKey(rec SigningKeyRecord) (ed25519.PublicKey, bool) {
	b, err := base64.RawURLEncoding.DecodeString(rec.X)
	if err != nil || len(b) != ed25519.PublicKeySize || licensekey.KeyID(b) != rec.KeyID {
		return nil, false
	}
	return ed25519.PublicKey(b), true
}
