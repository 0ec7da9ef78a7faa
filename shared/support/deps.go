package support

import (
	"context"
	"net/mail"
	"sync"
	"time"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/clock"
	"github.com/liberation/monetization/shared/idempotency"
	"github.com/liberation/monetization/shared/licensing"
	mailer "github.com/liberation/monetization/shared/mail"
	"github.com/liberation/monetization/shared/manifest"
	"github.com/liberation/monetization/shared/platform"
	"github.com/liberation/monetization/shared/store"
	"github.com/liberation/monetization/shared/support/sla"
)

// TierSource answers a requester's tier for the SLA at now (free, pro or enterprise) and, for a
// seat holder, their seat. The default reads the seat from licensing and the subscription item.
type TierSource func(ctx context.Context, userID string, now time.Time) (tier string, seat *licensing.SeatInfo, err error)

// storage is every storage port; dynamoRepo implements it, and so does the fake.
type storage interface {
	tickets
	messageReader
	requesterTickets
	agentQueue
	agentDirectory
	slaSchedule
	slaStats
}

// orgFacts is everything support reads from (or counts in) licensing.
type orgFacts interface {
	orgAdmins
	brandings
	activityRecorder
}

// Deps is support's wiring, built per function from its runtime: the ports, the clock and the
// mail. Handlers and the job take only the parts they use.
type Deps struct {
	Config platform.Config
	Clock  clock.Clock
	Repo   storage
	Orgs   orgFacts
	// Claims records e-mails sent (by dedupe id) and the create route's idempotency keys.
	Claims idempotency.Store
	Mail   mailer.Sender // nil unless Email
	// AgentsEmail is the support team's address (SLA warnings on unassigned tickets, escalations).
	AgentsEmail string
	Tier        TierSource
}

// NewDeps builds Deps for the runtime's function.
func NewDeps(rt *platform.Runtime) (*Deps, error) {
	s := store.Open(rt)
	repo, facts := &dynamoRepo{s}, licensingFacts{s}
	d := &Deps{Config: rt.Config, Clock: rt.Clock, Repo: repo, Orgs: facts, Claims: s, AgentsEmail: agentsEmail(rt),
		Tier: storedTier(facts, repo)}
	if rt.Fn.Email {
		m, err := mailer.From(rt)
		if err != nil {
			return nil, err
		}
		d.Mail = m
	}
	return d, nil
}

// agentsEmail is SUPPORT_AGENTS_EMAIL, else the address of MAIL_FROM.
func agentsEmail(rt *platform.Runtime) string {
	if v := rt.Getenv(manifest.EnvSupportEmail); v != "" {
		return v
	}
	if a, err := mail.ParseAddress(rt.Config.MailFrom); err == nil {
		return a.Address
	}
	return rt.Config.MailFrom
}

// storedTier is the default TierSource: Enterprise while the requester's seat grants it; else the
// tier stored on their subscription item ("what the subscription entitles to as stored"), free once
// a cancellation reached its period end. billing's own access rule (AccessAt) is finer (past_due
// grace ends); the lead swaps it in when billing exports it without its Stripe dependencies.
func storedTier(seats seatReader, subs subscriptionReader) TierSource {
	return func(ctx context.Context, userID string, now time.Time) (string, *licensing.SeatInfo, error) {
		seat, ok, err := seats.Seat(ctx, userID, now)
		if err != nil {
			return "", nil, err
		}
		var sp *licensing.SeatInfo
		if ok {
			sp = &seat
			if seat.Grant.Granted {
				return sla.TierEnterprise, sp, nil
			}
		}
		sub, err := subs.GetSubscription(ctx, userID)
		if apperr.Is(err, apperr.NotFound) {
			return sla.TierFree, sp, nil
		}
		if err != nil {
			return "", nil, err
		}
		if sub.Tier == "" || sub.CancelAtPeriodEnd && !now.Before(sub.CurrentPeriodEnd) {
			return sla.TierFree, sp, nil
		}
		return sub.Tier, sp, nil
	}
}

// Agent is a support agent's profile (PK USER#<id>, SK SUPPORTAGENT), written when an agent uses
// the support routes, so tickets can be assigned to them by id.
type Agent struct {
	PK       string    `dynamodbav:"PK"`
	SK       string    `dynamodbav:"SK"`
	Type     string    `dynamodbav:"type"`
	UserID   string    `dynamodbav:"userId"`
	Email    string    `dynamodbav:"email"`
	LastSeen time.Time `dynamodbav:"lastSeen"`
}

// agentsSeen remembers agents whose profile this container already wrote.
var agentsSeen sync.Map

// rememberAgent writes an agent's profile once per container.
func rememberAgent(ctx context.Context, agents agentDirectory, userID, email string, now time.Time) error {
	if _, ok := agentsSeen.Load(userID); ok || email == "" {
		return nil
	}
	if err := agents.SaveAgent(ctx, Agent{UserID: userID, Email: email, LastSeen: now.UTC()}); err != nil {
		return err
	}
	agentsSeen.Store(userID, true)
	return nil
}
