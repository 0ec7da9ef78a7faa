// Package support is the support area: tickets with SLA targets by tier and priority (support/sla),
// replies, the agents' queue (Cognito group "support"), the breach job that warns at 75 % and
// escalates at 100 % of a target exactly once, and the SLA report.
package support

import (
	"time"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/store"
	"github.com/liberation/monetization/shared/support/sla"
	"github.com/liberation/monetization/shared/support/slametrics"
)

// Ticket statuses.
const (
	StatusOpen    = "open"    // waiting on support: both SLA clocks run
	StatusPending = "pending" // waiting on the customer: the resolution clock pauses, first reply runs
	StatusSolved  = "solved"  // both clocks stop
)

// Authors of messages.
const (
	RoleRequester = "requester"
	RoleOrgAdmin  = "org-admin"
	RoleAgent     = "agent"
)

// Outcomes of a target, counted once in the SLA statistics.
const (
	OutcomeMet      = slametrics.Met
	OutcomeBreached = slametrics.Breached
)

// Limits.
const (
	MaxSubject  = 200
	MaxBody     = 10000
	MaxMessages = 200
)

// Ticket is a support ticket (PK TICKET#<id>, SK TICKET), listed by requester (GSI1) and by status
// for the agents (GSI2); its next SLA event sits on the breach job's schedule (SLADueKey). Every
// write is a whole-item Put conditioned on Version.
type Ticket struct {
	PK     string `dynamodbav:"PK"`
	SK     string `dynamodbav:"SK"`
	GSI1PK string `dynamodbav:"GSI1PK"`
	GSI1SK string `dynamodbav:"GSI1SK"`
	GSI2PK string `dynamodbav:"GSI2PK"`
	GSI2SK string `dynamodbav:"GSI2SK"`
	Type   string `dynamodbav:"type"`

	ID             string `dynamodbav:"id"`
	RequesterID    string `dynamodbav:"requesterId"`
	RequesterEmail string `dynamodbav:"requesterEmail"`
	// LicenseID is the requester's license when they held a seat at creation: its org admins may
	// read the ticket, and it counts in the license's usage.
	LicenseID string `dynamodbav:"licenseId,omitempty"`
	TimeZone  string `dynamodbav:"timeZone,omitempty"`
	// Tier is the requester's tier at creation: it selects the SLA policy with the priority.
	Tier          string `dynamodbav:"tier"`
	Priority      string `dynamodbav:"priority"`
	Subject       string `dynamodbav:"subject"`
	Status        string `dynamodbav:"status"`
	Assignee      string `dynamodbav:"assignee,omitempty"`
	AssigneeEmail string `dynamodbav:"assigneeEmail,omitempty"`

	Meter sla.Meter `dynamodbav:"meter"`
	// Events are the SLA events recorded (by Event.ID): each is handled once.
	Events map[string]time.Time `dynamodbav:"slaEvents"`
	// Outcomes of the targets (met or breached), counted once in the statistics.
	Outcomes map[string]string `dynamodbav:"slaOutcomes"`
	// Counted is where each outcome was counted, so that a reopen takes back exactly that count.
	Counted map[string]Counted `dynamodbav:"slaCounted,omitempty"`
	// NextDueAt is the due time of the ticket's item on the SLA schedule (nil: none).
	NextDueAt *time.Time `dynamodbav:"nextDueAt,omitempty"`

	Messages     int64      `dynamodbav:"messages"`
	CreatedAt    time.Time  `dynamodbav:"createdAt"`
	UpdatedAt    time.Time  `dynamodbav:"updatedAt"`
	FirstReplyAt *time.Time `dynamodbav:"firstReplyAt,omitempty"`
	SolvedAt     *time.Time `dynamodbav:"solvedAt,omitempty"`
	Version      int64      `dynamodbav:"version"`
	// ExpiresAt is the table's TTL (epoch seconds): set when the ticket is solved, to
	// ClosedTicketRetention after it (the SLA figures of its day are counters, kept on their own),
	// and cleared when it is reopened. 0: no TTL.
	ExpiresAt int64 `dynamodbav:"expiresAt,omitempty"`
	// ErasedAs is the pseudonym of an erased requester (privacy_erase.go): the ticket is kept for
	// the SLA figures, without the subject, the bodies and their address.
	ErasedAs string `dynamodbav:"erasedAs,omitempty"`
}

// ClosedTicketRetention is how long a solved ticket is kept (docs/privacy.md "Retention"): two
// years after it was solved, long enough for an enterprise customer's yearly SLA review and its
// renewal; DynamoDB's TTL then deletes the ticket item (expiresAt).
const ClosedTicketRetention = 2 * 365 * 24 * time.Hour

// Policy is the ticket's SLA policy (tier × priority).
func (t Ticket) Policy() sla.Policy { return sla.For(t.Tier, t.Priority) }

// Clock is the ticket's SLA clock: business hours in the organisation's zone, or calendar hours.
func (t Ticket) Clock() sla.Clock {
	loc, err := sla.LoadZone(t.TimeZone)
	if err != nil {
		loc = time.UTC // validated when the license was written; never fail a ticket on it
	}
	return sla.ClockFor(t.Policy(), loc)
}

