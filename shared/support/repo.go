package support

import (
	"context"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/ids"
	"github.com/liberation/monetization/shared/store"
)

// Message is one message of a ticket (PK TICKET#<id>, SK MSG#<time>#<id>).
type Message struct {
	PK       string    `dynamodbav:"PK"`
	SK       string    `dynamodbav:"SK"`
	Type     string    `dynamodbav:"type"`
	ID       string    `dynamodbav:"id"`
	TicketID string    `dynamodbav:"ticketId"`
	AuthorID string    `dynamodbav:"authorId"`
	Role     string    `dynamodbav:"role"`
	Body     string    `dynamodbav:"body"`
	At       time.Time `dynamodbav:"at"`
}

// Due is a ticket's entry on the SLA schedule.
type Due struct {
	PK       string    `dynamodbav:"PK"`
	SK       string    `dynamodbav:"SK"`
	Type     string    `dynamodbav:"type"`
	TicketID string    `dynamodbav:"ticketId"`
	DueAt    time.Time `dynamodbav:"dueAt"`
}

// getTicket reads a ticket consistently; an id of the wrong shape is simply not found.
func getTicket(ctx context.Context, s *store.Store, id string) (Ticket, error) {
	var t Ticket
	if !ids.Valid("tkt", id) {
		return t, apperr.New(apperr.NotFound, "ticket not found")
	}
	if err := s.GetConsistent(ctx, store.TicketKey(id), &t); err != nil {
		if apperr.Is(err, apperr.NotFound) {
			return t, apperr.New(apperr.NotFound, "ticket not found")
		}
		return t, err
	}
	if t.Events == nil {
		t.Events = map[string]time.Time{}
	}
	if t.Outcomes == nil {
		t.Outcomes = map[string]string{}
	}
	return t, nil
}

// writeTicket returns the transaction items that store next over prev (prev.Version 0: a new
// ticket): the ticket conditioned on prev's version, and its SLA schedule entry moved to next's
// next due time.
func writeTicket(prev Ticket, next *Ticket) ([]types.TransactWriteItem, error) {
	k := store.TicketKey(next.ID)
	next.PK, next.SK, next.Type = k.PK, k.SK, "support-ticket"
	next.GSI1PK, next.GSI1SK = store.RequesterTicketsGSI1(next.RequesterID, next.CreatedAt, next.ID)
	next.GSI2PK, next.GSI2SK = store.TicketQueueGSI2(next.Status, next.CreatedAt, next.ID)
	next.Version = prev.Version + 1
	next.NextDueAt = next.nextDue()
	item, err := store.Marshal(next)
	if err != nil {
		return nil, err
	}
	put := &types.Put{Item: item}
	if prev.Version == 0 {
		put.ConditionExpression = aws.String("attribute_not_exists(PK)")
	} else {
		put.ConditionExpression = aws.String("version = :v")
		put.ExpressionAttributeValues = map[string]types.AttributeValue{":v": store.N(prev.Version)}
	}
	items := []types.TransactWriteItem{{Put: put}}
	if sameTime(prev.NextDueAt, next.NextDueAt) {
		return items, nil
	}
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
	return items, nil
}

func sameTime(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == b
	}
	return store.SortTime(*a) == store.SortTime(*b)
}

// messageItem is the transaction item storing a message.
func messageItem(m Message) (types.TransactWriteItem, error) {
	k := store.TicketMessageKey(m.TicketID, m.At, m.ID)
	m.PK, m.SK, m.Type = k.PK, k.SK, "support-message"
	item, err := store.Marshal(m)
	if err != nil {
		return types.TransactWriteItem{}, err
	}
	return types.TransactWriteItem{Put: &types.Put{Item: item, ConditionExpression: aws.String("attribute_not_exists(PK)")}}, nil
}

// statName is the statistics counter of an outcome: "<tier>_<priority>_<target>_<met|breached>".
func statName(tier, priority, target, result string) string {
	return strings.Join([]string{tier, priority, target, result}, "_")
}

// statsItems applies outcomes to the statistics: one update per day touched (a count taken back
// goes to the day it was counted on), in day order.
func statsItems(outs []outcome) []*types.TransactWriteItem {
	byDay := map[string]map[string]int64{} // day's SK → counter → delta
	for _, o := range outs {
		if o.Counter == "" || o.Delta == 0 {
			continue
		}
		sk := store.SLAStatsKey(o.Day).SK
		if byDay[sk] == nil {
			byDay[sk] = map[string]int64{}
		}
		byDay[sk][o.Counter] += o.Delta
	}
	var items []*types.TransactWriteItem
	for _, sk := range slices.Sorted(maps.Keys(byDay)) {
		items = append(items, store.AddCounters(store.Key{PK: store.SLAStatsPK, SK: sk}, byDay[sk]))
	}
	return items
}

// breaches counts the breaches decided (for the day counter and the metric).
func breaches(outs []outcome) int64 {
	var n int64
	for _, o := range outs {
		if o.Result == OutcomeBreached && o.Delta > 0 {
			n++
		}
	}
	return n
}
