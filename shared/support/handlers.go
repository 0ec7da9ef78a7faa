package support

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/audit"
	"github.com/liberation/monetization/shared/httpapi"
	"github.com/liberation/monetization/shared/ids"
	"github.com/liberation/monetization/shared/licensing"
	"github.com/liberation/monetization/shared/logging"
	"github.com/liberation/monetization/shared/manifest"
	"github.com/liberation/monetization/shared/metric"
	"github.com/liberation/monetization/shared/store"
)

// isAgent reports a support agent.
func isAgent(r *httpapi.Request) bool { return r.Principal.InGroup(manifest.GroupSupport) }

// seeAgent keeps the agent directory current (assignment by id, warnings to their address).
func seeAgent(ctx context.Context, d *Deps, r *httpapi.Request) {
	if !isAgent(r) {
		return
	}
	if err := rememberAgent(ctx, d, r.Principal.UserID, strings.ToLower(r.Principal.Email)); err != nil {
		logging.From(ctx).Warn("agent profile not written", "err", err.Error())
	}
}

// activity counts the caller among their license's monthly active learners (best effort).
func activity(ctx context.Context, d *Deps, r *httpapi.Request) {
	if err := licensing.RecordActivity(ctx, d.Store, r.Principal.UserID, r.Principal.Email, d.Clock.Now()); err != nil {
		logging.From(ctx).Warn("activity not recorded", "err", err.Error())
	}
}

// readable returns the ticket for its requester, the requester's org admins and agents; anyone
// else gets 404, as for a ticket that does not exist. role is how the caller takes part.
func readable(ctx context.Context, d *Deps, r *httpapi.Request, t Ticket) (string, error) {
	switch {
	case t.RequesterID == r.Principal.UserID:
		return RoleRequester, nil
	case isAgent(r):
		return RoleAgent, nil
	case t.LicenseID != "":
		ok, err := licensing.IsOrgAdmin(ctx, d.Store, t.LicenseID, r.Principal.UserID)
		if err != nil {
			return "", err
		}
		if ok {
			return RoleOrgAdmin, nil
		}
	}
	return "", apperr.New(apperr.NotFound, "ticket not found")
}

// handleCreate serves POST /support/tickets (Idempotency-Key honoured: a retried submit opens one
// ticket). The tier (and so the SLA) is the requester's at this moment; a seat holder's ticket
// counts in their license's usage in the same transaction.
func handleCreate(d *Deps) httpapi.Handler {
	return func(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
		var req createRequest
		if err := r.Decode(&req); err != nil {
			return httpapi.Response{}, err
		}
		now := d.Clock.Now().UTC()
		tier, seat, err := d.Tier(ctx, r.Principal.UserID, now)
		if err != nil {
			return httpapi.Response{}, err
		}
		t := newTicket(ids.New("tkt", now), r.Principal.UserID, strings.ToLower(r.Principal.Email), tier, req.Priority, req.Subject, now)
		if seat != nil {
			t.LicenseID, t.TimeZone = seat.LicenseID, seat.TimeZone
		}
		t.Messages = 1
		items, err := writeTicket(Ticket{}, &t)
		if err != nil {
			return httpapi.Response{}, err
		}
		msg := Message{ID: ids.New("msg", now), TicketID: t.ID, AuthorID: r.Principal.UserID, Role: RoleRequester, Body: req.Body, At: now}
		msgItem, err := messageItem(msg)
		if err != nil {
			return httpapi.Response{}, err
		}
		items = append(items, msgItem)
		if t.LicenseID != "" {
			items = store.Append(items, licensing.TicketUsage(t.LicenseID, t.Priority, now))
		}
		if err := d.Store.Transact(ctx, items); err != nil {
			return httpapi.Response{}, err
		}
		activity(ctx, d, r)
		v := viewOf(t, now)
		v.Messages = []MessageView{{ID: msg.ID, AuthorID: msg.AuthorID, Role: msg.Role, Body: msg.Body, At: now}}
		return httpapi.JSON(http.StatusCreated, v), nil
	}
}

// handleListMine serves GET /support/tickets: the caller's tickets, newest first.
func handleListMine(d *Deps) httpapi.Handler {
	return func(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
		limit, err := r.Limit(20, 100)
		if err != nil {
			return httpapi.Response{}, err
		}
		pk, _ := store.RequesterTicketsGSI1(r.Principal.UserID, time.Time{}, "")
		page, err := store.NewestPage[Ticket](ctx, d.Store, "tickets#"+r.Principal.UserID, pk, limit, r.Query("cursor"))
		if err != nil {
			return httpapi.Response{}, err
		}
		return httpapi.OK(listOf(page, d.Clock.Now())), nil
	}
}

func listOf(page store.Page[Ticket], now time.Time) map[string]any {
	out := make([]TicketView, 0, len(page.Items))
	for _, t := range page.Items {
		out = append(out, viewOf(t, now))
	}
	return map[string]any{"tickets": out, "nextCursor": page.NextCursor}
}

