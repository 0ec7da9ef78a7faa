package support

import (
	"context"
	"maps"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/audit"
	"github.com/liberation/monetization/shared/billing/records"
	"github.com/liberation/monetization/shared/ids"
	"github.com/liberation/monetization/shared/licensing"
	"github.com/liberation/monetization/shared/manifest"
	"github.com/liberation/monetization/shared/store"
	"github.com/liberation/monetization/shared/support/slametrics"
)

// dynamoRepo implements support's storage ports over the single table. It is the only file of the
// package that builds DynamoDB inputs: the rules describe a change (ticketWrite) and this file
// turns it into one transaction.
type dynamoRepo struct{ *store.Store }

var (
	_ tickets            = (*dynamoRepo)(nil)
	_ messageReader      = (*dynamoRepo)(nil)
	_ requesterTickets   = (*dynamoRepo)(nil)
	_ agentQueue         = (*dynamoRepo)(nil)
	_ agentDirectory     = (*dynamoRepo)(nil)
	_ slaSchedule        = (*dynamoRepo)(nil)
	_ slaStats           = (*dynamoRepo)(nil)
	_ subscriptionReader = (*dynamoRepo)(nil)
)

// GetSubscription implements subscriptionReader: the requester's subscription item is billing's,
// read through billing's exported Records.
func (r *dynamoRepo) GetSubscription(ctx context.Context, userID string) (records.Subscription, error) {
	return records.Records{S: r.Store}.GetSubscription(ctx, userID)
}

// duePageSize is the page size of the breach job's walk of the schedule.
const duePageSize = 100

// Due is a ticket's entry on the SLA schedule (PK SLADUE, SK <due time>#<ticket id>).
type Due struct {
	PK       string    `dynamodbav:"PK"`
	SK       string    `dynamodbav:"SK"`
	Type     string    `dynamodbav:"type"`
	TicketID string    `dynamodbav:"ticketId"`
	DueAt    time.Time `dynamodbav:"dueAt"`
}

func (r *dynamoRepo) Ticket(ctx context.Context, id string) (Ticket, error) {
	var t Ticket
	if !ids.Valid("tkt", id) {
		return t, apperr.New(apperr.NotFound, "ticket not found")
	}
	if err := r.GetConsistent(ctx, store.TicketKey(id), &t); err != nil {
		if apperr.Is(err, apperr.NotFound) {
			return t, apperr.New(apperr.NotFound, "ticket not found")
		}
		return t, err
	}
	return t.normalised(), nil
}

func (r *dynamoRepo) WriteTicket(ctx context.Context, w ticketWrite) error {
	items, err := ticketItems(w)
	if err != nil {
		return err
	}
	return r.Transact(ctx, items)
}

