package rewards

import (
	"context"
	"net/http"
	"regexp"
	"time"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/audit"
	"github.com/liberation/monetization/shared/httpapi"
	"github.com/liberation/monetization/shared/ids"
	"github.com/liberation/monetization/shared/manifest"
	"github.com/liberation/monetization/shared/rewards/rewardcatalog"
	"github.com/liberation/monetization/shared/store"
)

// ValidRedemptionID reports whether s has the shape of our redemption ids ("rdm_" + a ULID).
func ValidRedemptionID(s string) bool { return ids.Valid("rdm", s) }

// RedemptionView is a redemption as its owner sees it.
type RedemptionView struct {
	ID          string                   `json:"id"`
	RewardID    string                   `json:"rewardId"`
	RewardName  string                   `json:"rewardName"`
	Cost        int64                    `json:"cost"`
	Fulfilment  rewardcatalog.Fulfilment `json:"fulfilment"`
	Status      Status                   `json:"status"`
	Shipping    *Address                 `json:"shippingAddress,omitempty"`
	CouponCode  string                   `json:"couponCode,omitempty"`
	Reason      string                   `json:"reason,omitempty"`
	Note        string                   `json:"note,omitempty"`
	CreatedAt   time.Time                `json:"createdAt"`
	UpdatedAt   time.Time                `json:"updatedAt"`
	FulfilledAt *time.Time               `json:"fulfilledAt,omitempty"`
}

// AdminRedemptionView adds what operators need.
type AdminRedemptionView struct {
	RedemptionView
	UserID             string `json:"userId"`
	DecidedBy          string `json:"decidedBy,omitempty"`
	StripeCustomerID   string `json:"stripeCustomerId,omitempty"`
	BalanceTransaction string `json:"balanceTransaction,omitempty"`
	FulfilmentError    string `json:"fulfilmentError,omitempty"`
	FulfilmentAttempts int64  `json:"fulfilmentAttempts"`
	EmailSent          *bool  `json:"emailSent,omitempty"` // set on the answer of a transition
}

// View renders a redemption for its owner. The coupon code is shown once the coupon is delivered
// (fulfilled): before that it may not exist at Stripe yet, or be about to be revoked.
func (r Redemption) View() RedemptionView {
	v := RedemptionView{ID: r.ID, RewardID: r.RewardID, RewardName: r.RewardName, Cost: r.Cost,
		Fulfilment: r.Fulfilment, Status: r.Status, Shipping: r.Shipping, Reason: r.Reason,
		Note: r.Note, CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC()}
	if r.Status == Fulfilled {
		v.CouponCode = r.CouponCode
	}
	if !r.FulfilledAt.IsZero() {
		t := r.FulfilledAt.UTC()
		v.FulfilledAt = &t
	}
	return v
}

// AdminView renders a redemption for operators.
func (r Redemption) AdminView() AdminRedemptionView {
	return AdminRedemptionView{RedemptionView: r.View(), UserID: r.UserID, DecidedBy: r.DecidedBy,
		StripeCustomerID: r.StripeCustomerID, BalanceTransaction: r.BalanceTransaction,
		FulfilmentError: r.FulfilmentError, FulfilmentAttempts: r.FulfilmentAttempts}
}

// RedemptionRequest is the body of POST /tokens/redemptions.
type RedemptionRequest struct {
	RewardID string   `json:"rewardId"`
	Shipping *Address `json:"shippingAddress,omitempty"`
}

var countryPattern = regexp.MustCompile(`^[A-Z]{2}$`)

// Validate checks the request against the catalogue.
func (q *RedemptionRequest) Validate() error {
	rw, ok := rewardcatalog.ByID(q.RewardID)
	switch {
	case q.RewardID == "":
		return apperr.New(apperr.Invalid, "rewardId is required")
	case !ok:
		return apperr.New(apperr.Invalid, "rewardId %q is not in the catalogue (GET /rewards)", q.RewardID)
	case rw.NeedsShipping && q.Shipping == nil:
		return apperr.New(apperr.Invalid, "shippingAddress is required for %s", rw.ID)
	case !rw.NeedsShipping && q.Shipping != nil:
		return apperr.New(apperr.Invalid, "shippingAddress is only for rewards that are shipped")
	}
	if a := q.Shipping; a != nil {
		for _, f := range []struct {
			name, v  string
			min, max int
		}{{"name", a.Name, 1, 100}, {"line1", a.Line1, 1, 200}, {"line2", a.Line2, 0, 200}, {"city", a.City, 1, 100},
			{"state", a.State, 0, 100}, {"postalCode", a.PostalCode, 1, 20}} {
			if err := CheckText("shippingAddress."+f.name, f.v, f.min, f.max); err != nil {
				return err
			}
		}
		if !countryPattern.MatchString(a.Country) {
			return apperr.New(apperr.Invalid, "shippingAddress.country must be an ISO 3166-1 alpha-2 code (\"US\")")
		}
	}
	return nil
}

