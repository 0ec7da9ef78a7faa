// Package redeem is the admin side of the redemption workflow that reaches outside the table:
// approving (and fulfilling coupons and credits at Stripe), fulfilling by hand, rejecting (and
// revoking at Stripe what an approval issued), and the e-mails that tell the user. It is its own package so that only these functions link stripe-go
// and a mail transport; the state machine and the ledger are rewards'.
package redeem

import (
	"context"
	"strings"
	"time"

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
	// Lease is how long this function claims a redemption while it talks to Stripe: longer than
	// the function can run, so a claim outlives any invocation that took it (rewards.Claim).
	Lease time.Duration
}

// claimMargin is added to the function's timeout for its claims (clock skew between Lambdas).
const claimMargin = 30 * time.Second

// NewDeps builds Deps for the runtime's function (Stripe only where the manifest declares it).
func NewDeps(rt *platform.Runtime) (*Deps, error) {
	d := &Deps{Deps: rewards.NewDeps(rt), Config: rt.Config, Lease: time.Duration(rt.Fn.Timeout())*time.Second + claimMargin}
	if rt.Fn.Stripe {
		d.Payments = &stripePayments{stripe: stripeapi.Open(rt), store: d.Store}
	}
	var err error
	if d.Mail, err = mail.From(rt); err != nil {
		return nil, err
	}
	return d, nil
}

// wiring is what redeem makes once per cold start for any of its functions (decision 0074).
type wiring struct {
	rt *platform.Runtime
	d  *Deps
}

func newWiring(rt *platform.Runtime) (wiring, error) {
	d, err := NewDeps(rt)
	return wiring{rt: rt, d: d}, err
}

func wireApproveRedemption(w wiring) (httpapi.Lambda, error) {
	return HandleApproveRedemption(w.rt.Fn, w.d), nil
}

func wireRejectRedemption(w wiring) (httpapi.Lambda, error) {
	return HandleRejectRedemption(w.rt.Fn, w.d), nil
}

func wireFulfilRedemption(w wiring) (httpapi.Lambda, error) {
	return HandleFulfilRedemption(w.rt.Fn, w.d), nil
}

func (d *Deps) redemption(ctx context.Context, r *httpapi.Request) (rewards.Redemption, error) {
	return d.RedemptionByID(ctx, r.PathParam("redemptionId"))
}

func answer(red rewards.Redemption, sent bool) httpapi.Response {
	v := red.AdminView()
	v.EmailSent = &sent
	return httpapi.OK(v)
}

// HandleApproveRedemption approves a pending redemption. A coupon or a credit is claimed for the
// approval in the same write (rewards.Claim: a rejection racing it gets a 409) and fulfilled at
// once. A Stripe failure leaves it approved (tokens still held) with the error recorded: retry
// with POST …/fulfil, or reject it (which revokes whatever Stripe did).
func HandleApproveRedemption(fn manifest.Function, d *Deps) httpapi.Lambda {
	return httpapi.Route(fn, httpapi.Idempotent(d.Store, fn.Name, func(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
		red, err := d.redemption(ctx, r)
		if err != nil {
			return httpapi.Response{}, err
		}
		admin := r.Principal.UserID
		decide := func(n *rewards.Redemption) {
			n.DecidedBy, n.ApprovedAt = admin, d.Clock.Now()
			if n.Fulfilment == rewardcatalog.StripeCoupon && n.CouponCode == "" {
				n.CouponCode = NewCouponCode()
			}
		}
		if red.Fulfilment == rewardcatalog.Manual {
			red, err = d.Transition(ctx, red, rewards.ActApprove, admin, r.ID, decide)
		} else if red, err = d.Claim(ctx, red, rewards.ActApprove, admin, r.ID, d.Lease, decide); err == nil {
			red, err = d.fulfilAutomatically(ctx, red, admin, r.ID)
		}
		if err != nil {
			return httpapi.Response{}, err
		}
		red, sent := d.notify(ctx, red)
		return answer(red, sent), nil
	}))
}

