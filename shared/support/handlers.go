package support

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/audit"
	"github.com/liberation/monetization/shared/clock"
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
func seeAgent(ctx context.Context, agents agentDirectory, now time.Time, r *httpapi.Request) {
	if !isAgent(r) {
		return
	}
	if err := rememberAgent(ctx, agents, r.Principal.UserID, strings.ToLower(r.Principal.Email), now); err != nil {
		logging.From(ctx).Warn("agent profile not written", "err", err.Error())
	}
}

// activity counts the caller among their license's monthly active learners (best effort).
func activity(ctx context.Context, act activityRecorder, now time.Time, r *httpapi.Request) {
	if err := act.RecordActivity(ctx, r.Principal.UserID, r.Principal.Email, now); err != nil {
		logging.From(ctx).Warn("activity not recorded", "err", err.Error())
	}
}

// readable returns the ticket for its requester, the requester's org admins and agents; anyone
// else gets 404, as for a ticket that does not exist. role is how the caller takes part.
func readable(ctx context.Context, orgs orgAdmins, r *httpapi.Request, t Ticket) (string, error) {
	switch {
	case t.RequesterID == r.Principal.UserID:
		return RoleRequester, nil
	case isAgent(r):
		return RoleAgent, nil
	case t.LicenseID != "":
		ok, err := orgs.IsOrgAdmin(ctx, t.LicenseID, r.Principal.UserID)
		if err != nil {
			return "", err
		}
		if ok {
			return RoleOrgAdmin, nil
		}
	}
	return "", apperr.New(apperr.NotFound, "ticket not found")
}

func wireCreateSupportTicket(w wiring) (httpapi.Lambda, error) {
	return w.route(httpapi.Idempotent(w.Claims, w.rt.Fn.Name, handleCreate(w.Clock, w.Tier, w.Repo, w.Orgs)))
}

// handleCreate serves POST /support/tickets (Idempotency-Key honoured by the constructor: a retried
// submit opens one ticket). The tier (and so the SLA) is the requester's at this moment; a seat
// holder's ticket counts in their license's usage in the same transaction.
func handleCreate(clk clock.Clock, tier TierSource, w ticketWriter, act activityRecorder) httpapi.Handler {
	return func(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
		var req createRequest
		if err := r.Decode(&req); err != nil {
			return httpapi.Response{}, err
		}
		now := clk.Now().UTC()
		tr, seat, err := tier(ctx, r.Principal.UserID, now)
		if err != nil {
			return httpapi.Response{}, err
		}
		t := newTicket(ids.New("tkt", now), r.Principal.UserID, strings.ToLower(r.Principal.Email), tr, req.Priority, req.Subject, now)
		if seat != nil {
			t.LicenseID, t.TimeZone = seat.LicenseID, seat.TimeZone
		}
		t.Messages = 1
		stamp(Ticket{}, &t)
		msg := Message{ID: ids.New("msg", now), TicketID: t.ID, AuthorID: r.Principal.UserID, Role: RoleRequester, Body: req.Body, At: now}
		if err := w.WriteTicket(ctx, ticketWrite{Next: t, Message: &msg, CountUsage: true, At: now}); err != nil {
			return httpapi.Response{}, err
		}
		activity(ctx, act, now, r)
		v := viewOf(t, now)
		v.Messages = []MessageView{{ID: msg.ID, AuthorID: msg.AuthorID, Role: msg.Role, Body: msg.Body, At: now}}
		return httpapi.JSON(http.StatusCreated, v), nil
	}
}

func wireListSupportTickets(w wiring) (httpapi.Lambda, error) {
	return w.route(handleListMine(w.Clock, w.Repo))
}

// handleListMine serves GET /support/tickets: the caller's tickets, newest first.
func handleListMine(clk clock.Clock, list requesterTickets) httpapi.Handler {
	return func(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
		var now time.Time // of the read: the views' SLA clocks
		return httpapi.ListPage(ctx, r, "tickets", listLimits,
			func(ctx context.Context, limit int32, cursor string) ([]Ticket, string, error) {
				page, err := list.RequesterTickets(ctx, r.Principal.UserID, limit, cursor)
				now = clk.Now()
				return page.Items, page.NextCursor, err
			}, func(t Ticket) TicketView { return viewOf(t, now) })
	}
}

// listLimits are the ?limit= default and maximum of support's lists; their documented shape
// (TicketPage in docs/openapi.yaml) always has nextCursor, empty on the last page.
var listLimits = httpapi.Limits{Default: 20, Max: 100, EmptyCursor: true}

