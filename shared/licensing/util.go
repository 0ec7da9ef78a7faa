package licensing

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"maps"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/httpapi"
	"github.com/liberation/monetization/shared/ids"
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

// retryable reports a write that lost a race: read again and retry.
func retryable(err error) bool { return store.LostRace(err) }

// now returns the deps' time in UTC.
func (d *Deps) now() time.Time { return d.Clock.Now().UTC() }

// errRetiredKey answers a write refused because its signing key was retired meanwhile.
var errRetiredKey = apperr.New(apperr.Unavailable, "the license signing key was retired; the key was not issued (rotate the signing key parameter, then retry)")

// getLicense reads a license consistently; an id of the wrong shape is simply not found.
func getLicense(ctx context.Context, r licenseReader, id string) (License, error) {
	if !ids.Valid("lic", id) {
		return License{}, apperr.New(apperr.NotFound, "license not found")
	}
	return r.License(ctx, id)
}

// listLimits are the ?limit= bounds of licensing's lists.
var listLimits = httpapi.Limits{Default: 20, Max: 100, EmptyCursor: true}

// listAnswer completes an httpapi.ListPage answer with the list's other fields (extra).
func listAnswer(res httpapi.Response, err error, extra map[string]any) (httpapi.Response, error) {
	if err != nil {
		return httpapi.Response{}, err
	}
	body, ok := res.Body.(map[string]any)
	if !ok {
		return httpapi.Response{}, apperr.New(apperr.Internal, "a list answer is not an object")
	}
	maps.Copy(body, extra)
	return res, nil
}
