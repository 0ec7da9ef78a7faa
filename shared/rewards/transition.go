package rewards

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/audit"
	"github.com/liberation/monetization/shared/rewards/rewardcatalog"
	"github.com/liberation/monetization/shared/store"
)

// ErrRevokeFirst refuses the rejection of an approved coupon or credit by anyone but the holder of
// a reject claim: the reward may be live at Stripe, and giving the tokens back without revoking it
// there would let the learner keep both (docs/decisions/0044).
var ErrRevokeFirst = apperr.New(apperr.Conflict,
	"the redemption is approved and its reward may be live at Stripe: it is rejected only with the reward revoked there")

// Transition moves redemption red by act, as actor: the redemption item over the version read and
// — when tokens move — the account and its entry, plus an audit record, in one transaction. The
// decision is always taken on a fresh, strongly consistent read of the redemption (red only names
// it, and carries its holder's claim when Claim returned it), so a stale copy can never release or
// spend tokens twice. change (may be nil) fills in what the transition records (reason,
// fulfilment). Any other status than the ones act starts from is a 409 and changes nothing; so is
// a redemption claimed by another operation (see mayMove). A transition ends any claim.
func (wf workflow) Transition(ctx context.Context, red Redemption, act Action, actor, requestID string, change func(*Redemption)) (Redemption, error) {
	return wf.move(ctx, red, act, actor, requestID, change, 0)
}

// workflow is the redemption desk: it creates, reads, lists and moves redemptions (transitions
// and claims), over the ledger (poster: the clock and the Ledger port, for the tokens a move holds,
// releases or spends) and the Redemptions port.
type workflow struct {
	poster
	reds Redemptions
}

// Claim reserves red for act — approving, fulfilling or rejecting a coupon or a credit, which
// talks to Stripe between two writes — for lease (at least the caller's remaining lifetime, so a
// claim outlives the Lambda that took it). Approving moves it pending → approved and claims it in
// the same conditional write, so an approval and a rejection racing on a pending redemption are
// decided by one write: exactly one wins, the other is a 409. Fulfil and reject claims leave the
// status (the holder finishes with Transition, which moves the tokens). While a claim runs, every
// other operation gets a 409; a reject claim, even expired, bars any later fulfilment, so a reward
// being revoked is never issued again. The returned copy carries the holder's proof.
func (wf workflow) Claim(ctx context.Context, red Redemption, act Action, actor, requestID string, lease time.Duration, change func(*Redemption)) (Redemption, error) {
	if lease <= 0 || act == ActCancel {
		return red, apperr.New(apperr.Internal, "claim %s for %s", act, lease)
	}
	return wf.move(ctx, red, act, actor, requestID, change, lease)
}

// EndClaim ends the claim of the copy its holder has (to store with UpdateRedemption): the kind
// stays, so an ended reject claim still bars fulfilment.
func (r *Redemption) EndClaim(now time.Time) {
	if r.ClaimUntil.After(now) {
		r.ClaimUntil = now
	}
}

var claimVerb = map[Action]string{ActApprove: "issued", ActFulfil: "issued", ActReject: "revoked"}

// mayMove is the claim rule: may act (a transition, or a claim when claiming) start from cur, for
// the caller holding token?
func mayMove(cur Redemption, token string, act Action, claiming bool, now time.Time) error {
	owner := token != "" && token == cur.ClaimID
	if cur.ClaimID != "" && !owner && now.Before(cur.ClaimUntil) {
		return apperr.New(apperr.Conflict, "the redemption's reward is being %s at Stripe: retry after %s",
			claimVerb[cur.Claim], cur.ClaimUntil.UTC().Format(time.RFC3339))
	}
	if cur.Fulfilment == rewardcatalog.Manual {
		return nil
	}
	switch {
	case act == ActFulfil && cur.Claim == ActReject:
		return apperr.New(apperr.Conflict, "a rejection started revoking this reward at Stripe: finish it with …/reject")
	case !claiming && act == ActFulfil && !owner:
		return apperr.New(apperr.Conflict, "a coupon or credit is fulfilled only by its Stripe call (…/fulfil)")
	case !claiming && act == ActReject && cur.Status == Approved && !(owner && cur.Claim == ActReject):
		return ErrRevokeFirst
	}
	return nil
}

