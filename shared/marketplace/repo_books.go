package marketplace

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/audit"
	"github.com/liberation/monetization/shared/books/journal"
	"github.com/liberation/monetization/shared/logging"
	"github.com/liberation/monetization/shared/manifest"
	"github.com/liberation/monetization/shared/marketplace/catalog"
	"github.com/liberation/monetization/shared/marketplace/ledger"
	"github.com/liberation/monetization/shared/marketplace/mktmetrics"
	"github.com/liberation/monetization/shared/payments"
	"github.com/liberation/monetization/shared/store"
)

// dynamoBooks is Books on the single table: the only file of the marketplace's money path that
// builds DynamoDB inputs. Keys come from shared/store/keys.go; docs/data-model.md lists the access
// patterns.
type dynamoBooks struct{ s *store.Store }

var _ Books = (*dynamoBooks)(nil)

// NewBooks is the DynamoDB Books.
func NewBooks(s *store.Store) Books { return &dynamoBooks{s: s} }

// parkedFor is how long a parked event is remembered (Stripe retries for three days; the sale's
// Checkout Session completes within a day of its events or never).
const parkedFor = 90 * 24 * time.Hour

// ----- reads -----

func (b *dynamoBooks) Course(ctx context.Context, courseID string) (Course, error) {
	var c Course
	err := b.s.GetConsistent(ctx, store.CourseKey(courseID), &c)
	if apperr.Is(err, apperr.NotFound) {
		return Course{}, apperr.New(apperr.NotFound, "course not found")
	}
	return c, err
}

func (b *dynamoBooks) Sale(ctx context.Context, instructorID, saleID string) (Sale, error) {
	var s Sale
	err := b.s.GetConsistent(ctx, store.SaleKey(instructorID, saleID), &s)
	return s, err
}

func (b *dynamoBooks) SaleOfSession(ctx context.Context, sessionID string) (SalePointer, error) {
	var p SalePointer
	err := b.s.GetConsistent(ctx, store.SaleSourceKey(sessionID), &p)
	return p, err
}

func (b *dynamoBooks) SaleOfCharge(ctx context.Context, chargeID, paymentIntentID string) (Sale, error) {
	var ptr SalePointer
	var err error = apperr.New(apperr.NotFound, "no sale")
	if paymentIntentID != "" {
		err = b.s.GetConsistent(ctx, store.SalePaymentIntentKey(paymentIntentID), &ptr)
	}
	if apperr.Is(err, apperr.NotFound) && chargeID != "" {
		pay, pErr := payments.Repo{S: b.s}.PaymentByStripe(ctx, chargeID, "")
		switch {
		case pErr == nil && pay.CheckoutSessionID != "":
			err = b.s.GetConsistent(ctx, store.SaleSourceKey(pay.CheckoutSessionID), &ptr)
		case pErr != nil && !apperr.Is(pErr, apperr.NotFound):
			return Sale{}, pErr
		}
	}
	if err != nil {
		return Sale{}, err
	}
	if ptr.SaleID == "" {
		return Sale{}, apperr.New(apperr.NotFound, "the session of charge %s was not booked as a sale (%s)", chargeID, ptr.Rejected)
	}
	return b.Sale(ctx, ptr.InstructorID, ptr.SaleID)
}

func (b *dynamoBooks) NotACourseCharge(ctx context.Context, chargeID, paymentIntentID string) (bool, error) {
	var pay payments.Payment
	var err error = apperr.New(apperr.NotFound, "no payment")
	if chargeID != "" {
		pay, err = payments.Repo{S: b.s}.PaymentByStripe(ctx, chargeID, "")
	}
	if apperr.Is(err, apperr.NotFound) && paymentIntentID != "" {
		pay, err = payments.Repo{S: b.s}.PaymentByStripe(ctx, "", paymentIntentID)
	}
	switch {
	case apperr.Is(err, apperr.NotFound):
		return false, nil
	case err != nil:
		return false, err
	}
	return pay.CourseID == "", nil
}

