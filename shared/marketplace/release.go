package marketplace

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/liberation/monetization/shared/audit"
	"github.com/liberation/monetization/shared/logging"
	"github.com/liberation/monetization/shared/manifest"
	"github.com/liberation/monetization/shared/store"
)

// Bounds of one release run; what a run leaves (Truncated) the next one continues, oldest first.
const (
	releasePageSize = 100
	releaseMaxPages = 50
)

// ReleaseReport is what a release-earnings run did.
type ReleaseReport struct {
	Day           string `json:"day"`
	Released      int    `json:"released"`      // sales moved from pending to available
	ReleasedCents int64  `json:"releasedCents"` // instructor money moved
	Skipped       int    `json:"skipped"`       // already released by a concurrent run
	Truncated     bool   `json:"truncated"`
}

// RunRelease releases every sale whose refund window has passed (GSI2 SALEPENDING, release time ≤
// now, oldest first): per sale, one transaction moves the shares' free part from pending to
// available (ledger.Sale.Release), writes the ledger entries, counters and audit, marks the sale
// released and takes it off the index — conditioned on the sale's version, so a sale is released
// exactly once however often or concurrently the job runs. The balances join the payable index.
func RunRelease(ctx context.Context, d *Deps) (ReleaseReport, error) {
	now := d.Clock.Now().UTC()
	rep := ReleaseReport{Day: now.Format("2006-01-02")}
	ix := manifest.Indexes[1]
	var start map[string]types.AttributeValue
	for page := 0; page < releaseMaxPages; page++ {
		res, err := d.Store.DB.Query(ctx, &dynamodb.QueryInput{
			TableName:                &d.Store.Table,
			IndexName:                aws.String(ix.Name),
			KeyConditionExpression:   aws.String("#pk = :pk AND #sk <= :now"),
			ExpressionAttributeNames: map[string]string{"#pk": ix.PK, "#sk": ix.SK},
			ExpressionAttributeValues: map[string]types.AttributeValue{":pk": store.S(store.PendingSalesPK),
				":now": store.S(store.SortTime(now) + "~")},
			Limit:             aws.Int32(releasePageSize),
			ExclusiveStartKey: start,
		})
		if err != nil {
			return rep, err
		}
		var due []Sale
		if err := unmarshalList(res.Items, &due); err != nil {
			return rep, err
		}
		for _, s := range due {
			if err := releaseSale(ctx, d, s.InstructorID, s.ID, &rep); err != nil {
				return rep, err
			}
		}
		if start = res.LastEvaluatedKey; start == nil {
			return rep, nil
		}
	}
	rep.Truncated = true
	return rep, nil
}

func releaseSale(ctx context.Context, d *Deps, instructorID, saleID string, rep *ReleaseReport) error {
	return retryConflicts(ctx, "release sale", func() error {
		s, err := readSale(ctx, d, instructorID, saleID)
		if err != nil {
			return err
		}
		now := d.Clock.Now().UTC()
		if s.Released || s.ReleaseAt.After(now) {
			rep.Skipped++
			return nil
		}
		m := s.Release()
		s.ReleasedAt = &now
		saleItem, err := putSaleItem(&s) // off the pending index: released
		if err != nil {
			return err
		}
		items := []types.TransactWriteItem{saleItem}
		if m.MovesMoney() {
			money, err := movementItems(m, booking{At: now, Actor: audit.ActorJob, RequestID: "release-earnings-" + rep.Day,
				SaleID: s.ID, CourseID: s.CourseID, Memo: s.CourseTitle, Payable: true})
			if err != nil {
				return err
			}
			items = append(items, money...)
		}
		if err := d.Store.Transact(ctx, items); err != nil {
			return err
		}
		rep.Released++
		rep.ReleasedCents += m.Released
		logging.From(ctx).Info("sale released", "saleId", s.ID, "releasedCents", m.Released)
		return nil
	})
}
