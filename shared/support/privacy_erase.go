package support

import (
	"context"
	"time"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/clock"
	"github.com/liberation/monetization/shared/platform"
	"github.com/liberation/monetization/shared/privacy"
	"github.com/liberation/monetization/shared/store"
)

// Erasure of a person's support data (issue 18, docs/privacy.md "Erasure", decision 0087). The
// tickets they opened are kept — enterprise customers' SLA figures are counted from them, and the
// counters, the queue and the schedule must not move — with what identifies the person replaced:
// the subject and every message body (theirs, their org admins' and the agents' replies, which
// quote them) become privacy.ErasedText, the requester's address the pseudonym's, and the ticket is
// tied to the pseudonym (erasedAs). Status, tier, priority, SLA meter and outcomes, assignee and
// times stay, so the queue's counts and the SLA report are unchanged. A solved ticket already
// carries its TTL (ClosedTicketRetention); an open one gets it when it is solved. Their agent
// profile (if they were an agent) is deleted.
//
// Each message's change is one conditional update (a ticket holds up to 200 messages, more than a
// transaction), and the ticket is written last, over the version read before its messages were
// erased: a reply that lands meanwhile fails that write, and the ticket is read and erased again.
// A ticket with erasedAs is finished, so a re-run changes nothing.
//
// Not reached (no index by author or assignee): messages the person wrote on other people's
// tickets (as an org admin or an agent), and their address as the assignee of others' tickets.

// ErasePersonalDataHooks registers support's eraser with the erasure host (docs/privacy.md).
func ErasePersonalDataHooks(rt *platform.Runtime, r *privacy.Registry) error {
	s := store.Open(rt)
	r.RegisterEraser("support", PersonalDataEraser(privacy.Reader{S: s}, &dynamoRepo{s}, rt.Clock))
	return nil
}

// eraseWrites are the erasure's own writes (repo_erase.go); changed false when the condition found
// the record erased, gone or changed.
type eraseWrites interface {
	EraseMessage(ctx context.Context, k store.Key, read, erased string) (bool, error)
	DropAgent(ctx context.Context, userID, email string) (bool, error)
}

// eraseRepo is what the eraser writes through: tickets (the versioned write every change of a
// ticket makes) and its own writes.
type eraseRepo interface {
	tickets
	eraseWrites
}

type erasure struct {
	rd   privacy.Reader
	repo eraseRepo
	clk  clock.Clock
}

// PersonalDataEraser erases a person's support data through repo, reading their items with rd.
func PersonalDataEraser(rd privacy.Reader, repo eraseRepo, clk clock.Clock) privacy.Eraser {
	e := erasure{rd: rd, repo: repo, clk: clk}
	return privacy.Phases(
		privacy.EachRow(func(s privacy.ErasureSubject) privacy.Source {
			mine, _ := store.RequesterTicketsGSI1(s.UserID, time.Time{}, "")
			return rd.Index("ticket", mine)
		}, e.ticket),
		privacy.EachRow(func(s privacy.ErasureSubject) privacy.Source {
			return rd.One("support-agent", store.SupportAgentKey(s.UserID))
		}, e.agent),
	)
}

// ticket erases one ticket the person opened: its messages, then the ticket.
func (e erasure) ticket(ctx context.Context, s privacy.ErasureSubject, row map[string]any) (privacy.RowResult, error) {
	if privacy.Str(row, "requesterId") != s.UserID || privacy.Str(row, "erasedAs") != "" {
		return privacy.RowResult{}, nil // the index lags a change, or the ticket is done
	}
	id := privacy.Str(row, "id")
	var res privacy.RowResult
	err := store.Retry(ctx, "erase ticket "+id, maxAttempts, store.LostRace, func() error {
		prev, err := e.repo.Ticket(ctx, id)
		if apperr.Is(err, apperr.NotFound) {
			return nil // expired meanwhile
		}
		if err != nil {
			return err
		}
		if prev.RequesterID != s.UserID || prev.ErasedAs != "" {
			return nil
		}
		msgs, err := e.rd.All(ctx, store.TicketPK(id), store.TicketMessagePrefix)
		if err != nil {
			return err
		}
		for _, m := range msgs {
			if body := privacy.Str(m, "body"); body != privacy.ErasedText {
				ok, err := e.repo.EraseMessage(ctx, store.Key{PK: privacy.Str(m, "PK"), SK: privacy.Str(m, "SK")}, body, privacy.ErasedText)
				if err != nil {
					return err
				}
				res.Changed = res.Changed || ok
			}
		}
		next := prev
		next.Events, next.Outcomes, next.Counted = copyMap(prev.Events), copyMap(prev.Outcomes), copyMap(prev.Counted)
		next.Subject, next.RequesterEmail, next.ErasedAs = privacy.ErasedText, s.PseudonymEmail(), s.Pseudonym
		next.Version = prev.Version + 1 // NextDueAt as it was: the schedule does not move
		if err := e.repo.WriteTicket(ctx, ticketWrite{Prev: prev, Next: next, At: e.clk.Now().UTC()}); err != nil {
			return err
		}
		res.Changed = true
		return nil
	})
	return res, err
}

// agent deletes the person's agent profile (their address, for SLA warnings).
func (e erasure) agent(ctx context.Context, s privacy.ErasureSubject, row map[string]any) (privacy.RowResult, error) {
	ok, err := e.repo.DropAgent(ctx, s.UserID, privacy.Str(row, "email"))
	return privacy.RowResult{Changed: ok}, err
}
