package support

import (
	"context"
	"time"

	"github.com/liberation/monetization/shared/audit"
	"github.com/liberation/monetization/shared/billing/records"
	"github.com/liberation/monetization/shared/licensing"
	"github.com/liberation/monetization/shared/store"
)

// The small interfaces support's rules are written against (decision 0071). Production implements
// them over DynamoDB (dynamoRepo, repo_dynamo.go, the only file of the package with SDK inputs) and
// over licensing (licensingFacts); unit tests use the in-memory fakes of fakes_test.go, and the
// contract test (repo_contract_test.go) runs the same cases against both. Each handler takes only
// the ones it uses.

// ticketReader reads a ticket strongly consistently; a missing ticket, or an id of the wrong
// shape, is apperr.NotFound "ticket not found" (so another user's ticket looks the same).
type ticketReader interface {
	Ticket(ctx context.Context, id string) (Ticket, error)
}

// ticketWrite is one change of a ticket, written atomically: the ticket over the version read, its
// SLA schedule entry moved to its next due time, and whatever else the change brings.
type ticketWrite struct {
	// Prev is the ticket as read (Version 0: it is new, and is created only if absent).
	Prev Ticket
	// Next is the ticket to store, stamped by stamp (Version Prev.Version+1, NextDueAt).
	Next Ticket
	// Message is stored with it, only if absent (nil: none).
	Message *Message
	// CountUsage counts a new ticket in its license's usage (licensing's counters).
	CountUsage bool
	// Outcomes move the SLA statistics (a count taken back goes to the day it was counted on);
	// the breaches they decide also go on the day counter of At.
	Outcomes []outcome
	At       time.Time
	Audit    *audit.Entry // nil: none
}

// ticketWriter writes a change; a lost race (the ticket changed since Prev, or a new ticket's id
// exists) is a failed condition (store.LostRace) and nothing is written.
type ticketWriter interface {
	WriteTicket(ctx context.Context, w ticketWrite) error
}

// tickets reads and writes tickets (the versioned read-compute-write of update).
type tickets interface {
	ticketReader
	ticketWriter
}

// messageReader reads a ticket's messages, oldest first (a ticket holds at most MaxMessages).
type messageReader interface {
	Messages(ctx context.Context, ticketID string) ([]Message, error)
}

// requesterTickets lists a requester's tickets, newest first, a page at a time (opaque cursor).
type requesterTickets interface {
	RequesterTickets(ctx context.Context, userID string, limit int32, cursor string) (store.Page[Ticket], error)
}

// agentQueue lists the tickets of a status, oldest first, a page at a time (the agents' queue).
type agentQueue interface {
	Queue(ctx context.Context, status string, limit int32, cursor string) (store.Page[Ticket], error)
}

// agentDirectory holds the agents' profiles (assignment by id, warnings to their address).
type agentDirectory interface {
	Agent(ctx context.Context, userID string) (Agent, error) // apperr.NotFound when none
	SaveAgent(ctx context.Context, a Agent) error
}

// dueEntry is a ticket's entry on the SLA schedule: due at At. Key identifies the entry itself.
type dueEntry struct {
	TicketID string
	At       time.Time
	Key      string
}

// slaSchedule is the breach job's schedule: the entries due by a time, in due order, and dropping
// an entry its ticket no longer points at.
type slaSchedule interface {
	EachDue(ctx context.Context, until time.Time, f func(dueEntry) error) error
	DropDue(ctx context.Context, e dueEntry) error
}

// slaStats sums the SLA statistics counters of the days from..to (inclusive, UTC days).
type slaStats interface {
	SLAStats(ctx context.Context, from, to time.Time) (map[string]int64, error)
}

// The facts support reads from licensing, another area (and the one write it makes there).

// seatReader answers a user's seat and its grant at now (ok false without a seat).
type seatReader interface {
	Seat(ctx context.Context, userID string, now time.Time) (licensing.SeatInfo, bool, error)
}

// orgAdmins reports whether a user administers a license's organisation (false for no license).
type orgAdmins interface {
	IsOrgAdmin(ctx context.Context, licenseID, userID string) (bool, error)
}

// brandings answers the e-mail branding of a user (their organisation's, else the platform's).
type brandings interface {
	Branding(ctx context.Context, userID string) (licensing.Branding, error)
}

// activityRecorder counts a user among their license's monthly active learners.
type activityRecorder interface {
	RecordActivity(ctx context.Context, userID, email string, at time.Time) error
}

// subscriptionReader reads a user's stored subscription (apperr.NotFound: none).
type subscriptionReader interface {
	GetSubscription(ctx context.Context, userID string) (records.Subscription, error)
}