// CreateRedemption holds the reward's cost and records the request, in one transaction: the
// account's available tokens must cover it (409 otherwise, nothing stored).
func (wf workflow) CreateRedemption(ctx context.Context, userID, email string, q RedemptionRequest, requestID string) (Redemption, error) {
	rw, _ := rewardcatalog.ByID(q.RewardID)
	now := wf.clk.Now()
	red := Redemption{ID: ids.New("rdm", now), UserID: userID, Email: email, RewardID: rw.ID, RewardName: rw.Name,
		Cost: rw.Cost, Fulfilment: rw.Fulfilment, Status: Pending, Shipping: q.Shipping, CreatedAt: now, UpdatedAt: now,
		Version: 1}
	// A new redemption posts nothing (redemptionEntries of the zero redemption): no money moved.
	w, err := redemptionWrite(Redemption{}, red, 0)
	if err != nil {
		return red, err
	}
	_, _, err = wf.Post(ctx, userID, func(ctx context.Context, a Account) (Plan, error) {
		rec := audit.Entry{Actor: userID, Action: "redemption.create", Target: "redemption:" + red.ID,
			RequestID: requestID, Details: map[string]string{"reward": rw.ID, "cost": itoa(rw.Cost)}}
		c := HoldChange(rw.Cost)
		c.SourceID, c.Reason, c.Actor = red.ID, "held for "+rw.Name, userID
		return Plan{Change: c, Extras: []Extra{
			{Write: Write{Redemption: &w},
				Fail: func(context.Context) error { return apperr.New(apperr.Conflict, "redemption id collision; retry") }},
			{Write: Write{Audit: &rec}},
		}}, nil
	})
	return red, err
}

func wireCreateRedemption(w wiring) (httpapi.Lambda, error) {
	return HandleCreateRedemption(w.rt.Fn, w.d), nil
}

// HandleCreateRedemption serves POST /tokens/redemptions (Idempotency-Key required).
func HandleCreateRedemption(fn manifest.Function, d *Deps) httpapi.Lambda {
	return httpapi.Route(fn, httpapi.IdempotentRequired(d.claims(), fn.Name, createRedemption(d.workflow())))
}

func createRedemption(wf workflow) httpapi.Handler {
	return func(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
		var q RedemptionRequest
		if err := r.Decode(&q); err != nil {
			return httpapi.Response{}, err
		}
		red, err := wf.CreateRedemption(ctx, r.Principal.UserID, r.Principal.Email, q, r.ID)
		if err != nil {
			return httpapi.Response{}, err
		}
		return httpapi.JSON(http.StatusCreated, red.View()), nil
	}
}

// GetRedemption reads one of a user's redemptions (another user's is simply not found).
func (wf workflow) GetRedemption(ctx context.Context, userID, id string) (Redemption, error) {
	return wf.reds.Redemption(ctx, userID, id)
}

// RedemptionByID finds a redemption by id alone (admin routes): the id index, then the item itself.
func (wf workflow) RedemptionByID(ctx context.Context, id string) (Redemption, error) {
	if !ValidRedemptionID(id) {
		return Redemption{}, apperr.New(apperr.Invalid, "redemptionId is malformed")
	}
	owner, err := wf.reds.RedemptionOwner(ctx, id)
	if err != nil {
		return Redemption{}, err
	}
	return wf.GetRedemption(ctx, owner, id)
}

// UpdateRedemption records something about a redemption without moving it (a fulfilment error,
// the e-mail sent), over the version read: a concurrent change wins and this returns a 409.
func (wf workflow) UpdateRedemption(ctx context.Context, red Redemption, change func(*Redemption)) (Redemption, error) {
	n := red
	change(&n)
	n.Version, n.WriteID = red.Version+1, writeID()
	w, err := redemptionWrite(red, n, red.Version) // red is what the write replaces, or it fails
	if err != nil {
		return red, err
	}
	err = wf.reds.SaveRedemption(ctx, w, nil)
	if store.IsConditionFailed(err) {
		return red, errRedemptionMoved
	}
	if err != nil {
		return red, err
	}
	return n, nil
}