// handleGet serves GET /support/tickets/{ticketId} with its messages (at most MaxMessages).
func handleGet(d *Deps) httpapi.Handler {
	return func(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
		t, err := getTicket(ctx, d.Store, r.PathParam("ticketId"))
		if err != nil {
			return httpapi.Response{}, err
		}
		if _, err := readable(ctx, d, r, t); err != nil {
			return httpapi.Response{}, err
		}
		msgs, err := store.QueryAll[Message](ctx, d.Store, &dynamodb.QueryInput{
			KeyConditionExpression: aws.String("PK = :pk AND begins_with(SK, :m)"),
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":pk": store.S(store.TicketKey(t.ID).PK), ":m": store.S(store.TicketMessagePrefix)},
			ConsistentRead: aws.Bool(true),
			Limit:          aws.Int32(MaxMessages),
		})
		if err != nil {
			return httpapi.Response{}, err
		}
		v := viewOf(t, d.Clock.Now())
		v.Messages = make([]MessageView, 0, len(msgs))
		for _, m := range msgs {
			v.Messages = append(v.Messages, MessageView{ID: m.ID, AuthorID: m.AuthorID, Role: m.Role, Body: m.Body, At: m.At.UTC()})
		}
		return httpapi.OK(v), nil
	}
}

const maxAttempts = 8

// update reads the ticket, applies change and writes the result with the change's extra items,
// retrying on a lost race. It returns the stored ticket and the outcomes counted.
func update(ctx context.Context, d *Deps, id string, change func(t *Ticket, now time.Time) ([]outcome, []types.TransactWriteItem, error)) (Ticket, []outcome, error) {
	for attempt := 0; attempt < maxAttempts; attempt++ {
		prev, err := getTicket(ctx, d.Store, id)
		if err != nil {
			return prev, nil, err
		}
		now := d.Clock.Now().UTC()
		next := prev
		next.Events, next.Outcomes, next.Counted = copyMap(prev.Events), copyMap(prev.Outcomes), copyMap(prev.Counted)
		outs, extra, err := change(&next, now)
		if err != nil {
			return prev, nil, err
		}
		items, err := writeTicket(prev, &next)
		if err != nil {
			return prev, nil, err
		}
		items = append(items, extra...)
		items = store.Append(items, statsItems(outs)...)
		if n := breaches(outs); n > 0 {
			items = store.Append(items, store.AddDayCounters(now, map[string]int64{store.CtrSLABreaches: n}))
		}
		err = d.Store.Transact(ctx, items)
		if err == nil {
			return next, outs, nil
		}
		if !store.LostRace(err) {
			return prev, nil, err
		}
		if err := store.Backoff(ctx, attempt); err != nil {
			return prev, nil, err
		}
	}
	return Ticket{}, nil, apperr.New(apperr.Conflict, "the ticket is changing concurrently; retry")
}