// fulfilAutomatically delivers a coupon or a credit through Stripe for red, claimed by the caller,
// and marks it fulfilled (spending the held tokens). On a Stripe failure it records the error,
// ends the claim and returns it approved. An error means the redemption is no longer the caller's
// (its claim ran out and a rejection took it): what was issued has been revoked again.
func (d *Deps) fulfilAutomatically(ctx context.Context, red rewards.Redemption, actor, requestID string) (rewards.Redemption, error) {
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
		return red, nil
	}
	if err != nil {
		log.Error("automatic fulfilment failed; the redemption stays approved", "redemptionId", red.ID,
			"code", apperr.CodeOf(err), "ambiguous", stripeapi.IsAmbiguous(err), "err", err.Error())
		if n, uErr := d.UpdateRedemption(ctx, red, func(n *rewards.Redemption) {
			n.FulfilmentError, n.FulfilmentAttempts = apperr.PublicMessage(err), n.FulfilmentAttempts+1
			n.EndClaim(d.Clock.Now())
		}); uErr == nil {
			red = n
		}
		return red, nil
	}
	n, err := d.Transition(ctx, red, rewards.ActFulfil, actor, requestID, func(n *rewards.Redemption) {
		n.CouponCode, n.StripeCustomerID, n.BalanceTransaction = code, cus, txn
		if rw.Fulfilment == rewardcatalog.StripeCredit {
			// The amount Stripe was asked to credit: what the fulfilment posts to the journal
			// (rwd.credit, in the same transaction) and a revocation would take back.
			n.CreditCents, n.CreditCurrency = rw.CreditCents, rw.Currency
		}
		n.FulfilmentError, n.FulfilmentAttempts = "", n.FulfilmentAttempts+1
	})
	if err == nil {
		return n, nil
	}
	if cur, gErr := d.GetRedemption(ctx, red.UserID, red.ID); gErr == nil && cur.Status == rewards.Rejected {
		// Our claim ran out while Stripe answered and a rejection revoked and released it: what we
		// just issued must not stay live beside the tokens given back.
		log.Error("issued at Stripe after the redemption was rejected; revoking it", "redemptionId", red.ID)
		if rErr := d.revoke(ctx, cur); rErr != nil {
			log.Error("revoking a reward issued after its rejection failed; see the runbook", "redemptionId", red.ID, "err", rErr.Error())
		}
		return cur, apperr.New(apperr.Conflict, "the redemption was rejected meanwhile")
	}
	// Delivered at Stripe but not recorded: once the claim runs out, …/fulfil repeats the
	// idempotent Stripe call and records it (or …/reject revokes it).
	log.Error("fulfilled at Stripe but not recorded; retry fulfil", "redemptionId", red.ID, "err", err.Error())
	return red, nil
}

// revoke undoes at Stripe what red's reward may have issued there.
func (d *Deps) revoke(ctx context.Context, red rewards.Redemption) error {
	if d.Payments == nil {
		return apperr.New(apperr.Internal, "this function has no Stripe client: declare Stripe in its manifest entry")
	}
	switch red.Fulfilment {
	case rewardcatalog.StripeCoupon:
		return d.Payments.RevokeCoupon(ctx, red)
	case rewardcatalog.StripeCredit:
		return d.Payments.ReverseCredit(ctx, red)
	}
	return nil
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
// its tokens. An approved coupon or credit may be live at Stripe (its creation's answer lost): it is
// claimed for the rejection and revoked there first, and the tokens come back only once Stripe
// confirmed it (503 otherwise; retry). While an approval or a fulfilment is talking to Stripe the
// rejection is a 409 that sends nothing.
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
		if red, err = d.reject(ctx, red, r.Principal.UserID, r.ID, q.Reason); err != nil {
			return httpapi.Response{}, err
		}
		red, sent := d.notify(ctx, red)
		return answer(red, sent), nil
	}))
}

// reject rejects red as admin: directly while nothing can be live at Stripe, else revoking first.
func (d *Deps) reject(ctx context.Context, red rewards.Redemption, admin, requestID, reason string) (rewards.Redemption, error) {
	decide := func(n *rewards.Redemption) { n.DecidedBy, n.Reason, n.FulfilmentError = admin, reason, "" }
	if red.Status == rewards.Pending || red.Fulfilment == rewardcatalog.Manual {
		n, err := d.Transition(ctx, red, rewards.ActReject, admin, requestID, decide)
		if !rewards.IsRevokeFirst(err) {
			return n, err
		}
		// Approved meanwhile, and its approval gave up on Stripe: revoke as below.
	}
	c, err := d.Claim(ctx, red, rewards.ActReject, admin, requestID, d.Lease, nil)
	if err != nil {
		return red, err
	}
	if err := d.revoke(ctx, c); err != nil {
		logging.From(ctx).Error("revoking the reward at Stripe failed; the redemption stays approved, tokens held",
			"redemptionId", red.ID, "code", apperr.CodeOf(err), "ambiguous", stripeapi.IsAmbiguous(err), "err", err.Error())
		_, _ = d.UpdateRedemption(ctx, c, func(n *rewards.Redemption) { n.EndClaim(d.Clock.Now()) })
		return red, apperr.Wrap(err, apperr.Unavailable,
			"the reward could not be revoked at Stripe, so the redemption is not rejected and its tokens stay held; retry")
	}
	return d.Transition(ctx, c, rewards.ActReject, admin, requestID, decide)
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
			red, err = d.Claim(ctx, red, rewards.ActFulfil, admin, r.ID, d.Lease, func(n *rewards.Redemption) {
				if n.Fulfilment == rewardcatalog.StripeCoupon && n.CouponCode == "" {
					n.CouponCode = legacyCouponCode(*n) // approved before codes were drawn: its only possible id
				}
			})
			if err != nil {
				return httpapi.Response{}, err
			}
			if red, err = d.fulfilAutomatically(ctx, red, admin, r.ID); err != nil {
				return httpapi.Response{}, err
			}
			if red.Status != rewards.Fulfilled {
				return httpapi.Response{}, apperr.New(apperr.Unavailable, "fulfilment failed: %s", red.FulfilmentError)
			}
		}
		red, sent := d.notify(ctx, red)
		return answer(red, sent), nil
	}))
}