func (b *dynamoBooks) Enrollment(ctx context.Context, userID, courseID string) (*Enrollment, error) {
	var e Enrollment
	return optional(&e, b.s.GetConsistent(ctx, store.EnrollmentKey(userID, courseID), &e))
}

func (b *dynamoBooks) Review(ctx context.Context, courseID, userID string) (*Review, error) {
	var rv Review
	return optional(&rv, b.s.GetConsistent(ctx, store.CourseReviewKey(courseID, userID), &rv))
}

func (b *dynamoBooks) Payout(ctx context.Context, instructorID, period string) (*Payout, error) {
	var po Payout
	return optional(&po, b.s.GetConsistent(ctx, store.PayoutKey(instructorID, period), &po))
}

func (b *dynamoBooks) OpenCheckout(ctx context.Context, userID, courseID string) (*OpenCheckout, error) {
	var co OpenCheckout
	return optional(&co, b.s.GetConsistent(ctx, store.OpenCheckoutKey(userID, courseID), &co))
}

// optional turns NotFound into nil.
func optional[T any](v *T, err error) (*T, error) {
	if apperr.Is(err, apperr.NotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return v, nil
}

func (b *dynamoBooks) Balance(ctx context.Context, instructorID string) (Balance, error) {
	var bal Balance
	err := b.s.GetConsistent(ctx, store.InstructorBalanceKey(instructorID), &bal)
	if apperr.Is(err, apperr.NotFound) {
		return Balance{InstructorID: instructorID, Currency: Currency}, nil
	}
	return bal, err
}

func (b *dynamoBooks) Instructor(ctx context.Context, instructorID string) (Instructor, error) {
	var in Instructor
	err := b.s.GetConsistent(ctx, store.InstructorKey(instructorID), &in)
	if apperr.Is(err, apperr.NotFound) {
		return Instructor{ID: instructorID}, nil
	}
	return in, err
}

func (b *dynamoBooks) DueSales(ctx context.Context, now time.Time, after string, limit int) ([]Sale, string, error) {
	ix := manifest.GSI2
	cond, vals := "#pk = :pk AND #sk <= :now", map[string]types.AttributeValue{":pk": store.S(store.PendingSalesPK),
		":now": store.S(store.SortTime(now) + "~")}
	if after != "" {
		cond = "#pk = :pk AND #sk BETWEEN :after AND :now"
		vals[":after"] = store.S(after + "\x00") // strictly after the last one read
	}
	res, err := b.s.DB.Query(ctx, &dynamodb.QueryInput{
		TableName: &b.s.Table, IndexName: aws.String(ix.Name), KeyConditionExpression: aws.String(cond),
		ExpressionAttributeNames: map[string]string{"#pk": ix.PK, "#sk": ix.SK}, ExpressionAttributeValues: vals,
		Limit: aws.Int32(int32(limit)),
	})
	if err != nil {
		return nil, "", apperr.Wrap(err, apperr.Unavailable, "query failed")
	}
	var due []Sale
	if err := unmarshalList(res.Items, &due); err != nil {
		return nil, "", err
	}
	if res.LastEvaluatedKey == nil || len(due) == 0 {
		return due, "", nil
	}
	return due, due[len(due)-1].GSI2SK, nil
}

func (b *dynamoBooks) ParkedEvents(ctx context.Context, ref string) ([]ParkedEvent, error) {
	k := store.ParkedEventKey(ref, "")
	items, err := store.QueryAll[parkedItem](ctx, b.s, &dynamodb.QueryInput{
		KeyConditionExpression:    aws.String("PK = :pk"),
		FilterExpression:          aws.String("attribute_not_exists(clearedAt)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": store.S(k.PK)},
	})
	out := make([]ParkedEvent, 0, len(items))
	for _, it := range items {
		out = append(out, it.ParkedEvent)
	}
	return out, err
}

func (b *dynamoBooks) PayableInstructors(ctx context.Context) ([]string, error) {
	ix := manifest.GSI2
	pk, _ := store.PayableGSI2("")
	bals, err := store.QueryAll[Balance](ctx, b.s, &dynamodb.QueryInput{
		IndexName: aws.String(ix.Name), KeyConditionExpression: aws.String("#pk = :pk"),
		ExpressionAttributeNames:  map[string]string{"#pk": ix.PK},
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": store.S(pk)},
	})
	out := make([]string, 0, len(bals))
	for _, bal := range bals {
		out = append(out, bal.InstructorID)
	}
	return out, err
}

func (b *dynamoBooks) PayoutsOf(ctx context.Context, period, status string) ([]Payout, error) {
	ix := manifest.GSI2
	pk, _ := store.PayoutsGSI2(period, "", "")
	return store.QueryAll[Payout](ctx, b.s, &dynamodb.QueryInput{
		IndexName: aws.String(ix.Name), KeyConditionExpression: aws.String("#pk = :pk AND begins_with(#sk, :st)"),
		ExpressionAttributeNames:  map[string]string{"#pk": ix.PK, "#sk": ix.SK},
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": store.S(pk), ":st": store.S(status + "#")},
	})
}

// ----- single writes -----

func (b *dynamoBooks) Park(ctx context.Context, e ParkedEvent) error {
	k := store.ParkedEventKey(e.Ref, e.EventID)
	put, err := store.PutNewItem(parkedItem{PK: k.PK, SK: k.SK, Type: "parked-event", ParkedEvent: e, ExpiresAt: e.At.Add(parkedFor).Unix()})
	if err != nil {
		return err
	}
	err = b.s.Transact(ctx, store.Append([]types.TransactWriteItem{put},
		store.AddCounters(store.MarketplaceMetricsDayKey(e.At), map[string]int64{mktmetrics.CtrParkedEvents: 1})))
	if store.IsConditionFailed(err) {
		return nil // parked by an earlier delivery
	}
	return err
}

type parkedItem struct {
	PK        string `dynamodbav:"PK"`
	SK        string `dynamodbav:"SK"`
	Type      string `dynamodbav:"type"`
	ExpiresAt int64  `dynamodbav:"expiresAt"`
	ParkedEvent
}

func (b *dynamoBooks) SaveCheckout(ctx context.Context, co OpenCheckout, prev string) error {
	k := store.OpenCheckoutKey(co.UserID, co.CourseID)
	it := struct {
		PK        string `dynamodbav:"PK"`
		SK        string `dynamodbav:"SK"`
		Type      string `dynamodbav:"type"`
		ExpiresAt int64  `dynamodbav:"expiresAt"` // TTL: a day after Stripe expires the session
		OpenCheckout
	}{k.PK, k.SK, "course-checkout", co.ExpiresAt.Add(24 * time.Hour).Unix(), co}
	if prev == "" {
		return b.s.Put(ctx, it, "attribute_not_exists(PK)", nil, nil)
	}
	return b.s.Put(ctx, it, "sessionId = :prev", nil, map[string]types.AttributeValue{":prev": store.S(prev)})
}

func (b *dynamoBooks) Unlist(ctx context.Context, instructorID string) error {
	err := b.s.Update(ctx, &dynamodb.UpdateItemInput{
		Key:                       store.InstructorBalanceKey(instructorID).Item(),
		UpdateExpression:          aws.String("REMOVE GSI2PK, GSI2SK"),
		ConditionExpression:       aws.String("available <= :z"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":z": store.N(0)},
	}, nil)
	if store.IsConditionFailed(err) {
		return nil
	}
	return err
}

func (b *dynamoBooks) CountTransferAttempt(ctx context.Context, instructorID, period string) error {
	return b.s.Update(ctx, &dynamodb.UpdateItemInput{
		Key:                       store.PayoutKey(instructorID, period).Item(),
		UpdateExpression:          aws.String("ADD attempts :one"),
		ConditionExpression:       aws.String("#st = :tr"),
		ExpressionAttributeNames:  map[string]string{"#st": "status"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":one": store.N(1), ":tr": store.S(PayoutTransferring)},
	}, nil)
}

func (b *dynamoBooks) RecordAccount(ctx context.Context, a AccountState, sameSecond bool, e audit.Entry) error {
	cond := "connectAccountId = :a AND (attribute_not_exists(accountEventAt) OR accountEventAt < :at)"
	if sameSecond {
		cond = "connectAccountId = :a AND accountEventAt = :at"
	}
	au, err := audit.Item(e, a.At)
	if err != nil {
		return err
	}
	return b.s.Transact(ctx, []types.TransactWriteItem{{Update: &types.Update{
		Key:                 store.InstructorKey(a.InstructorID).Item(),
		UpdateExpression:    aws.String("SET payoutsEnabled = :pe, accountEventAt = :at, updatedAt = :now"),
		ConditionExpression: aws.String(cond),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pe": &types.AttributeValueMemberBOOL{Value: a.PayoutsEnabled},
			":at": store.N(a.EventAt), ":a": store.S(a.AccountID), ":now": store.S(rfc3339Nano(a.At))},
	}}, au})
}