func copyMap[V any](m map[string]V) map[string]V {
	out := make(map[string]V, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// emitBreaches emits the SLA breach metric for breaches recorded outside the job (a target
// completed late before the job saw it).
func emitBreaches(ctx context.Context, fn string, outs []outcome) {
	if n := breaches(outs); n > 0 {
		metric.Emit(ctx, logging.From(ctx), fn, metric.SLABreaches, n)
	}
}

// handleReply serves POST /support/tickets/{ticketId}/replies by the requester, their org admins or
// agents. The other side is told by e-mail (the requester in their organisation's branding).
func handleReply(fn manifest.Function, d *Deps) httpapi.Handler {
	return func(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
		var req replyRequest
		if err := r.Decode(&req); err != nil {
			return httpapi.Response{}, err
		}
		first, err := getTicket(ctx, d.Store, r.PathParam("ticketId"))
		if err != nil {
			return httpapi.Response{}, err
		}
		role, err := readable(ctx, d, r, first)
		if err != nil {
			return httpapi.Response{}, err
		}
		seeAgent(ctx, d, r)
		var msg Message
		t, outs, err := update(ctx, d, first.ID, func(t *Ticket, now time.Time) ([]outcome, []types.TransactWriteItem, error) {
			if t.Messages >= MaxMessages {
				return nil, nil, apperr.New(apperr.Unprocessable, "the ticket has %d messages; open a new ticket", MaxMessages)
			}
			msg = Message{ID: ids.New("msg", now), TicketID: t.ID, AuthorID: r.Principal.UserID, Role: role, Body: req.Body, At: now}
			it, err := messageItem(msg)
			if err != nil {
				return nil, nil, err
			}
			return t.reply(role, now), []types.TransactWriteItem{it}, nil
		})
		if err != nil {
			return httpapi.Response{}, err
		}
		emitBreaches(ctx, fn.Name, outs)
		if role != RoleAgent {
			activity(ctx, d, r)
		}
		notifyReply(ctx, d, t, msg)
		return httpapi.JSON(http.StatusCreated, MessageView{ID: msg.ID, AuthorID: msg.AuthorID, Role: msg.Role, Body: msg.Body, At: msg.At.UTC()}), nil
	}
}

// notifyReply e-mails the other side of a reply, once per message. A failed e-mail does not undo
// the reply (it is stored and visible); it is logged.
func notifyReply(ctx context.Context, d *Deps, t Ticket, m Message) {
	var err error
	if m.Role == RoleAgent {
		var b licensing.Branding
		if b, err = licensing.BrandingFor(ctx, d.Store, t.RequesterID); err == nil {
			_, err = d.send(ctx, b, t.RequesterEmail, "ticket-reply#"+m.ID, replyToRequester(d, t, m.Body))
		}
	} else {
		_, err = d.send(ctx, licensing.PlatformBranding(), or(t.AssigneeEmail, d.AgentsEmail), "ticket-reply#"+m.ID, replyToAgents(d, t, m.Body))
	}
	if err != nil {
		logging.From(ctx).Error("reply e-mail not sent", "ticketId", t.ID, "err", err.Error())
	}
}

// handleQueue serves GET /support/queue?status=&breaching= (agents): tickets by status, oldest
// first; breaching=true keeps those past or breached on a target they still owe (so a page may
// hold fewer than limit; follow nextCursor).
func handleQueue(fn manifest.Function, d *Deps) httpapi.Handler {
	return func(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
		seeAgent(ctx, d, r)
		status := or(r.Query("status"), StatusOpen)
		if status != StatusOpen && status != StatusPending && status != StatusSolved {
			return httpapi.Response{}, invalid("status", "must be open, pending or solved")
		}
		breachingOnly := false
		switch r.Query("breaching") {
		case "", "false":
		case "true":
			breachingOnly = true
		default:
			return httpapi.Response{}, invalid("breaching", "must be true or false")
		}
		limit, err := r.Limit(20, 100)
		if err != nil {
			return httpapi.Response{}, err
		}
		pk, _ := store.TicketQueueGSI2(status, time.Time{}, "")
		page, err := store.QueryPage[Ticket](ctx, d.Store, "queue#"+status, &dynamodb.QueryInput{
			IndexName:                 aws.String(manifest.GSI2.Name),
			KeyConditionExpression:    aws.String("GSI2PK = :pk"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":pk": store.S(pk)},
		}, limit, r.Query("cursor"))
		if err != nil {
			return httpapi.Response{}, err
		}
		now := d.Clock.Now()
		if breachingOnly {
			kept := page.Items[:0]
			for _, t := range page.Items {
				if t.breaching(now) {
					kept = append(kept, t)
				}
			}
			page.Items = kept
		}
		return httpapi.OK(listOf(page, now)), nil
	}
}

// handleUpdate serves PATCH /support/tickets/{ticketId} (agents): status, assignee, priority.
func handleUpdate(fn manifest.Function, d *Deps) httpapi.Handler {
	return func(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
		var req patchRequest
		if err := r.Decode(&req); err != nil {
			return httpapi.Response{}, err
		}
		seeAgent(ctx, d, r)
		var agent Agent
		if req.Assignee != nil && *req.Assignee != "" {
			if err := d.Store.GetConsistent(ctx, store.SupportAgentKey(*req.Assignee), &agent); err != nil {
				if apperr.Is(err, apperr.NotFound) {
					return httpapi.Response{}, apperr.New(apperr.Unprocessable, "assignee is not a support agent (agents appear once they use the support routes)")
				}
				return httpapi.Response{}, err
			}
		}
		t, outs, err := update(ctx, d, r.PathParam("ticketId"), func(t *Ticket, now time.Time) ([]outcome, []types.TransactWriteItem, error) {
			if req.Priority != nil {
				if err := t.setPriority(*req.Priority, now); err != nil {
					return nil, nil, err
				}
			}
			if req.Assignee != nil {
				t.Assignee, t.AssigneeEmail, t.UpdatedAt = agent.UserID, agent.Email, now
			}
			var outs []outcome
			if req.Status != nil {
				var err error
				if outs, err = t.setStatus(*req.Status, now); err != nil {
					return nil, nil, err
				}
			}
			a, err := audit.Item(audit.Entry{Actor: r.Principal.UserID, Action: "support.ticket.update", Target: "ticket:" + t.ID,
				RequestID: r.ID, Details: map[string]string{"status": t.Status, "priority": t.Priority, "assignee": t.Assignee}}, now)
			if err != nil {
				return nil, nil, err
			}
			return outs, []types.TransactWriteItem{a}, nil
		})
		if err != nil {
			return httpapi.Response{}, err
		}
		emitBreaches(ctx, fn.Name, outs)
		return httpapi.OK(viewOf(t, d.Clock.Now())), nil
	}
}
