// Package redeem is the admin side of the redemption workflow that reaches outside the table:
// approving (and fulfilling coupons and credits at Stripe), fulfilling by hand, rejecting, and the
// e-mails that tell the user. It is its own package so that only these functions link stripe-go
// and a mail transport; the state machine and the ledger are rewards'.
package redeem

import (
	"context"
	"strings"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/httpapi"
	"github.com/liberation/monetization/shared/logging"
	"github.com/liberation/monetization/shared/mail"
	"github.com/liberation/monetization/shared/manifest"
	"github.com/liberation/monetization/shared/platform"
	"github.com/liberation/monetization/shared/rewards"
	"github.com/liberation/monetization/shared/rewards/rewardcatalog"
	"github.com/liberation/monetization/shared/stripeapi"
)

// Deps is rewards' Deps plus Stripe and a mailer.
type Deps struct {
	*rewards.Deps
	Config   platform.Config
	Payments Payments
	Mail     mail.Sender
}

// NewDeps builds Deps for the runtime's function (Stripe only where the manifest declares it).
func NewDeps(rt *platform.Runtime) (*Deps, error) {
	d := &Deps{Deps: rewards.NewDeps(rt), Config: rt.Config}
	if rt.Fn.Stripe {
		d.Payments = &stripePayments{stripe: stripeapi.Open(rt), store: d.Store}
	}
	var err error
	if d.Mail, err = mail.From(rt); err != nil {
		return nil, err
	}
	return d, nil
}

func build(rt *platform.Runtime, h func(manifest.Function, *Deps) httpapi.Lambda) (httpapi.Lambda, error) {
	d, err := NewDeps(rt)
	if err != nil {
		return nil, err
	}
	return h(rt.Fn, d), nil
}

// NewApproveRedemption builds POST /admin/redemptions/{redemptionId}/approve.
func NewApproveRedemption(rt *platform.Runtime) (httpapi.Lambda, error) {
	return build(rt, HandleApproveRedemption)
}

// NewRejectRedemption builds POST /admin/redemptions/{redemptionId}/reject.
func NewRejectRedemption(rt *platform.Runtime) (httpapi.Lambda, error) {
	return build(rt, HandleRejectRedemption)
}

// NewFulfilRedemption builds POST /admin/redemptions/{redemptionId}/fulfil.
func NewFulfilRedemption(rt *platform.Runtime) (httpapi.Lambda, error) {
	return build(rt, HandleFulfilRedemption)
}

func (d *Deps) redemption(ctx context.Context, r *httpapi.Request) (rewards.Redemption, error) {
	return d.RedemptionByID(ctx, r.PathParam("redemptionId"))
}

func answer(red rewards.Redemption, sent bool) httpapi.Response {
	v := red.AdminView()
	v.EmailSent = &sent
	return httpapi.OK(v)
}

// HandleApproveRedemption approves a pending redemption; a coupon or a credit is then fulfilled at
// once. A Stripe failure leaves it approved (tokens still held) with the error recorded: retry
// with POST …/fulfil.
func HandleApproveRedemption(fn manifest.Function, d *Deps) httpapi.Lambda {
	return httpapi.Route(fn, httpapi.Idempotent(d.Store, fn.Name, func(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
		red, err := d.redemption(ctx, r)
		if err != nil {
			return httpapi.Response{}, err
		}
		admin := r.Principal.UserID
		red, err = d.Transition(ctx, red, rewards.ActApprove, admin, r.ID, func(n *rewards.Redemption) {
			n.DecidedBy, n.ApprovedAt = admin, d.Clock.Now()
		})
		if err != nil {
			return httpapi.Response{}, err
		}
		if red.Fulfilment != rewardcatalog.Manual {
			red = d.fulfilAutomatically(ctx, red, admin, r.ID)
		}
		red, sent := d.notify(ctx, red)
		return answer(red, sent), nil
	}))
}