func (b *dynamoBooks) SaveAccount(ctx context.Context, instructorID, accountID, email string, at time.Time) (string, bool, error) {
	vals := map[string]types.AttributeValue{":t": store.S("instructor"), ":i": store.S(instructorID),
		":a": store.S(accountID), ":now": store.S(rfc3339Nano(at)), ":f": &types.AttributeValueMemberBOOL{Value: false}}
	expr := "SET #t = :t, id = :i, connectAccountId = :a, payoutsEnabled = if_not_exists(payoutsEnabled, :f), " +
		"createdAt = if_not_exists(createdAt, :now), updatedAt = :now"
	if email != "" {
		expr += ", email = :e"
		vals[":e"] = store.S(email)
	}
	err := b.s.Update(ctx, &dynamodb.UpdateItemInput{Key: store.InstructorKey(instructorID).Item(),
		UpdateExpression:          aws.String(expr),
		ConditionExpression:       aws.String("attribute_not_exists(connectAccountId) OR connectAccountId = :a"),
		ExpressionAttributeNames:  map[string]string{"#t": "type"},
		ExpressionAttributeValues: vals}, nil)
	if store.IsConditionFailed(err) {
		prof, gErr := b.Instructor(ctx, instructorID)
		return prof.ConnectAccountID, false, gErr
	}
	return accountID, err == nil, err
}

