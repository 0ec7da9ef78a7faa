package marketplace

import (
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/liberation/monetization/shared/audit"
	"github.com/liberation/monetization/shared/marketplace/ledger"
	"github.com/liberation/monetization/shared/marketplace/mktmetrics"
	"github.com/liberation/monetization/shared/store"
)

// Currency of every course price, sale and payout.
const Currency = "usd"

// booking describes the money event a movement belongs to: who did it, under which request, and
// what it concerns (for the ledger entries and the audit record).
type booking struct {
	At        time.Time
	Actor     string
	RequestID string
	SaleID    string
	CourseID  string
	PayoutID  string
	Ref       string // refund ids, dispute id
	Memo      string // for the ledger entry's reader: the course title
	// Payable puts the balances on the payable index (their available money grew).
	Payable bool
	// AvailableAtLeast, when positive, conditions the balance update on available ≥ it (a payout
	// never takes money that is not there).
	AvailableAtLeast int64
	// Counters are further day counters of this event (sales count, free enrolments …).
	Counters map[string]int64
	// Audit details beyond the amounts.
	Details map[string]string
}

// movementItems returns the transaction items that book m: per payee a balance update (ADD) and
// its ledger entry, the marketplace gauges and day counters, and one audit record. A balance never
// changes without its entry, because both are in the caller's transaction.
func movementItems(m ledger.Movement, b booking) ([]types.TransactWriteItem, error) {
	var items []types.TransactWriteItem
	for _, payee := range m.PayeeIDs() {
		d := m.Payees[payee]
		items = append(items, balanceUpdate(payee, d, b))
		e := LedgerEntry{ID: newID(prefixLedger, b.At), InstructorID: payee, Kind: m.Kind, SaleID: b.SaleID,
			CourseID: b.CourseID, PayoutID: b.PayoutID, Ref: b.Ref, Memo: b.Memo, Currency: Currency, At: b.At.UTC(),
			RequestID: b.RequestID, Buckets: d}
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
	details := map[string]string{}
	for k, v := range b.Details {
		details[k] = v
	}
	for k, v := range map[string]int64{"platformCents": m.Platform, "grossCents": m.Gross, "refundedCents": m.Refunded,
		"disputeLostCents": m.DisputeLost, "pendingCents": sum.Pending, "availableCents": sum.Available,
		"heldCents": sum.Held, "paidCents": sum.Paid} {
		if v != 0 {
			details[k] = strconv.FormatInt(v, 10)
		}
	}
	for _, id := range []struct{ k, v string }{{"saleId", b.SaleID}, {"courseId", b.CourseID}, {"payoutId", b.PayoutID}, {"ref", b.Ref}} {
		if id.v != "" {
			details[id.k] = id.v
		}
	}
	target := "sale:" + b.SaleID
	if b.PayoutID != "" {
		target = "payout:" + b.PayoutID
	}
	au, err := audit.Item(audit.Entry{Actor: b.Actor, Action: "marketplace." + m.Kind, Target: target,
		RequestID: b.RequestID, Details: details}, b.At)
	if err != nil {
		return nil, err
	}
	return append(items, au), nil
}

// dayCounters are a movement's marketplace day counters.
func dayCounters(m ledger.Movement, extra map[string]int64) map[string]int64 {
	sum := m.Sum()
	c := map[string]int64{
		mktmetrics.CtrGMV:                m.Gross,
		mktmetrics.CtrPlatformRevenue:    m.Platform,
		mktmetrics.CtrInstructorEarnings: sum.Balance() + sum.Paid, // shares booked minus reversals
		mktmetrics.CtrRefunded:           m.Refunded,
		mktmetrics.CtrDisputeLost:        m.DisputeLost,
		mktmetrics.CtrReleased:           m.Released,
	}
	if m.Kind == ledger.KindPayout || m.Kind == ledger.KindPayoutReversal {
		c[mktmetrics.CtrPaidOut] = sum.Paid
	}
	for k, v := range extra {
		c[k] += v
	}
	return c
}

func balanceUpdate(payee string, d ledger.Buckets, b booking) types.TransactWriteItem {
	expr := "SET #t = :t, instructorId = :i, currency = :c ADD pending :p, available :a, held :h, paid :pd"
	vals := map[string]types.AttributeValue{":t": store.S("balance"), ":i": store.S(payee), ":c": store.S(Currency),
		":p": store.N(d.Pending), ":a": store.N(d.Available), ":h": store.N(d.Held), ":pd": store.N(d.Paid)}
	if b.Payable {
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
	var put types.Put
	if s.Version == 0 {
		put.ConditionExpression = aws.String("attribute_not_exists(PK)")
	} else {
		put.ConditionExpression = aws.String("#v = :v")
		put.ExpressionAttributeNames = map[string]string{"#v": "version"}
		put.ExpressionAttributeValues = map[string]types.AttributeValue{":v": store.N(s.Version)}
	}
	s.Version++
	item, err := store.Marshal(s)
	if err != nil {
		return types.TransactWriteItem{}, err
	}
	put.Item = item
	return types.TransactWriteItem{Put: &put}, nil
}

// putVersioned writes v (an item with a "version" attribute) conditioned on the version read
// (0: must not exist). The caller has already incremented v's version.
func putVersioned(v any, readVersion int64) (types.TransactWriteItem, error) {
	item, err := store.Marshal(v)
	if err != nil {
		return types.TransactWriteItem{}, err
	}
	put := &types.Put{Item: item}
	if readVersion == 0 {
		put.ConditionExpression = aws.String("attribute_not_exists(PK)")
	} else {
		put.ConditionExpression = aws.String("#v = :v")
		put.ExpressionAttributeNames = map[string]string{"#v": "version"}
		put.ExpressionAttributeValues = map[string]types.AttributeValue{":v": store.N(readVersion)}
	}
	return types.TransactWriteItem{Put: put}, nil
}