// ticketItems is the transaction of a ticketWrite: the ticket conditioned on the version read (or
// on being new), its schedule entry moved when its due time moves, the message, the license's
// usage, the statistics (one update per day touched, in day order), the breaches' day counter and
// the audit record.
func ticketItems(w ticketWrite) ([]types.TransactWriteItem, error) {
	prev, next := w.Prev, w.Next
	k := store.TicketKey(next.ID)
	next.PK, next.SK, next.Type = k.PK, k.SK, "support-ticket"
	next.GSI1PK, next.GSI1SK = store.RequesterTicketsGSI1(next.RequesterID, next.CreatedAt, next.ID)
	next.GSI2PK, next.GSI2SK = store.TicketQueueGSI2(next.Status, next.CreatedAt, next.ID)
	item, err := store.Marshal(next)
	if err != nil {
		return nil, err
	}
	items := []types.TransactWriteItem{store.PutOver(item, prev.Version)}
	if !sameTime(prev.NextDueAt, next.NextDueAt) {
		if prev.NextDueAt != nil {
			items = append(items, types.TransactWriteItem{Delete: &types.Delete{Key: store.SLADueKey(*prev.NextDueAt, prev.ID).Item()}})
		}
		if next.NextDueAt != nil {
			dk := store.SLADueKey(*next.NextDueAt, next.ID)
			due, err := store.Marshal(Due{PK: dk.PK, SK: dk.SK, Type: "sla-due", TicketID: next.ID, DueAt: *next.NextDueAt})
			if err != nil {
				return nil, err
			}
			items = append(items, types.TransactWriteItem{Put: &types.Put{Item: due}})
		}
	}
	if w.Message != nil {
		m := *w.Message
		mk := store.TicketMessageKey(m.TicketID, m.At, m.ID)
		m.PK, m.SK, m.Type = mk.PK, mk.SK, "support-message"
		mi, err := store.Marshal(m)
		if err != nil {
			return nil, err
		}
		items = append(items, types.TransactWriteItem{Put: &types.Put{Item: mi, ConditionExpression: aws.String("attribute_not_exists(PK)")}})
	}
	if w.CountUsage && next.LicenseID != "" {
		items = store.Append(items, licensing.TicketUsage(next.LicenseID, next.Priority, w.At))
	}
	for _, day := range statDeltas(w.Outcomes) {
		items = store.Append(items, store.AddCounters(store.SLAStatsKey(day.Day), day.Deltas))
	}
	if n := breaches(w.Outcomes); n > 0 {
		items = store.Append(items, store.AddDayCounters(w.At, map[string]int64{store.CtrSLABreaches: n}))
	}
	if w.Audit != nil {
		a, err := audit.Item(*w.Audit, w.At)
		if err != nil {
			return nil, err
		}
		items = append(items, a)
	}
	return items, nil
}

// dayDeltas are the statistics deltas of one day.
type dayDeltas struct {
	Day    time.Time
	Deltas map[string]int64
}

// statDeltas groups outcomes by the day they count on (a count taken back goes to the day it was
// counted on), in day order.
func statDeltas(outs []outcome) []dayDeltas {
	byDay := map[string]*dayDeltas{}
	for _, o := range outs {
		if o.Counter == "" || o.Delta == 0 {
			continue
		}
		sk := store.SLAStatsKey(o.Day).SK
		if byDay[sk] == nil {
			byDay[sk] = &dayDeltas{Day: o.Day, Deltas: map[string]int64{}}
		}
		byDay[sk].Deltas[o.Counter] += o.Delta
	}
	out := make([]dayDeltas, 0, len(byDay))
	for _, sk := range slices.Sorted(maps.Keys(byDay)) {
		out = append(out, *byDay[sk])
	}
	return out
}

func (r *dynamoRepo) Messages(ctx context.Context, ticketID string) ([]Message, error) {
	return store.QueryAll[Message](ctx, r.Store, &dynamodb.QueryInput{
		KeyConditionExpression: aws.String("PK = :pk AND begins_with(SK, :m)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": store.S(store.TicketKey(ticketID).PK), ":m": store.S(store.TicketMessagePrefix)},
		ConsistentRead: aws.Bool(true),
		Limit:          aws.Int32(MaxMessages),
	})
}

func (r *dynamoRepo) RequesterTickets(ctx context.Context, userID string, limit int32, cursor string) (store.Page[Ticket], error) {
	pk, _ := store.RequesterTicketsGSI1(userID, time.Time{}, "")
	return store.NewestPage[Ticket](ctx, r.Store, "tickets#"+userID, pk, limit, cursor)
}

func (r *dynamoRepo) Queue(ctx context.Context, status string, limit int32, cursor string) (store.Page[Ticket], error) {
	pk, _ := store.TicketQueueGSI2(status, time.Time{}, "")
	return store.QueryPage[Ticket](ctx, r.Store, "queue#"+status, &dynamodb.QueryInput{
		IndexName:                 aws.String(manifest.GSI2.Name),
		KeyConditionExpression:    aws.String("GSI2PK = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": store.S(pk)},
	}, limit, cursor)
}