// fulfilAutomatically delivers a coupon or a credit through Stripe and marks the redemption
// fulfilled (spending the held tokens). On failure it records the error and returns it approved.
func (d *Deps) fulfilAutomatically(ctx context.Context, red rewards.Redemption, actor, requestID string) rewards.Redemption {
	log := logging.From(ctx)
	rw, ok := rewardcatalog.ByID(red.RewardID)
	var code, cus, txn string
	var err error
	switch {
	case !ok:
		err = apperr.New(apperr.Internal, "reward %s is no longer in the catalogue", red.RewardID)
	case d.Payments == nil:
		err = apperr.New(apperr.Internal, "this function has no Stripe client: declare Stripe in its manifest entry")
	case rw.Fulfilment == rewardcatalog.StripeCoupon:
		code, err = d.Payments.IssueCoupon(ctx, red, rw)
	case rw.Fulfilment == rewardcatalog.StripeCredit:
		cus, txn, err = d.Payments.CreditBalance(ctx, red, rw)
	default:
		return red
	}
	if err != nil {
		log.Error("automatic fulfilment failed; the redemption stays approved", "redemptionId", red.ID,
			"code", apperr.CodeOf(err), "ambiguous", stripeapi.IsAmbiguous(err), "err", err.Error())
		if n, uErr := d.UpdateRedemption(ctx, red, func(n *rewards.Redemption) {
			n.FulfilmentError, n.FulfilmentAttempts = apperr.PublicMessage(err), n.FulfilmentAttempts+1
		}); uErr == nil {
			red = n
		}
		return red
	}
	n, err := d.Transition(ctx, red, rewards.ActFulfil, actor, requestID, func(n *rewards.Redemption) {
		n.CouponCode, n.StripeCustomerID, n.BalanceTransaction = code, cus, txn
		n.FulfilmentError, n.FulfilmentAttempts = "", n.FulfilmentAttempts+1
	})
	if err != nil {
		// Delivered at Stripe but not recorded: a retry of …/fulfil repeats the idempotent Stripe
		// call and records it.
		log.Error("fulfilled at Stripe but not recorded; retry fulfil", "redemptionId", red.ID, "err", err.Error())
		return red
	}
	return n
}

// RejectRequest is the body of POST …/reject.
type RejectRequest struct {
	Reason string `json:"reason"`
}

// Validate checks the reason.
func (q *RejectRequest) Validate() error {
	if err := rewards.CheckText("reason", q.Reason, 3, 500); err != nil {
		return err
	}
	q.Reason = strings.TrimSpace(q.Reason)
	return nil
}

// HandleRejectRedemption rejects a pending (or approved, not yet fulfilled) redemption and releases
// its tokens.
func HandleRejectRedemption(fn manifest.Function, d *Deps) httpapi.Lambda {
	return httpapi.Route(fn, httpapi.Idempotent(d.Store, fn.Name, func(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
		var q RejectRequest
		if err := r.Decode(&q); err != nil {
			return httpapi.Response{}, err
		}
		red, err := d.redemption(ctx, r)
		if err != nil {
			return httpapi.Response{}, err
		}
		admin := r.Principal.UserID
		red, err = d.Transition(ctx, red, rewards.ActReject, admin, r.ID, func(n *rewards.Redemption) {
			n.DecidedBy, n.Reason = admin, q.Reason
		})
		if err != nil {
			return httpapi.Response{}, err
		}
		red, sent := d.notify(ctx, red)
		return answer(red, sent), nil
	}))
}

// FulfilRequest is the body of POST …/fulfil ({} is fine).
type FulfilRequest struct {
	Note string `json:"note,omitempty"` // shipping carrier and tracking number, for merchandise
}

// Validate checks the note.
func (q *FulfilRequest) Validate() error {
	if err := rewards.CheckText("note", q.Note, 0, 500); err != nil {
		return err
	}
	q.Note = strings.TrimSpace(q.Note)
	return nil
}

// HandleFulfilRedemption marks an approved merchandise redemption delivered, or retries the Stripe
// fulfilment of an approved coupon or credit. Either spends the held tokens.
func HandleFulfilRedemption(fn manifest.Function, d *Deps) httpapi.Lambda {
	return httpapi.Route(fn, httpapi.Idempotent(d.Store, fn.Name, func(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
		var q FulfilRequest
		if err := r.Decode(&q); err != nil {
			return httpapi.Response{}, err
		}
		red, err := d.redemption(ctx, r)
		if err != nil {
			return httpapi.Response{}, err
		}
		if _, err := rewards.Next(red.Status, rewards.ActFulfil); err != nil {
			return httpapi.Response{}, err
		}
		admin := r.Principal.UserID
		if red.Fulfilment == rewardcatalog.Manual {
			red, err = d.Transition(ctx, red, rewards.ActFulfil, admin, r.ID, func(n *rewards.Redemption) { n.Note = q.Note })
			if err != nil {
				return httpapi.Response{}, err
			}
		} else {
			if q.Note != "" {
				return httpapi.Response{}, apperr.New(apperr.Invalid, "note is only for rewards fulfilled by hand")
			}
			if red = d.fulfilAutomatically(ctx, red, admin, r.ID); red.Status != rewards.Fulfilled {
				return httpapi.Response{}, apperr.New(apperr.Unavailable, "fulfilment failed: %s", red.FulfilmentError)
			}
		}
		red, sent := d.notify(ctx, red)
		return answer(red, sent), nil
	}))
}