// ----- the change -----

func (b *dynamoBooks) Commit(ctx context.Context, c *Change) error {
	items, entry, at, err := b.items(c)
	if err != nil {
		return err
	}
	err = b.s.Transact(ctx, items)
	if err == nil || entry == nil || !journal.AlreadyPosted(err, at) || len(store.FailedItems(err)) > 1 {
		// A failed guard of the change's own (a replayed sale, a stale version) is answered as it
		// always was: the caller reads again and finds nothing left to do.
		return err
	}
	// Only the journal entry's condition failed: the entry was posted before (a backfill of this
	// very event). The same entry is the change's own posting, so the change is written without
	// it; other content under its id is a posting rule's bug and is refused.
	if err := b.samePosted(ctx, *entry); err != nil {
		return err
	}
	logging.From(ctx).Warn("journal entry posted before the change: writing the change without it", "entryId", entry.ID)
	return b.s.Transact(ctx, items[:at])
}

// samePosted checks that the entry stored under e's id is e: nil if it is, apperr.Conflict if it
// says something else, apperr.NotFound if there is none.
func (b *dynamoBooks) samePosted(ctx context.Context, e journal.Entry) error {
	stored, err := journal.Repo{S: b.s}.Get(ctx, e.ID)
	if err != nil {
		return err
	}
	if !journal.Same(stored, e) {
		return errEntryDiffers(e.ID)
	}
	return nil
}

// Items are the transaction items of a change: what Commit writes, and what a course purchase adds
// to payments' own transaction (the payment and the sale are one write, docs/decisions/0062). The
// Checkout Session's guard, when there is one, is the first item; the change's journal entry
// (journalEntry) comes last.
func (b *dynamoBooks) Items(c *Change) ([]types.TransactWriteItem, error) {
	items, _, _, err := b.items(c)
	return items, err
}

