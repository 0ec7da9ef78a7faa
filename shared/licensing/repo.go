package licensing

import (
	"context"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/ids"
	"github.com/liberation/monetization/shared/manifest"
	"github.com/liberation/monetization/shared/store"
)

// getLicense reads a license consistently; an id of the wrong shape is simply not found.
func getLicense(ctx context.Context, s Reader, id string) (License, error) {
	var l License
	if !ids.Valid("lic", id) {
		return l, apperr.New(apperr.NotFound, "license not found")
	}
	if err := s.GetConsistent(ctx, store.LicenseKey(id), &l); err != nil {
		if apperr.Is(err, apperr.NotFound) {
			return l, apperr.New(apperr.NotFound, "license not found")
		}
		return l, err
	}
	return l, nil
}

// setKeys fills the license's keys.
func (l *License) setKeys() {
	k := store.LicenseKey(l.ID)
	l.PK, l.SK, l.Type = k.PK, k.SK, "license"
	l.GSI1PK, l.GSI1SK = store.LicensesGSI1(l.CreatedAt, l.ID)
}

// termsUpdate is the transaction item writing next's terms and lifecycle over prev: every attribute
// but the seat count (which only seat transactions change), conditioned on prev's version and seat
// count, so the gauge deltas computed from prev are exactly right when it lands.
func termsUpdate(prev, next License) (types.TransactWriteItem, error) {
	item, err := store.Marshal(next)
	if err != nil {
		return types.TransactWriteItem{}, err
	}
	for _, k := range []string{manifest.AttrPK, manifest.AttrSK, "seatsUsed", "createdAt", "createdBy", "id", "GSI1PK", "GSI1SK", "type"} {
		delete(item, k)
	}
	names := make([]string, 0, len(item))
	for k := range item {
		names = append(names, k)
	}
	sort.Strings(names)
	var set, remove []string
	attrNames := map[string]string{"#v": "version", "#used": "seatsUsed"}
	values := map[string]types.AttributeValue{":prevV": store.N(prev.Version), ":prevUsed": store.N(prev.SeatsUsed)}
	for i, n := range names {
		ph, vh := "#a"+strconv.Itoa(i), ":a"+strconv.Itoa(i)
		attrNames[ph] = n
		if _, isNull := item[n].(*types.AttributeValueMemberNULL); isNull {
			remove = append(remove, ph)
			continue
		}
		values[vh] = item[n]
		set = append(set, ph+" = "+vh)
	}
	expr := "SET " + strings.Join(set, ", ")
	if len(remove) > 0 {
		expr += " REMOVE " + strings.Join(remove, ", ")
	}
	return types.TransactWriteItem{Update: &types.Update{
		Key:                       store.LicenseKey(prev.ID).Item(),
		UpdateExpression:          aws.String(expr),
		ConditionExpression:       aws.String("#v = :prevV AND #used = :prevUsed"),
		ExpressionAttributeNames:  attrNames,
		ExpressionAttributeValues: values,
	}}, nil
}

// putItem is a transaction item that creates v at its key, failing if it exists.
func putNew(v any) (types.TransactWriteItem, error) {
	item, err := store.Marshal(v)
	if err != nil {
		return types.TransactWriteItem{}, err
	}
	return types.TransactWriteItem{Put: &types.Put{Item: item, ConditionExpression: aws.String("attribute_not_exists(PK)")}}, nil
}

// retryable reports a write that lost a race: read again and retry.
func retryable(err error) bool { return store.LostRace(err) }

// failedAt reports whether the transaction failed on the condition of item i.
func failedAt(err error, i int) bool {
	for _, f := range store.FailedItems(err) {
		if f == i {
			return true
		}
	}
	return false
}

// licensesPage lists one page of licenses, newest first (GSI1; eventually consistent).
func licensesPage(ctx context.Context, s *store.Store, limit int32, cursor string) (store.Page[License], error) {
	return store.NewestPage[License](ctx, s, "licenses", store.LicensesPK, limit, cursor)
}

// eachLicense calls f for every license (oldest first, page by page); for the jobs.
func eachLicense(ctx context.Context, s *store.Store, f func(License) error) error {
	in := &dynamodb.QueryInput{
		TableName:                 &s.Table,
		IndexName:                 aws.String(manifest.GSI1.Name),
		KeyConditionExpression:    aws.String("GSI1PK = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": store.S(store.LicensesPK)},
		Limit:                     aws.Int32(100),
	}
	p := dynamodb.NewQueryPaginator(s.DB, in)
	for p.HasMorePages() {
		res, err := p.NextPage(ctx)
		if err != nil {
			return apperr.Wrap(err, apperr.Unavailable, "query failed")
		}
		for _, it := range res.Items {
			var l License
			if err := decodeItem(it, &l); err != nil {
				return err
			}
			if err := f(l); err != nil {
				return err
			}
		}
	}
	return nil
}

// usageAdd is a transaction item adding deltas to a license's usage counters for the month of at.
func usageAdd(licenseID string, at time.Time, deltas map[string]int64) *types.TransactWriteItem {
	return store.AddCounters(store.LicenseUsageKey(licenseID, month(at)), deltas)
}

// now returns the deps' time in UTC.
func (d *Deps) now() time.Time { return d.Clock.Now().UTC() }

// signedWith is the transaction item that makes a write carrying a key signed with kid commit only
// while kid is published and not retired: a container that cached its signer before the key was
// retired cannot write what it signs (docs/runbooks/rotate-license-signing-key.md).
func signedWith(kid string) types.TransactWriteItem {
	return types.TransactWriteItem{ConditionCheck: &types.ConditionCheck{
		Key:                       store.SigningKeyKey(kid).Item(),
		ConditionExpression:       aws.String("attribute_exists(PK) AND (attribute_not_exists(retired) OR retired = :false)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":false": &types.AttributeValueMemberBOOL{Value: false}},
	}}
}

// errRetiredKey answers a write refused because its signing key was retired meanwhile.
var errRetiredKey = apperr.New(apperr.Unavailable, "the license signing key was retired; the key was not issued (rotate the signing key parameter, then retry)")
