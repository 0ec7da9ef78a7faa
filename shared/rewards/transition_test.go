package rewards

import (
	"testing"
	"time"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/rewards/rewardcatalog"
)

// The claim rule: while one operation talks to Stripe about a coupon or a credit, nothing else
// moves it; an approved one is rejected only by the holder of a reject claim (who revoked it); a
// reject claim, even ended, bars any later fulfilment; merchandise never needs a claim.
func TestClaimRule(t *testing.T) {
	now := monday
	live, ended := now.Add(time.Minute), now.Add(-time.Second)
	approved := Redemption{Status: Approved, Fulfilment: rewardcatalog.StripeCoupon}
	claimed := func(r Redemption, act Action, until time.Time) Redemption {
		r.Claim, r.ClaimID, r.ClaimUntil = act, "c1", until
		return r
	}
	for _, tc := range []struct {
		name     string
		cur      Redemption
		token    string
		act      Action
		claiming bool
		want     error // nil, ErrRevokeFirst, or any 409 (errConflict)
	}{
		{"reject during an approval's Stripe call", claimed(approved, ActApprove, live), "", ActReject, true, errConflict},
		{"reject as a plain transition during it", claimed(approved, ActApprove, live), "", ActReject, false, errConflict},
		{"the approval's own fulfilment", claimed(approved, ActApprove, live), "c1", ActFulfil, false, nil},
		{"fulfil by anyone else", claimed(approved, ActApprove, ended), "", ActFulfil, false, errConflict},
		{"claim for reject after the approval gave up", claimed(approved, ActApprove, ended), "", ActReject, true, nil},
		{"reject without revoking", approved, "", ActReject, false, ErrRevokeFirst},
		{"reject by the revoking holder", claimed(approved, ActReject, live), "c1", ActReject, false, nil},
		{"fulfil claim once a rejection started revoking", claimed(approved, ActReject, ended), "", ActFulfil, true, errConflict},
		{"reject claim retried after a lost revocation", claimed(approved, ActReject, ended), "", ActReject, true, nil},
		{"reject a pending coupon", Redemption{Status: Pending, Fulfilment: rewardcatalog.StripeCoupon}, "", ActReject, false, nil},
		{"reject approved merchandise", Redemption{Status: Approved, Fulfilment: rewardcatalog.Manual}, "", ActReject, false, nil},
		{"cancel while a rejection revokes", claimed(Redemption{Status: Pending, Fulfilment: rewardcatalog.StripeCredit}, ActReject, live), "", ActCancel, false, errConflict},
	} {
		err := mayMove(tc.cur, tc.token, tc.act, tc.claiming, now)
		switch {
		case tc.want == nil && err != nil, tc.want != nil && apperr.CodeOf(err) != apperr.Conflict,
			tc.want == ErrRevokeFirst && !IsRevokeFirst(err):
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
	r := claimed(approved, ActReject, live)
	r.EndClaim(now)
	if mayMove(r, "", ActReject, true, now) != nil || mayMove(r, "", ActFulfil, true, now) == nil {
		t.Errorf("an ended claim lets others claim, and an ended reject claim still bars fulfilment: %+v", r)
	}
}

var errConflict = apperr.New(apperr.Conflict, "any 409")