// JoinItems are Items for a transaction another area writes (payments' record of the purchase):
// that area cannot tell the entry's condition from its own, so an entry already posted with the
// same content is left out here, before the transaction (posted with other content: Conflict).
func (b *dynamoBooks) JoinItems(ctx context.Context, c *Change) ([]types.TransactWriteItem, error) {
	items, entry, at, err := b.items(c)
	if err != nil || entry == nil {
		return items, err
	}
	switch err := b.samePosted(ctx, *entry); {
	case err == nil:
		return items[:at], nil
	case apperr.Is(err, apperr.NotFound):
		return items, nil
	default:
		return nil, err
	}
}

// items returns the change's transaction items, its journal entry (nil: it moves no money) and the
// index of the entry's first item.
func (b *dynamoBooks) items(c *Change) ([]types.TransactWriteItem, *journal.Entry, int, error) {
	entry, err := journalEntry(c) // before the sale's version moves: a refund entry is keyed by it
	if err != nil {
		return nil, nil, 0, err
	}
	items, err := b.changeItems(c)
	if err != nil {
		return nil, nil, 0, err
	}
	at := len(items)
	if entry != nil {
		posting, err := journal.Items(*entry)
		if err != nil {
			return nil, nil, 0, err
		}
		items = append(items, posting...)
	}
	if len(items) > journal.MaxTransactItems {
		return nil, nil, 0, apperr.New(apperr.Internal, "a marketplace change of %d items exceeds a transaction's %d", len(items), journal.MaxTransactItems)
	}
	return items, entry, at, nil
}

// changeItems are the change's own items (everything but its journal entry).
func (b *dynamoBooks) changeItems(c *Change) ([]types.TransactWriteItem, error) {
	var items []types.TransactWriteItem
	for _, p := range c.NewPointers {
		p.Type = "sale-pointer"
		it, err := store.PutNewItem(p)
		if err != nil {
			return nil, err
		}
		items = append(items, it)
	}
	if c.Sale != nil {
		it, err := putSaleItem(c.Sale)
		if err != nil {
			return nil, err
		}
		items = append(items, it)
	}
	for _, p := range c.Pointers {
		p.Type = "sale-pointer"
		it, err := store.PutItem(p)
		if err != nil {
			return nil, err
		}
		items = append(items, it)
	}
	if c.Enrollment != nil {
		e := c.Enrollment.Item
		e.SetKeys()
		it, err := putVersioned(e, c.Enrollment.Read)
		if err != nil {
			return nil, err
		}
		items = append(items, it)
	}
	if h := c.Holding; h != nil {
		items = append(items, types.TransactWriteItem{ConditionCheck: &types.ConditionCheck{
			Key:                       store.EnrollmentKey(h.UserID, h.CourseID).Item(),
			ConditionExpression:       aws.String("#st = :active AND #v = :v"),
			ExpressionAttributeNames:  map[string]string{"#st": "status", "#v": "version"},
			ExpressionAttributeValues: map[string]types.AttributeValue{":active": store.S(EnrollActive), ":v": store.N(h.Version)},
		}})
	}
	if c.Review != nil {
		rv := c.Review.Item
		rv.SetKeys()
		it, err := putVersioned(rv, c.Review.Read)
		if err != nil {
			return nil, err
		}
		items = append(items, it)
	}
	items = store.Append(items, catalog.CountersItem(c.Book.CourseID, c.Listing))
	if c.Payout != nil {
		po := c.Payout.Item
		po.SetKeys()
		it, err := putVersioned(po, c.Payout.Read)
		if err != nil {
			return nil, err
		}
		items = append(items, it)
	}
	for _, e := range c.Unpark {
		k := store.ParkedEventKey(e.Ref, e.EventID)
		items = append(items, types.TransactWriteItem{Update: &types.Update{Key: k.Item(),
			UpdateExpression:          aws.String("SET clearedAt = :now, expiresAt = :exp"),
			ConditionExpression:       aws.String("attribute_exists(PK)"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":now": store.S(rfc3339Nano(c.Book.At)), ":exp": store.N(c.Book.At.Add(24 * time.Hour).Unix())}}})
	}
	switch {
	case c.Move.MovesMoney():
		money, err := movementItems(c.Move, c.Book)
		if err != nil {
			return nil, err
		}
		items = append(items, money...)
	default:
		items = store.Append(items, store.AddCounters(store.MarketplaceMetricsDayKey(c.Book.At), c.Book.Counters))
		if c.Audit != nil {
			au, err := audit.Item(*c.Audit, c.Book.At)
			if err != nil {
				return nil, err
			}
			items = append(items, au)
		}
	}
	return items, nil
}