func (r *dynamoRepo) Agent(ctx context.Context, userID string) (Agent, error) {
	var a Agent
	err := r.GetConsistent(ctx, store.SupportAgentKey(userID), &a)
	return a, err
}

func (r *dynamoRepo) SaveAgent(ctx context.Context, a Agent) error {
	k := store.SupportAgentKey(a.UserID)
	a.PK, a.SK, a.Type = k.PK, k.SK, "support-agent"
	return r.Put(ctx, a, "", nil, nil)
}

func (r *dynamoRepo) EachDue(ctx context.Context, until time.Time, f func(dueEntry) error) error {
	// SK < "<until>#~": every entry due at or before until.
	p := dynamodb.NewQueryPaginator(r.DB, &dynamodb.QueryInput{
		TableName:              &r.Table,
		KeyConditionExpression: aws.String("PK = :pk AND SK < :until"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": store.S(store.SLADuePK), ":until": store.S(store.SortTime(until) + "#~")},
		ConsistentRead: aws.Bool(true),
		Limit:          aws.Int32(duePageSize),
	})
	for p.HasMorePages() {
		res, err := p.NextPage(ctx)
		if err != nil {
			return apperr.Wrap(err, apperr.Unavailable, "query failed")
		}
		for _, it := range res.Items {
			id, _ := it["ticketId"].(*types.AttributeValueMemberS)
			sk, _ := it["SK"].(*types.AttributeValueMemberS)
			if id == nil || sk == nil {
				continue // not an entry the job can act on
			}
			if err := f(dueEntry{TicketID: id.Value, At: dueAtOf(sk.Value), Key: sk.Value}); err != nil {
				return err
			}
		}
	}
	return nil
}

// dueAtOf is the due time an entry's key says (zero when it says none): the key orders the
// schedule, and it is what a ticket's NextDueAt is matched against.
func dueAtOf(sk string) time.Time {
	n := len(store.SortTime(time.Time{}))
	if len(sk) < n+1 || sk[n] != '#' {
		return time.Time{}
	}
	at, err := time.Parse(time.RFC3339, sk[:n])
	if err != nil {
		return time.Time{}
	}
	return at
}

func (r *dynamoRepo) DropDue(ctx context.Context, e dueEntry) error {
	return r.Transact(ctx, []types.TransactWriteItem{{Delete: &types.Delete{Key: store.Key{PK: store.SLADuePK, SK: e.Key}.Item()}}})
}

// SLAStats implements slaStats with the statistics' one reader (slametrics.Read, which billing's
// metrics use too).
func (r *dynamoRepo) SLAStats(ctx context.Context, from, to time.Time) (map[string]int64, error) {
	return slametrics.Read(ctx, r.Store, from, to)
}

// licensingFacts is support's port to licensing over the table: the only place the package hands
// licensing a *store.Store.
type licensingFacts struct{ s *store.Store }

var (
	_ seatReader       = licensingFacts{}
	_ orgAdmins        = licensingFacts{}
	_ brandings        = licensingFacts{}
	_ activityRecorder = licensingFacts{}
)

func (l licensingFacts) Seat(ctx context.Context, userID string, now time.Time) (licensing.SeatInfo, bool, error) {
	return licensing.SeatOf(ctx, l.s, userID, now)
}

func (l licensingFacts) IsOrgAdmin(ctx context.Context, licenseID, userID string) (bool, error) {
	return licensing.IsOrgAdmin(ctx, l.s, licenseID, userID)
}

func (l licensingFacts) Branding(ctx context.Context, userID string) (licensing.Branding, error) {
	return licensing.BrandingFor(ctx, l.s, userID)
}

func (l licensingFacts) RecordActivity(ctx context.Context, userID, email string, at time.Time) error {
	return licensing.RecordActivity(ctx, l.s, userID, email, at)
}