// move is Transition (lease 0) and Claim.
func (wf workflow) move(ctx context.Context, red Redemption, act Action, actor, requestID string, change func(*Redemption), lease time.Duration) (Redemption, error) {
	moves := lease == 0 || act == ActApprove // a fulfil or reject claim leaves the status
	// plan reads the redemption and builds its move: the new redemption, its conditional put and
	// the audit record (none for a claim that moves nothing).
	plan := func(ctx context.Context) (Redemption, RedemptionWrite, *audit.Entry, error) {
		cur, err := wf.reds.Redemption(ctx, red.UserID, red.ID)
		if err != nil {
			return cur, RedemptionWrite{}, nil, err
		}
		now := wf.clk.Now()
		if err := mayMove(cur, red.claimToken, act, lease > 0, now); err != nil {
			return cur, RedemptionWrite{}, nil, err
		}
		to, err := Next(cur.Status, act)
		if err != nil {
			return cur, RedemptionWrite{}, nil, err
		}
		if !moves {
			to = cur.Status
		}
		n := cur
		n.Status, n.UpdatedAt, n.Version, n.WriteID = to, now, cur.Version+1, writeID()
		n.Claim, n.ClaimID, n.ClaimUntil, n.claimToken = "", "", time.Time{}, ""
		if lease > 0 {
			n.Claim, n.ClaimID, n.ClaimUntil = act, writeID(), now.Add(lease)
			n.claimToken = n.ClaimID
		} else if cur.Claim == ActReject && act != ActReject {
			n.Claim = ActReject // the bar on re-issuing outlives the claim
		}
		if change != nil {
			change(&n)
		}
		if to == Fulfilled {
			n.FulfilledAt = now
		}
		// Its journal entries come from the redemption read and the one written: a credit posts when
		// it becomes fulfilled (books_journal.go), in this write's transaction.
		w, err := redemptionWrite(cur, n, cur.Version)
		if err != nil {
			return cur, RedemptionWrite{}, nil, err
		}
		if !moves {
			return n, w, nil, nil
		}
		details := map[string]string{"from": string(cur.Status), "to": string(to), "cost": itoa(cur.Cost), "user": cur.UserID}
		if n.Reason != "" && act == ActReject {
			details["reason"] = n.Reason
		}
		return n, w, &audit.Entry{Actor: actor, Action: "redemption." + string(act), Target: "redemption:" + cur.ID,
			RequestID: requestID, Details: details}, nil
	}
	if c, tokens := TokenChange(act, red.Cost); tokens && lease == 0 {
		var out Redemption
		c.SourceID, c.Actor = red.ID, actor
		_, _, err := wf.Post(ctx, red.UserID, func(ctx context.Context, _ Account) (Plan, error) {
			n, w, au, err := plan(ctx)
			if err != nil {
				return Plan{}, err
			}
			out = n
			c.Reason = fmt.Sprintf("%s: %s", n.RewardName, n.Status)
			// A failed version condition (nil Fail) makes Post read everything again.
			return Plan{Change: c, Extras: []Extra{{Write: Write{Redemption: &w}}, {Write: Write{Audit: au}}}}, nil
		})
		if err != nil {
			return red, err
		}
		return out, nil
	}
	for attempt := 1; ; attempt++ {
		n, w, au, err := plan(ctx)
		if err != nil {
			return red, err
		}
		err = wf.reds.SaveRedemption(ctx, w, au)
		if err == nil {
			return n, nil
		}
		if store.IsConditionFailed(err) {
			// Our own write, committed, whose answer was lost and whose SDK retry then failed?
			if cur, gErr := wf.reds.Redemption(ctx, red.UserID, red.ID); gErr == nil && cur.Version == n.Version && cur.WriteID == n.WriteID {
				return n, nil
			}
		}
		if !store.IsConditionFailed(err) || attempt == postAttempts {
			return red, err
		}
	}
}

// IsRevokeFirst reports whether err is ErrRevokeFirst.
func IsRevokeFirst(err error) bool { return errors.Is(err, ErrRevokeFirst) }
