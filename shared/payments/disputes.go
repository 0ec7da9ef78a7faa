package payments

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/stripe/stripe-go/v76"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/audit"
	"github.com/liberation/monetization/shared/store"
)

// disputeClosed reports a terminal dispute status: once there, an older event cannot reopen it.
func disputeClosed(status string) bool {
	switch stripe.DisputeStatus(status) {
	case stripe.DisputeStatusWon, stripe.DisputeStatusLost, stripe.DisputeStatusWarningClosed:
		return true
	}
	return false
}

// ApplyDispute records a dispute opening or closing on a payment. The first event seen for a
// dispute (whatever its status, since events arrive in any order) creates the Dispute item, flags
// the payment disputed and adds the disputed amount to the day's counter — once. Later events move
// the status forward; a stale event never moves a closed dispute (won/lost) back to open.
func ApplyDispute(ctx context.Context, d *Deps, dp *stripe.Dispute, eventID string) error {
	if dp == nil || dp.ID == "" {
		return apperr.New(apperr.Invalid, "dispute is required")
	}
	chargeID, piID := "", ""
	if dp.Charge != nil {
		chargeID = dp.Charge.ID
	}
	if dp.PaymentIntent != nil {
		piID = dp.PaymentIntent.ID
	}
	found, err := findPayment(ctx, d, chargeID, piID)
	if err != nil {
		return err
	}
	status := string(dp.Status)
	return retryConflicts(ctx, "record dispute", func() error {
		p, err := d.Store.GetPayment(ctx, found.UserID, found.ID)
		if err != nil {
			return err
		}
		now := d.Clock.Now()
		var cur store.Dispute
		gErr := d.Store.GetConsistent(ctx, store.DisputeKey(p.UserID, dp.ID), &cur)
		if gErr != nil && !apperr.Is(gErr, apperr.NotFound) {
			return gErr
		}
		var items []types.TransactWriteItem
		action := "dispute.open"
		if gErr != nil { // first sight of this dispute
			cur = store.Dispute{ID: dp.ID, PaymentID: p.ID, UserID: p.UserID, ChargeID: chargeID,
				AmountCents: dp.Amount, Currency: strings.ToLower(string(dp.Currency)), Status: status,
				Reason: string(dp.Reason), OpenedAt: now, UpdatedAt: now, EventID: eventID}
			if dp.Created > 0 {
				cur.OpenedAt = time.Unix(dp.Created, 0).UTC()
			}
			cur.SetKeys()
			it, err := store.PutNewItem(cur)
			if err != nil {
				return err
			}
			items = append(items, it)
			items = store.Append(items, store.AddDayCounters(now, map[string]int64{store.CtrDisputedCents: dp.Amount}))
			p.DisputedCents += dp.Amount
		} else {
			if cur.Status == status || disputeClosed(cur.Status) && !disputeClosed(status) {
				return nil // nothing new, or a stale event
			}
			old := cur.Status
			cur.Status, cur.UpdatedAt, cur.EventID = status, now, eventID
			if dp.Reason != "" {
				cur.Reason = string(dp.Reason)
			}
			item, err := store.Marshal(cur)
			if err != nil {
				return err
			}
			items = append(items, types.TransactWriteItem{Put: &types.Put{Item: item,
				ConditionExpression:       aws.String("#st = :old"),
				ExpressionAttributeNames:  map[string]string{"#st": "status"},
				ExpressionAttributeValues: map[string]types.AttributeValue{":old": store.S(old)}}})
			action = "dispute.update"
			if disputeClosed(status) {
				action = "dispute.close"
			}
		}
		p.Disputed, p.DisputeStatus = true, cur.Status
		payItem, err := store.PutPaymentItem(&p)
		if err != nil {
			return err
		}
		au, err := audit.Item(audit.Entry{Actor: audit.ActorStripe, Action: action, Target: "payment:" + p.ID, RequestID: eventID,
			Details: map[string]string{"userId": p.UserID, "disputeId": dp.ID, "status": cur.Status,
				"amountCents": strconv.FormatInt(cur.AmountCents, 10), "reason": cur.Reason}}, now)
		if err != nil {
			return err
		}
		items = append([]types.TransactWriteItem{payItem}, append(items, au)...)
		return d.Store.Transact(ctx, items)
	})
}
