package store

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/liberation/monetization/shared/httpapi"
	"github.com/liberation/monetization/shared/manifest"
	"github.com/liberation/monetization/shared/platform"
)

// The store is the HTTP frame's per-user request counter: every function that links the table can
// carry a manifest RateLimit (platform.Build applies it).
func init() {
	platform.RegisterRequestCounter(func(rt *platform.Runtime) httpapi.RequestCounter { return Open(rt) })
}

// rateLimitGrace keeps a window's item a little past its end before TTL may delete it (TTL deletes
// late anyway; a window's key names its start, so a late delete never mixes two windows).
const rateLimitGrace = time.Minute

// TakeRequest counts one request of user to function in the fixed window of length window holding
// now, unless the window already counted limit: it reports whether the request fits, and when the
// window ends. One conditional UpdateItem (ADD, condition n < limit, TTL on first write); a refused
// request writes nothing, so a flood costs one failed condition per request and never grows the
// item (decision 0077).
func (s *Store) TakeRequest(ctx context.Context, function, userID string, window time.Duration, limit int64,
	now time.Time) (ok bool, resets time.Time, err error) {
	start := now.Truncate(window)
	resets = start.Add(window)
	err = s.Update(ctx, &dynamodb.UpdateItemInput{
		Key:                      RateLimitKey(function, userID, window, start).Item(),
		UpdateExpression:         aws.String("ADD n :one SET #t = :t, #ttl = if_not_exists(#ttl, :ttl)"),
		ConditionExpression:      aws.String("attribute_not_exists(n) OR n < :limit"),
		ExpressionAttributeNames: map[string]string{"#t": "type", "#ttl": manifest.AttrTTL},
		ExpressionAttributeValues: map[string]types.AttributeValue{":one": N(1), ":limit": N(limit),
			":t": S("rate-window"), ":ttl": N(resets.Add(rateLimitGrace).Unix())},
	}, nil)
	if IsConditionFailed(err) {
		return false, resets, nil
	}
	return err == nil, resets, err
}
