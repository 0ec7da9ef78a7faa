package licensing

import (
	"context"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/liberation/monetization/shared/audit"
	"github.com/liberation/monetization/shared/store"
)

// DeleteAddress deletes the e-mail directory entry of email while it names userID (the erasure,
// privacy_erase.go): an entry moved to another user meanwhile is theirs and stays (a failed
// condition).
func (r *dynamoRepo) DeleteAddress(ctx context.Context, email, userID string) error {
	return txErr(r.s.Transact(ctx, []types.TransactWriteItem{{Delete: &types.Delete{
		Key:                       store.UserByEmailKey(strings.ToLower(email)).Item(),
		ConditionExpression:       aws.String("userId = :me"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":me": store.S(userID)},
	}}}), partAddress)
}

// EraseSupportEmail removes a license branding's support address while it is the one read (the
// erasure of the person it belonged to: e-mails then show the platform's support address), with
// its audit record, in one transaction. A failed condition: the branding changed (read again).
func (r *dynamoRepo) EraseSupportEmail(ctx context.Context, licenseID, read string, a audit.Entry, at time.Time) error {
	au, err := audit.Item(a, at)
	if err != nil {
		return err
	}
	upd := types.TransactWriteItem{Update: &types.Update{
		Key:                      store.LicenseBrandingKey(licenseID).Item(),
		UpdateExpression:         aws.String("SET #b.#se = :none, updatedAt = :at, updatedBy = :by"),
		ConditionExpression:      aws.String("#b.#se = :read"),
		ExpressionAttributeNames: map[string]string{"#b": "branding", "#se": "supportEmail"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":none": store.S(""), ":read": store.S(read),
			":at": store.S(at.UTC().Format(time.RFC3339Nano)), ":by": store.S(a.Actor)},
	}}
	return txErr(r.s.Transact(ctx, []types.TransactWriteItem{upd, au}), partBranding)
}
