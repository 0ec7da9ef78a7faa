package support

import (
	"context"
	"time"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/clock"
	"github.com/liberation/monetization/shared/job"
	"github.com/liberation/monetization/shared/licensing"
	"github.com/liberation/monetization/shared/logging"
	"github.com/liberation/monetization/shared/metric"
	"github.com/liberation/monetization/shared/notify"
	"github.com/liberation/monetization/shared/support/sla"
)

// CheckReport is what one run of the SLA check did.
type CheckReport struct {
	Due              int `json:"due"`
	Warnings         int `json:"warnings"`
	Escalations      int `json:"escalations"`
	AlreadySent      int `json:"alreadySent"`
	LeftToOtherRun   int `json:"leftToOtherRun"`
	BreachesRecorded int `json:"breachesRecorded"`
	Failures         int `json:"failures"`
}

// checker is the SLA check and the ports it uses.
type checker struct {
	clock    clock.Clock
	tickets  tickets
	schedule slaSchedule
	note     notifier
}

func wireSupportSlaCheck(w wiring) (job.Handler[CheckReport], error) {
	return job.Handle(w.rt.Log, func(ctx context.Context) (CheckReport, error) { return RunCheck(ctx, w.Deps, w.rt.Fn.Name) }), nil
}

// RunCheck is the SLA check (every 5 minutes): for every ticket on the SLA schedule due by now, it
// sends each due event's e-mail once — the warning at 75 % to the assignee (or the team), the
// escalation at 100 % to the team — and then records the events on the ticket (with, for a breach,
// the outcome, the statistics and the day counter) and moves the ticket's schedule entry, in one
// transaction conditioned on the ticket's version. E-mails are claimed by dedupe id before they are
// sent, so a re-run or an overlapping run never sends twice; the breach metric is emitted by the
// run whose transaction recorded the breach, so once.
func RunCheck(ctx context.Context, d *Deps, fn string) (CheckReport, error) {
	return checker{clock: d.Clock, tickets: d.Repo, schedule: d.Repo, note: d.notifier()}.run(ctx, fn)
}

func (c checker) run(ctx context.Context, fn string) (CheckReport, error) {
	var rep CheckReport
	now := c.clock.Now().UTC()
	log := logging.From(ctx)
	err := c.schedule.EachDue(ctx, now, func(e dueEntry) error {
		rep.Due++
		if err := c.checkTicket(ctx, fn, e, now, &rep); err != nil {
			rep.Failures++
			log.Error("SLA check of a ticket failed", "ticketId", e.TicketID, "code", apperr.CodeOf(err), "err", err.Error())
		}
		return nil
	})
	if err != nil {
		return rep, err
	}
	if rep.Failures > 0 {
		return rep, apperr.New(apperr.Unavailable, "%d tickets failed; the next run retries them", rep.Failures)
	}
	return rep, nil
}

func (c checker) checkTicket(ctx context.Context, fn string, entry dueEntry, now time.Time, rep *CheckReport) error {
	t, err := c.tickets.Ticket(ctx, entry.TicketID)
	if apperr.Is(err, apperr.NotFound) {
		return c.schedule.DropDue(ctx, entry)
	}
	if err != nil {
		return err
	}
	if t.NextDueAt == nil || !sameTime(t.NextDueAt, &entry.At) {
		// An entry the ticket no longer points at (cannot happen through WriteTicket, which moves
		// it in the ticket's own transaction); drop it rather than read it every five minutes.
		return c.schedule.DropDue(ctx, entry)
	}
	due := t.Due(now)
	breached := map[string]bool{}
	for _, e := range due {
		if e.Kind == sla.Breach {
			breached[e.Target] = true
		}
	}
	// Send first, then record: a send claimed by an overlapping run is left to it entirely.
	var sent []sla.Event
	for _, e := range due {
		if e.Kind == sla.Warning && breached[e.Target] {
			sent = append(sent, e) // late run: escalate only; the stale warning is recorded unsent
			continue
		}
		o, err := sendEvent(ctx, c.note, t, e, now)
		if err != nil {
			return err
		}
		switch o {
		case notify.InProgress:
			rep.LeftToOtherRun++
			return nil
		case notify.AlreadySent:
			rep.AlreadySent++
		case notify.Sent:
			if e.Kind == sla.Warning {
				rep.Warnings++
				// Once per warning sent (the e-mail's claim makes it once across overlapping runs).
				metric.Emit(ctx, logging.From(ctx), fn, metric.SLAWarnings, 1)
			} else {
				rep.Escalations++
			}
		}
		sent = append(sent, e)
	}
	recorded, err := c.recordEvents(ctx, t.ID, sent)
	if err != nil {
		return err
	}
	if n := breaches(recorded); n > 0 {
		rep.BreachesRecorded += int(n)
		metric.Emit(ctx, logging.From(ctx), fn, metric.SLABreaches, n)
	}
	return nil
}

// sendEvent sends the e-mail of one SLA event, once.
func sendEvent(ctx context.Context, d notifier, t Ticket, e sla.Event, now time.Time) (notify.Outcome, error) {
	to := d.AgentsEmail
	if e.Kind == sla.Warning && t.AssigneeEmail != "" {
		to = t.AssigneeEmail
	}
	return d.send(ctx, licensing.PlatformBranding(), to, "sla#"+t.ID+"#"+e.ID(), slaMail(d, t, e, now))
}

// recordEvents records sent events on the ticket (a breach also as the target's outcome, counted
// once) and returns the outcomes this call counted.
func (c checker) recordEvents(ctx context.Context, id string, events []sla.Event) ([]outcome, error) {
	if len(events) == 0 {
		return nil, nil
	}
	_, outs, err := update(ctx, c.clock, c.tickets, id, func(w *ticketWrite, now time.Time) error {
		w.Outcomes = w.Next.record(events, now)
		return nil
	})
	return outs, err
}

// record records sent events at now, each once; a breach also decides its target's outcome unless
// one stands (a reopened ticket's "met" was taken back at the reopen, so its breach counts).
func (t *Ticket) record(events []sla.Event, now time.Time) []outcome {
	var outs []outcome
	for _, e := range events {
		if _, done := t.Events[e.ID()]; done {
			continue // recorded by another run
		}
		t.Events[e.ID()] = now
		if e.Kind == sla.Breach && t.Outcomes[e.Target] == "" {
			outs = append(outs, t.count(e.Target, OutcomeBreached, now))
		}
	}
	return outs
}