var errRedemptionMoved = apperr.New(apperr.Conflict, "the redemption changed; retry")

// ListRedemptions lists a user's redemptions, newest first.
func (wf workflow) ListRedemptions(ctx context.Context, userID string, limit int32, cursor string) ([]Redemption, string, error) {
	return wf.reds.UserRedemptions(ctx, userID, limit, cursor)
}

// RedemptionsByStatus lists redemptions in a status, oldest change first (the admin's queue).
func (wf workflow) RedemptionsByStatus(ctx context.Context, status Status, limit int32, cursor string) ([]Redemption, string, error) {
	return wf.reds.RedemptionsByStatus(ctx, status, limit, cursor)
}

func redemptions(items []redemptionItem) []Redemption {
	out := make([]Redemption, len(items))
	for i, it := range items {
		out[i] = it.redemption()
	}
	return out
}

func wireListMyRedemptions(w wiring) (httpapi.Lambda, error) {
	return HandleListMyRedemptions(w.rt.Fn, w.d), nil
}

// HandleListMyRedemptions serves GET /tokens/redemptions.
func HandleListMyRedemptions(fn manifest.Function, d *Deps) httpapi.Lambda {
	return httpapi.Route(fn, listMyRedemptions(d.redemptions()))
}

func listMyRedemptions(reds Redemptions) httpapi.Handler {
	return func(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
		return httpapi.ListPage(ctx, r, "redemptions", listLimits,
			func(ctx context.Context, limit int32, cursor string) ([]Redemption, string, error) {
				return reds.UserRedemptions(ctx, r.Principal.UserID, limit, cursor)
			}, Redemption.View)
	}
}

// listLimits are the ?limit= default and maximum of the area's lists.
var listLimits = httpapi.Limits{Default: 20, Max: 100}

func wireCancelRedemption(w wiring) (httpapi.Lambda, error) {
	return HandleCancelRedemption(w.rt.Fn, w.d), nil
}

// HandleCancelRedemption serves POST /tokens/redemptions/{redemptionId}/cancel: the owner withdraws
// a pending redemption and the held tokens are released.
func HandleCancelRedemption(fn manifest.Function, d *Deps) httpapi.Lambda {
	return httpapi.Route(fn, httpapi.Idempotent(d.claims(), fn.Name, cancelRedemption(d.workflow())))
}

func cancelRedemption(wf workflow) httpapi.Handler {
	return func(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
		id := r.PathParam("redemptionId")
		if !ValidRedemptionID(id) {
			return httpapi.Response{}, apperr.New(apperr.Invalid, "redemptionId is malformed")
		}
		red, err := wf.reds.Redemption(ctx, r.Principal.UserID, id)
		if err != nil {
			return httpapi.Response{}, err
		}
		red, err = wf.move(ctx, red, ActCancel, r.Principal.UserID, r.ID, nil, 0)
		if err != nil {
			return httpapi.Response{}, err
		}
		return httpapi.OK(red.View()), nil
	}
}

func wireListRedemptions(w wiring) (httpapi.Lambda, error) {
	return HandleListRedemptions(w.rt.Fn, w.d), nil
}

// HandleListRedemptions serves GET /admin/redemptions?status= (default pending).
func HandleListRedemptions(fn manifest.Function, d *Deps) httpapi.Lambda {
	return httpapi.Route(fn, listRedemptions(d.redemptions()))
}

func listRedemptions(reds Redemptions) httpapi.Handler {
	return func(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
		status := Pending
		if v, present := r.Event.QueryStringParameters["status"]; present {
			status = Status(v) // an empty value is not a status: 400 below
		}
		known := false
		for _, s := range Statuses {
			known = known || s == status
		}
		if !known {
			return httpapi.Response{}, apperr.New(apperr.Invalid, "status must be one of pending, approved, fulfilled, rejected, cancelled")
		}
		return httpapi.ListPage(ctx, r, "redemptions", listLimits,
			func(ctx context.Context, limit int32, cursor string) ([]Redemption, string, error) {
				return reds.RedemptionsByStatus(ctx, status, limit, cursor)
			}, Redemption.AdminView)
	}
}
