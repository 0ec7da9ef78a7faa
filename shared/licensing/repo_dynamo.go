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
	"github.com/liberation/monetization/shared/audit"
	"github.com/liberation/monetization/shared/ids"
	"github.com/liberation/monetization/shared/manifest"
	"github.com/liberation/monetization/shared/store"
)

// The DynamoDB implementation of licensing's ports: the only file of the area with SDK inputs and
// expressions. readerRepo serves the exported reads over any Reader, writerRepo the usage signals
// over any Writer (other areas pass their *store.Store, or a wrapper of it), and dynamoRepo adds
// what needs the table itself (queries by index, paginated lists).

// readerRepo implements the read ports over a Reader.
type readerRepo struct{ r Reader }

// writerRepo implements usageRecorder over a Writer.
type writerRepo struct {
	readerRepo
	w Writer
}

// dynamoRepo implements every port over the single table.
type dynamoRepo struct {
	writerRepo
	s *store.Store
}

func newDynamoRepo(s *store.Store) *dynamoRepo {
	return &dynamoRepo{writerRepo: writerRepo{readerRepo: readerRepo{r: s}, w: s}, s: s}
}

var (
	_ licenseReader    = (*readerRepo)(nil)
	_ membershipReader = (*readerRepo)(nil)
	_ orgAdminReader   = (*readerRepo)(nil)
	_ brandingReader   = (*readerRepo)(nil)
	_ usageRecorder    = (*writerRepo)(nil)
	_ licenseStore     = (*dynamoRepo)(nil)
	_ seatStore        = (*dynamoRepo)(nil)
	_ brandingStore    = (*dynamoRepo)(nil)
	_ usageRecorder    = (*dynamoRepo)(nil)
	_ usageStore       = (*dynamoRepo)(nil)
	_ signingKeys      = (*dynamoRepo)(nil)
)

// get reads k into out; ok is false when the item is absent.
func get(ctx context.Context, r Reader, k store.Key, out any) (bool, error) {
	err := r.GetConsistent(ctx, k, out)
	if apperr.Is(err, apperr.NotFound) {
		return false, nil
	}
	return err == nil, err
}

// ----- reads -----

func (r readerRepo) License(ctx context.Context, id string) (License, error) {
	var l License
	if !ids.Valid("lic", id) {
		return l, apperr.New(apperr.NotFound, "license not found")
	}
	ok, err := get(ctx, r.r, store.LicenseKey(id), &l)
	if err == nil && !ok {
		err = apperr.New(apperr.NotFound, "license not found")
	}
	return l, err
}

func (r readerRepo) Membership(ctx context.Context, userID string) (Membership, bool, error) {
	var m Membership
	ok, err := get(ctx, r.r, store.SeatHolderKey(userID), &m)
	return m, ok, err
}

func (r readerRepo) OrgAdmin(ctx context.Context, licenseID, userID string) (OrgAdmin, bool, error) {
	var a OrgAdmin
	ok, err := get(ctx, r.r, store.LicenseAdminKey(licenseID, userID), &a)
	return a, ok, err
}

func (r readerRepo) Branding(ctx context.Context, licenseID string) (BrandingRecord, bool, error) {
	var b BrandingRecord
	ok, err := get(ctx, r.r, store.LicenseBrandingKey(licenseID), &b)
	return b, ok, err
}

func (r readerRepo) Seat(ctx context.Context, licenseID, userID string) (Seat, error) {
	var s Seat
	return s, r.r.GetConsistent(ctx, store.LicenseSeatKey(licenseID, userID), &s)
}

func (r readerRepo) Invite(ctx context.Context, hash string) (Invite, error) {
	var inv Invite
	return inv, r.r.GetConsistent(ctx, store.LicenseInviteKey(hash), &inv)
}

func (r readerRepo) UserByEmail(ctx context.Context, email string) (UserByEmail, error) {
	var u UserByEmail
	return u, r.r.GetConsistent(ctx, store.UserByEmailKey(email), &u)
}

func (r readerRepo) AddressEntry(ctx context.Context, email string) (UserByEmail, error) {
	return r.UserByEmail(ctx, email)
}

func (r readerRepo) Usage(ctx context.Context, licenseID, m string) (Usage, bool, error) {
	var u Usage
	ok, err := get(ctx, r.r, store.LicenseUsageKey(licenseID, m), &u)
	return u, ok, err
}

func (r readerRepo) TrueUp(ctx context.Context, licenseID, m string) (TrueUp, bool, error) {
	var t TrueUp
	ok, err := get(ctx, r.r, store.LicenseTrueUpKey(licenseID, m), &t)
	return t, ok, err
}

