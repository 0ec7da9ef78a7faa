package support

import (
	"context"
	"net/mail"
	"sync"
	"time"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/clock"
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

// Deps is what support's code uses, built per function from its runtime.
type Deps struct {
	Config platform.Config
	Clock  clock.Clock
	Store  *store.Store
	Mail   mailer.Sender // nil unless Email
	// AgentsEmail is the support team's address (SLA warnings on unassigned tickets, escalations).
	AgentsEmail string
	Tier        TierSource
}

// NewDeps builds Deps for the runtime's function.
func NewDeps(rt *platform.Runtime) (*Deps, error) {
	d := &Deps{Config: rt.Config, Clock: rt.Clock, Store: store.Open(rt), AgentsEmail: agentsEmail(rt)}
	d.Tier = storedTier(d.Store)
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
func storedTier(s *store.Store) TierSource {
	return func(ctx context.Context, userID string, now time.Time) (string, *licensing.SeatInfo, error) {
		seat, ok, err := licensing.SeatOf(ctx, s, userID, now)
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
		sub, err := s.GetSubscription(ctx, userID)
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
func rememberAgent(ctx context.Context, d *Deps, userID, email string) error {
	if _, ok := agentsSeen.Load(userID); ok || email == "" {
		return nil
	}
	k := store.SupportAgentKey(userID)
	if err := d.Store.Put(ctx, Agent{PK: k.PK, SK: k.SK, Type: "support-agent", UserID: userID, Email: email,
		LastSeen: d.Clock.Now().UTC()}, "", nil, nil); err != nil {
		return err
	}
	agentsSeen.Store(userID, true)
	return nil
}