// movementItems returns the transaction items that book m: per payee a balance update (ADD) and
// its ledger entry, the marketplace gauges and day counters, and one audit record. A balance never
// changes without its entry, because both are in the caller's transaction.
func movementItems(m ledger.Movement, b booking) ([]types.TransactWriteItem, error) {
	var items []types.TransactWriteItem
	for _, payee := range m.PayeeIDs() {
		d := m.Payees[payee]
		items = append(items, balanceUpdate(payee, d, b))
		e := ledgerEntry(payee, m.Kind, d, b)
		k := store.LedgerKey(payee, b.At, e.ID)
		e.PK, e.SK, e.Type = k.PK, k.SK, "ledger"
		it, err := store.PutNewItem(e)
		if err != nil {
			return nil, err
		}
		items = append(items, it)
	}
	sum := m.Sum()
	items = store.Append(items,
		store.AddCounters(store.MarketplaceMetricsCurrentKey(), map[string]int64{
			mktmetrics.GaugePending: sum.Pending, mktmetrics.GaugeAvailable: sum.Available,
			mktmetrics.GaugeHeld: sum.Held, mktmetrics.GaugePaid: sum.Paid,
		}),
		store.AddCounters(store.MarketplaceMetricsDayKey(b.At), dayCounters(m, b.Counters)))
	au, err := audit.Item(movementAudit(m, b), b.At)
	if err != nil {
		return nil, err
	}
	return append(items, au), nil
}

// balanceUpdate adds a movement's deltas to a payee's balance. One rule puts a balance on the
// payable index: any change that adds available money (a release, a dispute won after it, a
// refund that failed after it, a payout refused or a transfer reversed) — never a call site's
// choice. A payout run takes balances with nothing available off it.
func balanceUpdate(payee string, d ledger.Buckets, b booking) types.TransactWriteItem {
	expr := "SET #t = :t, instructorId = :i, currency = :c ADD pending :p, available :a, held :h, paid :pd"
	vals := map[string]types.AttributeValue{":t": store.S("balance"), ":i": store.S(payee), ":c": store.S(Currency),
		":p": store.N(d.Pending), ":a": store.N(d.Available), ":h": store.N(d.Held), ":pd": store.N(d.Paid)}
	if makesPayable(d) {
		pk, sk := store.PayableGSI2(payee)
		expr = "SET #t = :t, instructorId = :i, currency = :c, GSI2PK = :g2, GSI2SK = :g2s " +
			"ADD pending :p, available :a, held :h, paid :pd"
		vals[":g2"], vals[":g2s"] = store.S(pk), store.S(sk)
	}
	u := &types.Update{Key: store.InstructorBalanceKey(payee).Item(), UpdateExpression: aws.String(expr),
		ExpressionAttributeNames: map[string]string{"#t": "type"}, ExpressionAttributeValues: vals}
	if b.AvailableAtLeast > 0 {
		u.ConditionExpression = aws.String("available >= :min")
		vals[":min"] = store.N(b.AvailableAtLeast)
	}
	return types.TransactWriteItem{Update: u}
}

// putSaleItem returns the write of sale: a create when Version is 0, else a replace conditioned on
// the version read. Version is incremented and keys and status are derived.
func putSaleItem(s *Sale) (types.TransactWriteItem, error) {
	s.SetKeys()
	read := s.Version
	s.Version++
	return putVersioned(*s, read)
}

// putVersioned writes v (an item with a "version" attribute) conditioned on the version read
// (0: must not exist). The caller has already incremented v's version.
func putVersioned(v any, readVersion int64) (types.TransactWriteItem, error) {
	return store.PutVersioned(v, readVersion)
}