func (r readerRepo) SigningKey(ctx context.Context, kid string) (SigningKeyRecord, error) {
	var rec SigningKeyRecord
	return rec, r.r.GetConsistent(ctx, store.SigningKeyKey(kid), &rec)
}

// ----- usage signals (any Writer) -----

func (r writerRepo) CountOnce(ctx context.Context, marker store.Key, licenseID string, at time.Time, deltas map[string]int64) error {
	put := types.TransactWriteItem{Put: &types.Put{
		Item:                map[string]types.AttributeValue{"PK": store.S(marker.PK), "SK": store.S(marker.SK), "type": store.S("license-usage-marker")},
		ConditionExpression: aws.String("attribute_not_exists(PK)"),
	}}
	err := r.w.Transact(ctx, store.Append([]types.TransactWriteItem{put}, usageAdd(licenseID, at, deltas)))
	if store.IsConditionFailed(err) {
		return nil // counted already
	}
	return err
}

func (r writerRepo) SaveAddress(ctx context.Context, e UserByEmail) error {
	return r.w.Put(ctx, e, "attribute_not_exists(PK) OR userId = :me", nil,
		map[string]types.AttributeValue{":me": store.S(e.UserID)})
}

func (r writerRepo) MoveAddress(ctx context.Context, e UserByEmail, fromUserID string, a audit.Entry) error {
	put, err := store.PutItem(e)
	if err != nil {
		return err
	}
	put.Put.ConditionExpression = aws.String("userId = :prev")
	put.Put.ExpressionAttributeValues = map[string]types.AttributeValue{":prev": store.S(fromUserID)}
	au, err := audit.Item(a, e.UpdatedAt)
	if err != nil {
		return err
	}
	return txErr(r.w.Transact(ctx, []types.TransactWriteItem{put, au}), partAddress)
}

// usageAdd is a transaction item adding deltas to a license's usage counters for the month of at.
func usageAdd(licenseID string, at time.Time, deltas map[string]int64) *types.TransactWriteItem {
	return store.AddCounters(store.LicenseUsageKey(licenseID, month(at)), deltas)
}

// txErr names the failed conditions of a transaction by the parts its items stand for (parts[i]
// for item i; "" for an item without a condition); any other error is returned as it is.
func txErr(err error, parts ...string) error {
	failed := store.FailedItems(err)
	if len(failed) == 0 {
		return err
	}
	var names []string
	for _, i := range failed {
		if i < len(parts) && parts[i] != "" {
			names = append(names, parts[i])
		}
	}
	return conflict(names...)
}

// ----- licenses -----

func (r *dynamoRepo) LicensesPage(ctx context.Context, limit int32, cursor string) (store.Page[License], error) {
	return store.NewestPage[License](ctx, r.s, "licenses", store.LicensesPK, limit, cursor)
}