func wireGetSupportTicket(w wiring) (httpapi.Lambda, error) {
	return w.route(handleGet(w.Clock, w.Repo, w.Repo, w.Orgs))
}

// handleGet serves GET /support/tickets/{ticketId} with its messages (at most MaxMessages).
func handleGet(clk clock.Clock, tix ticketReader, msgs messageReader, orgs orgAdmins) httpapi.Handler {
	return func(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
		t, err := tix.Ticket(ctx, r.PathParam("ticketId"))
		if err != nil {
			return httpapi.Response{}, err
		}
		if _, err := readable(ctx, orgs, r, t); err != nil {
			return httpapi.Response{}, err
		}
		ms, err := msgs.Messages(ctx, t.ID)
		if err != nil {
			return httpapi.Response{}, err
		}
		v := viewOf(t, clk.Now())
		v.Messages = make([]MessageView, 0, len(ms))
		for _, m := range ms {
			v.Messages = append(v.Messages, MessageView{ID: m.ID, AuthorID: m.AuthorID, Role: m.Role, Body: m.Body, At: m.At.UTC()})
		}
		return httpapi.OK(v), nil
	}
}

const maxAttempts = 8

// update reads the ticket, lets change compute the write (w.Next is the ticket to change; it sets
// the outcomes and anything else written with it) and writes it, retrying on a lost race. It
// returns the stored ticket and the outcomes counted.
func update(ctx context.Context, clk clock.Clock, tix tickets, id string, change func(w *ticketWrite, now time.Time) error) (Ticket, []outcome, error) {
	for attempt := 0; attempt < maxAttempts; attempt++ {
		prev, err := tix.Ticket(ctx, id)
		if err != nil {
			return prev, nil, err
		}
		now := clk.Now().UTC()
		w := ticketWrite{Prev: prev, Next: prev, At: now}
		w.Next.Events, w.Next.Outcomes, w.Next.Counted = copyMap(prev.Events), copyMap(prev.Outcomes), copyMap(prev.Counted)
		if err := change(&w, now); err != nil {
			return prev, nil, err
		}
		stamp(prev, &w.Next)
		err = tix.WriteTicket(ctx, w)
		if err == nil {
			return w.Next, w.Outcomes, nil
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

// replyDeps are the ports a reply uses.
type replyDeps struct {
	clock    clock.Clock
	tickets  tickets
	orgs     orgAdmins
	agents   agentDirectory
	activity activityRecorder
	note     notifier
}

func wireReplySupportTicket(w wiring) (httpapi.Lambda, error) {
	return w.route(handleReply(w.rt.Fn, replyDeps{clock: w.Clock, tickets: w.Repo, orgs: w.Orgs, agents: w.Repo, activity: w.Orgs, note: w.notifier()}))
}

// handleReply serves POST /support/tickets/{ticketId}/replies by the requester, their org admins or
// agents. The other side is told by e-mail (the requester in their organisation's branding).
func handleReply(fn manifest.Function, d replyDeps) httpapi.Handler {
	return func(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
		var req replyRequest
		if err := r.Decode(&req); err != nil {
			return httpapi.Response{}, err
		}
		first, err := d.tickets.Ticket(ctx, r.PathParam("ticketId"))
		if err != nil {
			return httpapi.Response{}, err
		}
		role, err := readable(ctx, d.orgs, r, first)
		if err != nil {
			return httpapi.Response{}, err
		}
		seeAgent(ctx, d.agents, d.clock.Now(), r)
		var msg Message
		t, outs, err := update(ctx, d.clock, d.tickets, first.ID, func(w *ticketWrite, now time.Time) error {
			if w.Next.Messages >= MaxMessages {
				return apperr.New(apperr.Unprocessable, "the ticket has %d messages; open a new ticket", MaxMessages)
			}
			msg = Message{ID: ids.New("msg", now), TicketID: w.Next.ID, AuthorID: r.Principal.UserID, Role: role, Body: req.Body, At: now}
			w.Message = &msg
			w.Outcomes = w.Next.reply(role, now)
			return nil
		})
		if err != nil {
			return httpapi.Response{}, err
		}
		emitBreaches(ctx, fn.Name, outs)
		if role != RoleAgent {
			activity(ctx, d.activity, d.clock.Now(), r)
		}
		notifyReply(ctx, d.note, t, msg)
		return httpapi.JSON(http.StatusCreated, MessageView{ID: msg.ID, AuthorID: msg.AuthorID, Role: msg.Role, Body: msg.Body, At: msg.At.UTC()}), nil
	}
}

// notifyReply e-mails the other side of a reply, once per message. A failed e-mail does not undo
// the reply (it is stored and visible); it is logged.
func notifyReply(ctx context.Context, d notifier, t Ticket, m Message) {
	var err error
	if m.Role == RoleAgent {
		var b licensing.Branding
		if b, err = d.Brandings.Branding(ctx, t.RequesterID); err == nil {
			_, err = d.send(ctx, b, t.RequesterEmail, "ticket-reply#"+m.ID, replyToRequester(d, t, m.Body))
		}
	} else {
		_, err = d.send(ctx, licensing.PlatformBranding(), or(t.AssigneeEmail, d.AgentsEmail), "ticket-reply#"+m.ID, replyToAgents(d, t, m.Body))
	}
	if err != nil {
		logging.From(ctx).Error("reply e-mail not sent", "ticketId", t.ID, "err", err.Error())
	}
}

func wireListSupportQueue(w wiring) (httpapi.Lambda, error) {
	return w.route(handleQueue(w.Clock, w.Repo, w.Repo))
}

// handleQueue serves GET /support/queue?status=&breaching= (agents): tickets by status, oldest
// first; breaching=true keeps those past or breached on a target they still owe (so a page may
// hold fewer than limit; follow nextCursor).
func handleQueue(clk clock.Clock, agents agentDirectory, queue agentQueue) httpapi.Handler {
	return func(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
		seeAgent(ctx, agents, clk.Now(), r)
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
		var now time.Time // of the read: which tickets breach, and the views' SLA clocks
		return httpapi.ListPage(ctx, r, "tickets", listLimits,
			func(ctx context.Context, limit int32, cursor string) ([]Ticket, string, error) {
				page, err := queue.Queue(ctx, status, limit, cursor)
				if err != nil {
					return nil, "", err
				}
				now = clk.Now()
				if breachingOnly {
					kept := page.Items[:0]
					for _, t := range page.Items {
						if t.breaching(now) {
							kept = append(kept, t)
						}
					}
					page.Items = kept
				}
				return page.Items, page.NextCursor, nil
			}, func(t Ticket) TicketView { return viewOf(t, now) })
	}
}

func wireUpdateSupportTicket(w wiring) (httpapi.Lambda, error) {
	return w.route(handleUpdate(w.rt.Fn, w.Clock, w.Repo, w.Repo))
}

// handleUpdate serves PATCH /support/tickets/{ticketId} (agents): status, assignee, priority.
func handleUpdate(fn manifest.Function, clk clock.Clock, tix tickets, agents agentDirectory) httpapi.Handler {
	return func(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
		var req patchRequest
		if err := r.Decode(&req); err != nil {
			return httpapi.Response{}, err
		}
		seeAgent(ctx, agents, clk.Now(), r)
		var agent Agent
		if req.Assignee != nil && *req.Assignee != "" {
			var err error
			if agent, err = agents.Agent(ctx, *req.Assignee); err != nil {
				if apperr.Is(err, apperr.NotFound) {
					return httpapi.Response{}, apperr.New(apperr.Unprocessable, "assignee is not a support agent (agents appear once they use the support routes)")
				}
				return httpapi.Response{}, err
			}
		}
		t, outs, err := update(ctx, clk, tix, r.PathParam("ticketId"), func(w *ticketWrite, now time.Time) error {
			t := &w.Next
			if req.Priority != nil {
				if err := t.setPriority(*req.Priority, now); err != nil {
					return err
				}
			}
			if req.Assignee != nil {
				t.Assignee, t.AssigneeEmail, t.UpdatedAt = agent.UserID, agent.Email, now
			}
			if req.Status != nil {
				var err error
				if w.Outcomes, err = t.setStatus(*req.Status, now); err != nil {
					return err
				}
			}
			w.Audit = &audit.Entry{Actor: r.Principal.UserID, Action: "support.ticket.update", Target: "ticket:" + t.ID,
				RequestID: r.ID, Details: map[string]string{"status": t.Status, "priority": t.Priority, "assignee": t.Assignee}}
			return nil
		})
		if err != nil {
			return httpapi.Response{}, err
		}
		emitBreaches(ctx, fn.Name, outs)
		return httpapi.OK(viewOf(t, clk.Now())), nil
	}
}
