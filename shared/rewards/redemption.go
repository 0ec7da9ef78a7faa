package rewards

import (
	"time"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/rewards/rewardcatalog"
)

// Status is where a redemption is in its workflow.
type Status string

const (
	Pending   Status = "pending"   // tokens held; waiting for an admin
	Approved  Status = "approved"  // accepted; tokens still held until it is fulfilled
	Fulfilled Status = "fulfilled" // delivered; the held tokens are spent
	Rejected  Status = "rejected"  // refused by an admin; tokens released
	Cancelled Status = "cancelled" // withdrawn by the user while pending; tokens released
)

// Statuses lists every status (the admin list's filter).
var Statuses = []Status{Pending, Approved, Fulfilled, Rejected, Cancelled}

// Action is a transition of the workflow.
type Action string

const (
	ActApprove Action = "approve" // admin: pending → approved
	ActFulfil  Action = "fulfil"  // admin or automatic: approved → fulfilled (spends the held tokens)
	ActReject  Action = "reject"  // admin: pending or approved (not yet fulfilled) → rejected (releases)
	ActCancel  Action = "cancel"  // the user: pending → cancelled (releases)
)

// transitions is the whole state machine: from which statuses an action may start, and where it
// ends. Everything else is refused, so a redemption cannot be approved twice, approved after a
// cancellation, fulfilled twice or released twice.
var transitions = map[Action]struct {
	from []Status
	to   Status
}{
	ActApprove: {[]Status{Pending}, Approved},
	ActFulfil:  {[]Status{Approved}, Fulfilled},
	ActReject:  {[]Status{Pending, Approved}, Rejected},
	ActCancel:  {[]Status{Pending}, Cancelled},
}

// Next returns where act takes a redemption in status from, or a 409 naming the current status.
func Next(from Status, act Action) (Status, error) {
	t, ok := transitions[act]
	if !ok {
		return "", apperr.New(apperr.Internal, "unknown action %q", act)
	}
	for _, s := range t.from {
		if s == from {
			return t.to, nil
		}
	}
	return "", apperr.New(apperr.Conflict, "the redemption is %s: it cannot be %s", from, pastTense[act])
}

// AllowedFrom lists the statuses act may start from (condition expressions use it).
func AllowedFrom(act Action) []Status { return append([]Status(nil), transitions[act].from...) }

var pastTense = map[Action]string{ActApprove: "approved", ActFulfil: "fulfilled", ActReject: "rejected", ActCancel: "cancelled"}

// TokenChange is the ledger movement of a transition for a redemption of cost tokens: holding on
// creation, releasing on rejection or cancellation, spending on fulfilment; approval moves nothing.
func TokenChange(act Action, cost int64) (Change, bool) {
	switch act {
	case ActFulfil:
		return Change{Kind: KindRedeem, Delta: -cost, HeldDelta: -cost}, true
	case ActReject, ActCancel:
		return Change{Kind: KindUnhold, HeldDelta: -cost}, true
	}
	return Change{}, false
}

// HoldChange is the movement of a new redemption.
func HoldChange(cost int64) Change { return Change{Kind: KindHold, HeldDelta: cost} }

// Address is a shipping address for merchandise.
type Address struct {
	Name       string `json:"name"`
	Line1      string `json:"line1"`
	Line2      string `json:"line2,omitempty"`
	City       string `json:"city"`
	State      string `json:"state,omitempty"`
	PostalCode string `json:"postalCode"`
	Country    string `json:"country"` // ISO 3166-1 alpha-2
}

// Redemption is a request to spend tokens on a reward.
type Redemption struct {
	ID         string
	UserID     string
	Email      string // where the workflow's e-mails go (the requester's e-mail claim)
	RewardID   string
	RewardName string
	Cost       int64
	Fulfilment rewardcatalog.Fulfilment
	Status     Status
	Shipping   *Address
	// Set by the workflow.
	DecidedBy string // the admin who approved or rejected
	Reason    string // rejection reason
	Note      string // fulfilment note (tracking number …)
	// Fulfilment results.
	CouponCode         string
	StripeCustomerID   string
	BalanceTransaction string
	// CreditCents and CreditCurrency are the customer-balance credit Stripe was asked for when a
	// credit was fulfilled (the catalogue's amount at that moment): what rwd.credit books, and what a
	// revocation would take back, whatever the catalogue says later.
	CreditCents        int64
	CreditCurrency     string
	FulfilmentError    string // the last automatic fulfilment failure (approved, not fulfilled)
	FulfilmentAttempts int64
	NotifiedStatus     Status // the status the last e-mail announced
	// A claim reserves an approved coupon or credit for the one operation talking to Stripe about
	// it (approve or fulfil issuing it, reject revoking it) until ClaimUntil: no other operation
	// moves it meanwhile. A reject claim, once taken, is never followed by an issue (see Claim).
	Claim       Action
	ClaimID     string
	ClaimUntil  time.Time
	claimToken  string // set on the copy Claim returns: its holder's proof
	ApprovedAt  time.Time
	CreatedAt   time.Time
	UpdatedAt   time.Time
	FulfilledAt time.Time
	Version     int64
	WriteID     string // random per write (see Account.WriteID)
	// ErasedAs is the pseudonym of an erased requester (privacy_erase.go): the redemption is kept,
	// without its address and notes.
	ErasedAs string
}