func (r *dynamoRepo) EachLicense(ctx context.Context, f func(License) error) error {
	in := &dynamodb.QueryInput{
		TableName:                 &r.s.Table,
		IndexName:                 aws.String(manifest.GSI1.Name),
		KeyConditionExpression:    aws.String("GSI1PK = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": store.S(store.LicensesPK)},
		Limit:                     aws.Int32(100),
	}
	p := dynamodb.NewQueryPaginator(r.s.DB, in)
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

// WriteLicense writes w as one transaction: the key condition first, then the license, the admin
// record, the audit records and the gauges.
func (r *dynamoRepo) WriteLicense(ctx context.Context, w licenseWrite) error {
	var items []types.TransactWriteItem
	var parts []string
	add := func(it types.TransactWriteItem, part string) {
		items, parts = append(items, it), append(parts, part)
	}
	if w.SignedWith != "" {
		add(signedWith(w.SignedWith), "key")
	}
	if w.Create != nil {
		l := *w.Create
		l.setKeys()
		put, err := putNew(l)
		if err != nil {
			return err
		}
		add(put, partLicense)
	}
	if w.Admin != nil {
		a := *w.Admin
		k := store.LicenseAdminKey(a.LicenseID, a.UserID)
		a.PK, a.SK, a.Type = k.PK, k.SK, "license-admin"
		put, err := store.PutItem(a)
		if err != nil {
			return err
		}
		add(put, "")
	}
	if w.Prev != nil && w.Next != nil {
		upd, err := termsUpdate(*w.Prev, *w.Next)
		if err != nil {
			return err
		}
		add(upd, partLicense)
	}
	for _, e := range w.Audit {
		a, err := audit.Item(e, w.At)
		if err != nil {
			return err
		}
		add(a, "")
	}
	items = store.Append(items, store.AddCounters(store.MetricsCurrentKey(), w.Gauges))
	err := r.s.Transact(ctx, items)
	if w.SignedWith != "" && failedAt(err, 0) {
		return errRetiredKey
	}
	return txErr(err, parts...)
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

// putNew is a transaction item that creates v at its key, failing if it exists.
func putNew(v any) (types.TransactWriteItem, error) {
	item, err := store.Marshal(v)
	if err != nil {
		return types.TransactWriteItem{}, err
	}
	return types.TransactWriteItem{Put: &types.Put{Item: item, ConditionExpression: aws.String("attribute_not_exists(PK)")}}, nil
}

// failedAt reports whether the transaction failed on the condition of item i.
func failedAt(err error, i int) bool {
	for _, f := range store.FailedItems(err) {
		if f == i {
			return true
		}
	}
	return false
}

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

// ----- seats, invites, the directory -----

func (r *dynamoRepo) SeatsPage(ctx context.Context, licenseID string, limit int32, cursor string) (store.Page[Seat], error) {
	return store.QueryPage[Seat](ctx, r.s, "seats#"+licenseID, &dynamodb.QueryInput{
		KeyConditionExpression: aws.String("PK = :pk AND begins_with(SK, :p)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": store.S(store.LicenseKey(licenseID).PK), ":p": store.S(store.LicenseSeatPrefix)},
		ConsistentRead: aws.Bool(true),
	}, limit, cursor)
}

func (r *dynamoRepo) CreateInvite(ctx context.Context, inv Invite, e audit.Entry, at time.Time) error {
	put, err := putNew(inv)
	if err != nil {
		return err
	}
	a, err := audit.Item(e, at)
	if err != nil {
		return err
	}
	return r.s.Transact(ctx, []types.TransactWriteItem{put, a})
}

// TakeSeat: the license's count under the variant's condition, the seat and the membership created
// only if absent, the invite's use under its use-count condition, then usage, gauges and audit.
func (r *dynamoRepo) TakeSeat(ctx context.Context, t seatTake) error {
	cond := "version = :v AND seatsUsed < seats"
	values := map[string]types.AttributeValue{":v": store.N(t.License.Version), ":one": store.N(1)}
	if t.Overage {
		cond = "version = :v AND seatsUsed >= seats AND overagePolicy = :allow"
		values[":allow"] = store.S(OverageAllow)
	}
	items := []types.TransactWriteItem{{Update: &types.Update{
		Key:                       store.LicenseKey(t.License.ID).Item(),
		UpdateExpression:          aws.String("ADD seatsUsed :one"),
		ConditionExpression:       aws.String(cond),
		ExpressionAttributeValues: values,
	}}}
	parts := []string{partLicense, partSeat, partSeat}
	for _, v := range []any{t.Seat, t.Membership} {
		it, err := putNew(v)
		if err != nil {
			return err
		}
		items = append(items, it)
	}
	if t.Invite != nil {
		items = append(items, types.TransactWriteItem{Update: &types.Update{
			Key:                       store.Key{PK: t.Invite.PK, SK: t.Invite.SK}.Item(),
			UpdateExpression:          aws.String("ADD #uses :one"),
			ConditionExpression:       aws.String("#uses < maxUses AND validUntilUnix > :now AND licenseId = :lid"),
			ExpressionAttributeNames:  map[string]string{"#uses": "uses"},
			ExpressionAttributeValues: map[string]types.AttributeValue{":one": store.N(1), ":now": store.N(t.At.Unix()), ":lid": store.S(t.License.ID)},
		}})
		parts = append(parts, partInvite)
	}
	items = store.Append(items, usageAdd(t.License.ID, t.At, t.Usage), store.AddCounters(store.MetricsCurrentKey(), t.Gauges))
	a, err := audit.Item(t.Audit, t.At)
	if err != nil {
		return err
	}
	return txErr(r.s.Transact(ctx, append(items, a)), parts...)
}

// FreeSeat: the count taken back over the version read, the seat and membership deleted only while
// they are that seat, then usage, gauges and audit.
func (r *dynamoRepo) FreeSeat(ctx context.Context, f seatFree) error {
	l, s := f.License, f.Seat
	items := []types.TransactWriteItem{
		{Update: &types.Update{
			Key:                       store.LicenseKey(l.ID).Item(),
			UpdateExpression:          aws.String("ADD seatsUsed :minus"),
			ConditionExpression:       aws.String("version = :v AND seatsUsed > :zero"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":v": store.N(l.Version), ":minus": store.N(-1), ":zero": store.N(0)},
		}},
		{Delete: &types.Delete{Key: store.LicenseSeatKey(l.ID, s.UserID).Item(),
			ConditionExpression:       aws.String("seatId = :sid"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":sid": store.S(s.SeatID)}}},
		{Delete: &types.Delete{Key: store.SeatHolderKey(s.UserID).Item(),
			ConditionExpression:       aws.String("licenseId = :lid AND seatId = :sid"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":lid": store.S(l.ID), ":sid": store.S(s.SeatID)}}},
	}
	items = store.Append(items, usageAdd(l.ID, f.At, f.Usage), store.AddCounters(store.MetricsCurrentKey(), f.Gauges))
	a, err := audit.Item(f.Audit, f.At)
	if err != nil {
		return err
	}
	return txErr(r.s.Transact(ctx, append(items, a)), partLicense, partSeat, partSeat)
}

// ----- branding -----

func (r *dynamoRepo) PutBranding(ctx context.Context, rec BrandingRecord, e audit.Entry, at time.Time) error {
	k := store.LicenseBrandingKey(rec.LicenseID)
	rec.PK, rec.SK, rec.Type = k.PK, k.SK, "license-branding"
	item, err := store.Marshal(rec)
	if err != nil {
		return err
	}
	a, err := audit.Item(e, at)
	if err != nil {
		return err
	}
	return r.s.Transact(ctx, []types.TransactWriteItem{{Put: &types.Put{Item: item}}, a})
}

// ----- usage -----

func (r *dynamoRepo) SampleDay(ctx context.Context, licenseID string, at time.Time, overage int64) (bool, error) {
	err := r.s.Update(ctx, &dynamodb.UpdateItemInput{
		Key:                       store.LicenseUsageKey(licenseID, month(at)).Item(),
		UpdateExpression:          aws.String("SET lastSampledDay = :d ADD overageSeatDays :over"),
		ConditionExpression:       aws.String("attribute_not_exists(lastSampledDay) OR lastSampledDay < :d"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":d": store.S(day(at)), ":over": store.N(overage)},
	}, nil)
	if store.IsConditionFailed(err) {
		return false, nil
	}
	return err == nil, err
}

func (r *dynamoRepo) RaisePeak(ctx context.Context, licenseID string, used int64, at time.Time) error {
	err := r.s.Update(ctx, &dynamodb.UpdateItemInput{
		Key:                       store.LicenseUsageKey(licenseID, month(at)).Item(),
		UpdateExpression:          aws.String("SET peakSeats = :n"),
		ConditionExpression:       aws.String("attribute_not_exists(peakSeats) OR peakSeats < :n"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":n": store.N(used)},
	}, nil)
	if store.IsConditionFailed(err) {
		return nil // the peak is higher already
	}
	return err
}

func (r *dynamoRepo) CloseMonth(ctx context.Context, c monthClose) error {
	tk := store.LicenseTrueUpKey(c.License.ID, c.Line.Month)
	line := c.Line
	line.PK, line.SK, line.Type = tk.PK, tk.SK, "license-trueup"
	put, err := putNew(line)
	if err != nil {
		return err
	}
	closeIt := types.TransactWriteItem{Update: &types.Update{
		Key:              store.LicenseUsageKey(c.License.ID, c.Line.Month).Item(),
		UpdateExpression: aws.String("SET closed = :t, seatsAtClose = :s, usedAtClose = :u"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":t": &types.AttributeValueMemberBOOL{Value: true},
			":s": store.N(c.License.Seats), ":u": store.N(c.License.SeatsUsed)},
	}}
	items := store.Append([]types.TransactWriteItem{put, closeIt}, store.AddCounters(store.MetricsMonthKey(c.Line.Month), c.Metrics))
	return txErr(r.s.Transact(ctx, items), partTrueUp)
}

// ----- signing keys -----

func (r *dynamoRepo) SigningKeys(ctx context.Context) ([]SigningKeyRecord, error) {
	return store.QueryAll[SigningKeyRecord](ctx, r.s, &dynamodb.QueryInput{
		KeyConditionExpression:    aws.String("PK = :pk AND begins_with(SK, :kid)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": store.S(store.SigningKeysPK), ":kid": store.S("KID#")},
		ConsistentRead:            aws.Bool(true),
	})
}

func (r *dynamoRepo) RegisterSigningKey(ctx context.Context, rec SigningKeyRecord) error {
	k := store.SigningKeyKey(rec.KeyID)
	rec.PK, rec.SK, rec.Type = k.PK, k.SK, "license-signing-key"
	if err := r.s.Put(ctx, rec, "attribute_not_exists(PK)", nil, nil); err != nil && !store.IsConditionFailed(err) {
		return err
	}
	return nil
}