// done are the events already recorded.
func (t Ticket) done() map[string]bool {
	out := make(map[string]bool, len(t.Events))
	for id := range t.Events {
		out[id] = true
	}
	return out
}

// Upcoming lists the SLA events still to handle, in time order.
func (t Ticket) Upcoming() []sla.Event { return t.Meter.Upcoming(t.Policy(), t.Clock(), t.done()) }

// Due lists the events due at now.
func (t Ticket) Due(now time.Time) []sla.Event {
	var out []sla.Event
	for _, e := range t.Upcoming() {
		if !e.At.After(now) {
			out = append(out, e)
		}
	}
	return out
}

// nextDue is when the next event falls due (nil: none, e.g. paused or no targets).
func (t Ticket) nextDue() *time.Time {
	if up := t.Upcoming(); len(up) > 0 {
		at := up[0].At.UTC()
		return &at
	}
	return nil
}

// newTicket opens a ticket at now; its clock starts at once.
func newTicket(id, requester, email, tier, priority, subject string, now time.Time) Ticket {
	return Ticket{ID: id, RequesterID: requester, RequesterEmail: email, Tier: tier, Priority: priority, Subject: subject,
		Status: StatusOpen, Meter: sla.Start(now), Events: map[string]time.Time{}, Outcomes: map[string]string{},
		CreatedAt: now, UpdatedAt: now, Version: 0}
}

// reply applies a message by role at now: an agent's first reply completes the first-reply target;
// a requester's (or org admin's) reply to a pending or solved ticket reopens it.
func (t *Ticket) reply(role string, now time.Time) []outcome {
	var out []outcome
	t.Messages++
	t.UpdatedAt = now
	if role == RoleAgent {
		if t.FirstReplyAt == nil {
			at := now
			t.FirstReplyAt = &at
			t.Meter = t.Meter.FirstReply(t.Clock(), now)
			if o := t.complete(sla.FirstReply, now); o != nil {
				out = append(out, *o)
			}
		}
		return out
	}
	if t.Status != StatusOpen {
		out, _ = t.setStatus(StatusOpen, now)
	}
	return out
}

// setStatus moves the ticket to status at now: pending pauses the resolution clock (the first-reply
// clock runs on), solved stops both and completes the resolution target, open runs both. Leaving
// solved reopens the resolution target.
func (t *Ticket) setStatus(status string, now time.Time) ([]outcome, error) {
	var out []outcome
	if status == t.Status {
		return nil, nil
	}
	if status != StatusOpen && status != StatusPending && status != StatusSolved {
		return nil, apperr.New(apperr.Invalid, "status must be open, pending or solved")
	}
	t.UpdatedAt = now
	if t.Status == StatusSolved {
		out = t.unsolve()
		t.ExpiresAt = 0 // reopened: kept while it is worked on
	}
	switch status {
	case StatusOpen:
		t.Status = StatusOpen
		t.Meter = t.Meter.Resume(now)
	case StatusPending:
		t.Status = StatusPending
		t.Meter = t.Meter.Pause(t.Clock(), now)
	case StatusSolved:
		t.Status = StatusSolved
		at := now
		t.SolvedAt = &at
		// Where tickets close: the retention period starts (leaving solved, above, clears it).
		t.ExpiresAt = now.Add(ClosedTicketRetention).Unix()
		t.Meter = t.Meter.Solve(t.Clock(), now)
		if o := t.complete(sla.Resolution, now); o != nil {
			out = append(out, *o)
		}
	}
	return out, nil
}

// setPriority changes the priority (and so the targets); events already handled stay handled.
// Elapsed time is kept: it counts in the new targets' clock from now on (a change between business
// and calendar hours re-bases the running clocks at now).
func (t *Ticket) setPriority(p string, now time.Time) error {
	if !sla.ValidPriority(p) {
		return apperr.New(apperr.Invalid, "priority must be low, normal, high or urgent")
	}
	if p == t.Priority {
		return nil
	}
	t.Meter = t.Meter.Rebase(t.Clock(), now)
	t.Priority = p
	t.UpdatedAt = now
	return nil
}

// breaching reports a ticket that has breached a target it still owes, or is past one now.
func (t Ticket) breaching(now time.Time) bool {
	if t.Status == StatusSolved {
		return false
	}
	p, c := t.Policy(), t.Clock()
	for _, target := range sla.Targets {
		d := p.Target(target)
		if d == 0 || t.Meter.Complete(target) {
			continue
		}
		if t.Outcomes[target] == OutcomeBreached || t.Meter.TargetElapsed(target, c, now) >= d {
			return true
		}
	}
	return false
}

// normalised gives a ticket read from storage the maps the rules write into.
func (t Ticket) normalised() Ticket {
	if t.Events == nil {
		t.Events = map[string]time.Time{}
	}
	if t.Outcomes == nil {
		t.Outcomes = map[string]string{}
	}
	return t
}

// stamp readies next to be written over prev (prev.Version 0: a new ticket): the next version,
// and the due time of its next SLA event, where its schedule entry moves with it.
func stamp(prev Ticket, next *Ticket) {
	next.Version = prev.Version + 1
	next.NextDueAt = next.nextDue()
}

// sameTime reports two due times equal as the schedule stores them (to the second).
func sameTime(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == b
	}
	return store.SortTime(*a) == store.SortTime(*b)
}

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
