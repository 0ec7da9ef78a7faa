package store

import (
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Counter names on the metrics items. Day counters live on METRICS/DAY#<date>; gauges on
// METRICS/CURRENT. They change only inside the transaction that changes the fact they count, so
// /admin/metrics reads a few items and never scans.
const (
	// Day counters.
	CtrPaymentsSucceeded = "paymentsSucceeded"
	CtrPaymentsFailed    = "paymentsFailed"
	CtrRevenueCents      = "revenueCents"
	CtrRefundedCents     = "refundedCents"
	CtrDisputedCents     = "disputedCents"    // amount of disputes opened that day
	CtrDisputeLostCents  = "disputeLostCents" // disputed amount lost (closed "lost") that day
	CtrDisputeWonCents   = "disputeWonCents"  // disputed amount won back (closed "won") that day
	CtrUnmatchedRefunds  = "unmatchedRefunds" // charge.refunded events for charges we never recorded
	CtrNewPaying         = "newPaying"        // subscriptions that became paying
	CtrChurnedPaying     = "churnedPaying"    // paying subscriptions that ended
	// CtrChurnedJoinedPrefix + <yyyy-mm-dd>: of that day's churnedPaying, those that had become paying
	// on the named day, kept only when it is less than 30 days earlier (so metrics can tell customers
	// who joined and left inside the churn window).
	CtrChurnedJoinedPrefix = "churnedJoined#"
	// Gauges.
	GaugeMRRCents        = "mrrCents"
	GaugePayingCustomers = "payingCustomers"
	GaugeSubsPrefix      = "subs_" // + tier id: active subscriptions per tier

	// Enterprise licensing (issue 8). Gauges on METRICS/CURRENT over licenses that are active (activated,
	// not suspended, not expired): how many, seats sold, seats taken.
	GaugeEntLicensesActive = "entLicensesActive"
	GaugeEntSeatsSold      = "entSeatsSold"
	GaugeEntSeatsUsed      = "entSeatsUsed"
	// Month counters on METRICS/MONTH#<yyyy-mm>: the closed month's true-up totals.
	CtrEntOverageSeatDays = "entOverageSeatDays"
	CtrEntTrueUpLines     = "entTrueUpLines"
	// Support (issue 8), day counter: SLA targets breached that day.
	CtrSLABreaches = "slaBreaches"
)

// Numbers reads the numeric attributes of a counters item (the others, and numbers that do not fit
// an int64, are left out).
func Numbers(item map[string]types.AttributeValue) map[string]int64 {
	out := map[string]int64{}
	for k, v := range item {
		if n, ok := v.(*types.AttributeValueMemberN); ok {
			if x, err := strconv.ParseInt(n.Value, 10, 64); err == nil {
				out[k] = x
			}
		}
	}
	return out
}

// AddCounters returns a transaction item that adds deltas to counters on the item at k (created on
// first use). Zero deltas are skipped; nil is returned when nothing changes.
func AddCounters(k Key, deltas map[string]int64) *types.TransactWriteItem {
	names := make([]string, 0, len(deltas))
	for n, d := range deltas {
		if d != 0 {
			names = append(names, n)
		}
	}
	if len(names) == 0 {
		return nil
	}
	sort.Strings(names)
	parts := make([]string, 0, len(names))
	attrNames := map[string]string{}
	values := map[string]types.AttributeValue{}
	for i, n := range names {
		ph := "#c" + strconv.Itoa(i)
		vh := ":d" + strconv.Itoa(i)
		attrNames[ph] = n
		values[vh] = &types.AttributeValueMemberN{Value: strconv.FormatInt(deltas[n], 10)}
		parts = append(parts, ph+" "+vh)
	}
	return &types.TransactWriteItem{Update: &types.Update{
		Key:                       k.Item(),
		UpdateExpression:          aws.String("ADD " + strings.Join(parts, ", ")),
		ExpressionAttributeNames:  attrNames,
		ExpressionAttributeValues: values,
	}}
}

// AddDayCounters is AddCounters on the day item of at.
func AddDayCounters(at time.Time, deltas map[string]int64) *types.TransactWriteItem {
	return AddCounters(MetricsDayKey(at), deltas)
}

// Append adds non-nil items to a transaction list.
func Append(items []types.TransactWriteItem, more ...*types.TransactWriteItem) []types.TransactWriteItem {
	for _, m := range more {
		if m != nil {
			items = append(items, *m)
		}
	}
	return items
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
