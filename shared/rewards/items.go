package rewards

import (
	"time"

	"github.com/liberation/monetization/shared/rewards/rewardcatalog"
	"github.com/liberation/monetization/shared/store"
)

// The DynamoDB items of the area (keys from shared/store/keys.go; docs/data-model.md, "Rewards").

// accountItem is Account as stored.
type accountItem struct {
	PK             string    `dynamodbav:"PK"`
	SK             string    `dynamodbav:"SK"`
	Type           string    `dynamodbav:"type"`
	UserID         string    `dynamodbav:"userId"`
	Balance        int64     `dynamodbav:"balance"`
	Held           int64     `dynamodbav:"held"`
	Available      int64     `dynamodbav:"available"`
	Pending        int64     `dynamodbav:"pending"`
	Owed           int64     `dynamodbav:"owed,omitempty"`
	LifetimeEarned int64     `dynamodbav:"lifetimeEarned"`
	WeekID         string    `dynamodbav:"weekId"`
	WeekEarned     int64     `dynamodbav:"weekEarned"`
	WeekReachedAt  time.Time `dynamodbav:"weekReachedAt"`
	AllReachedAt   time.Time `dynamodbav:"allReachedAt"`
	Seq            int64     `dynamodbav:"seq"`
	Version        int64     `dynamodbav:"version"`
	DisplayName    string    `dynamodbav:"displayName,omitempty"`
	OptOut         bool      `dynamodbav:"optOut"`
	UpdatedAt      time.Time `dynamodbav:"updatedAt"`
	WriteID        string    `dynamodbav:"writeId,omitempty"`
	ErasedAs       string    `dynamodbav:"erasedAs,omitempty"`
}

func (a Account) item() accountItem {
	k := store.TokenAccountKey(a.UserID)
	return accountItem{PK: k.PK, SK: k.SK, Type: "token-account", UserID: a.UserID, Balance: a.Balance, Held: a.Held,
		Available: a.Available, Pending: a.Pending, Owed: a.Owed, LifetimeEarned: a.LifetimeEarned, WeekID: a.WeekID,
		WeekEarned: a.WeekEarned, WeekReachedAt: a.WeekReachedAt, AllReachedAt: a.AllReachedAt, Seq: a.Seq,
		Version: a.Version, DisplayName: a.DisplayName, OptOut: a.OptOut, UpdatedAt: a.UpdatedAt, WriteID: a.WriteID, ErasedAs: a.ErasedAs}
}

func (it accountItem) account() Account {
	return Account{UserID: it.UserID, Balance: it.Balance, Held: it.Held, Available: it.Available, Pending: it.Pending, Owed: it.Owed,
		LifetimeEarned: it.LifetimeEarned, WeekID: it.WeekID, WeekEarned: it.WeekEarned, WeekReachedAt: it.WeekReachedAt,
		AllReachedAt: it.AllReachedAt, Seq: it.Seq, Version: it.Version, DisplayName: it.DisplayName, OptOut: it.OptOut,
		UpdatedAt: it.UpdatedAt, WriteID: it.WriteID, ErasedAs: it.ErasedAs}
}

// entryItem is Entry as stored.
type entryItem struct {
	PK             string    `dynamodbav:"PK"`
	SK             string    `dynamodbav:"SK"`
	Type           string    `dynamodbav:"type"`
	ID             string    `dynamodbav:"id"`
	UserID         string    `dynamodbav:"userId"`
	Seq            int64     `dynamodbav:"seq"`
	Kind           Kind      `dynamodbav:"kind"`
	Rule           string    `dynamodbav:"rule,omitempty"`
	Reason         string    `dynamodbav:"reason,omitempty"`
	SourceID       string    `dynamodbav:"sourceId,omitempty"`
	Actor          string    `dynamodbav:"actor,omitempty"`
	Delta          int64     `dynamodbav:"delta"`
	HeldDelta      int64     `dynamodbav:"heldDelta"`
	PendingDelta   int64     `dynamodbav:"pendingDelta"`
	OwedDelta      int64     `dynamodbav:"owedDelta,omitempty"`
	Earned         int64     `dynamodbav:"earned"`
	BalanceAfter   int64     `dynamodbav:"balanceAfter"`
	HeldAfter      int64     `dynamodbav:"heldAfter"`
	PendingAfter   int64     `dynamodbav:"pendingAfter"`
	AvailableAfter int64     `dynamodbav:"availableAfter"`
	OwedAfter      int64     `dynamodbav:"owedAfter,omitempty"`
	At             time.Time `dynamodbav:"at"`
	ErasedAs       string    `dynamodbav:"erasedAs,omitempty"`
}

func (e Entry) item() entryItem {
	k := store.TokenEntryKey(e.UserID, e.Seq)
	return entryItem{PK: k.PK, SK: k.SK, Type: "token-entry", ID: e.ID, UserID: e.UserID, Seq: e.Seq, Kind: e.Kind,
		Rule: e.Rule, Reason: e.Reason, SourceID: e.SourceID, Actor: e.Actor, Delta: e.Delta, HeldDelta: e.HeldDelta,
		PendingDelta: e.PendingDelta, OwedDelta: e.OwedDelta, Earned: e.Earned, BalanceAfter: e.BalanceAfter,
		HeldAfter: e.HeldAfter, PendingAfter: e.PendingAfter, AvailableAfter: e.AvailableAfter, OwedAfter: e.OwedAfter, At: e.At,
		ErasedAs: e.ErasedAs}
}

func (it entryItem) entry() Entry {
	return Entry{ID: it.ID, UserID: it.UserID, Seq: it.Seq, Kind: it.Kind, Rule: it.Rule, Reason: it.Reason,
		SourceID: it.SourceID, Actor: it.Actor, Delta: it.Delta, HeldDelta: it.HeldDelta, PendingDelta: it.PendingDelta,
		OwedDelta: it.OwedDelta, Earned: it.Earned, BalanceAfter: it.BalanceAfter, HeldAfter: it.HeldAfter,
		PendingAfter: it.PendingAfter, AvailableAfter: it.AvailableAfter, OwedAfter: it.OwedAfter, At: it.At,
		ErasedAs: it.ErasedAs}
}

// Earning guard states. An immediate earning is "earned" at once; a pending one moves from
// "pending" to "released" or "cancelled" exactly once (conditional on "pending").
const (
	EarnEarned    = "earned"
	EarnPending   = "pending"
	EarnReleased  = "released"
	EarnCancelled = "cancelled"
	EarnCapped    = "capped" // seen, but the daily cap left nothing to earn
	// EarnAwaiting: refunds of a purchase arrived before the purchase itself; the purchase, when it
	// comes, earns what those refunds leave.
	EarnAwaiting = "awaiting"
)

// earnItem guards one earning per (user, rule, source) and carries a pending earning's state. A
// purchase's guard also keeps what its refunds took: the price, each refund counted (by refund or
// dispute id, so a redelivery counts once) and the tokens cancelled or clawed back so far. Every
// change of a guard is conditioned on the version read.
type earnItem struct {
	PK          string                `dynamodbav:"PK"`
	SK          string                `dynamodbav:"SK"`
	GSI2PK      string                `dynamodbav:"GSI2PK,omitempty"` // while pending: the release job's index
	GSI2SK      string                `dynamodbav:"GSI2SK,omitempty"`
	Type        string                `dynamodbav:"type"`
	UserID      string                `dynamodbav:"userId"`
	Rule        string                `dynamodbav:"rule"`
	SourceID    string                `dynamodbav:"sourceId"`
	State       string                `dynamodbav:"state"`
	Tokens      int64                 `dynamodbav:"tokens"` // earned (before refunds)
	ReleaseAt   time.Time             `dynamodbav:"releaseAt,omitempty"`
	EntrySeq    int64                 `dynamodbav:"entrySeq,omitempty"`
	At          time.Time             `dynamodbav:"at"`
	UpdatedAt   time.Time             `dynamodbav:"updatedAt"`
	Note        string                `dynamodbav:"note,omitempty"`
	AmountCents int64                 `dynamodbav:"amountCents,omitempty"` // a purchase's price
	Refunds     map[string]refundSeen `dynamodbav:"refunds,omitempty"`
	Cancelled   int64                 `dynamodbav:"cancelledTokens,omitempty"` // of Tokens, taken back by refunds
	// Released: a cancelled earning's tokens had been released before (a reversed refund then gives
	// them back as available, not pending).
	Released bool  `dynamodbav:"released,omitempty"`
	Version  int64 `dynamodbav:"version,omitempty"` // 0: written before versions
	// ErasedAs: the guard of an erased person, kept (an earning is never granted twice) and tied to
	// their pseudonym (privacy_erase.go).
	ErasedAs string `dynamodbav:"erasedAs,omitempty"`
}

// refundSeen is one refund (or lost dispute) of a purchase as its guard keeps it.
type refundSeen struct {
	Cents   int64     `dynamodbav:"cents"`
	At      time.Time `dynamodbav:"at"`
	Full    bool      `dynamodbav:"full,omitempty"`
	Dispute bool      `dynamodbav:"dispute,omitempty"`
	// Reversed: the refund failed or was canceled at Stripe and no longer counts; kept (rather
	// than deleted) so the refund told after its reversal is recognised and never counted.
	Reversed bool `dynamodbav:"reversed,omitempty"`
}

// capItem counts one user's earnings by a capped rule on one UTC day.
type capItem struct {
	PK        string `dynamodbav:"PK"`
	SK        string `dynamodbav:"SK"`
	Type      string `dynamodbav:"type"`
	Earned    int64  `dynamodbav:"earned"`
	ExpiresAt int64  `dynamodbav:"expiresAt"`
}

// scoreItem is a player's score on one board instance; GSI2 places it in its shard of the global
// board while the player is on it (opted in, score > 0).
type scoreItem struct {
	PK          string    `dynamodbav:"PK"`
	SK          string    `dynamodbav:"SK"`
	GSI2PK      string    `dynamodbav:"GSI2PK,omitempty"`
	GSI2SK      string    `dynamodbav:"GSI2SK,omitempty"`
	Type        string    `dynamodbav:"type"`
	UserID      string    `dynamodbav:"userId"`
	Board       string    `dynamodbav:"board"`
	DisplayName string    `dynamodbav:"displayName,omitempty"`
	OptOut      bool      `dynamodbav:"optOut"`
	Score       int64     `dynamodbav:"score"`
	ReachedAt   time.Time `dynamodbav:"reachedAt"`
	ExpiresAt   int64     `dynamodbav:"expiresAt,omitempty"`
}

// redemptionItem is Redemption as stored.
type redemptionItem struct {
	PK                 string                   `dynamodbav:"PK"`
	SK                 string                   `dynamodbav:"SK"`
	GSI1PK             string                   `dynamodbav:"GSI1PK"`
	GSI1SK             string                   `dynamodbav:"GSI1SK"`
	GSI2PK             string                   `dynamodbav:"GSI2PK"`
	GSI2SK             string                   `dynamodbav:"GSI2SK"`
	Type               string                   `dynamodbav:"type"`
	ID                 string                   `dynamodbav:"id"`
	UserID             string                   `dynamodbav:"userId"`
	Email              string                   `dynamodbav:"email,omitempty"`
	RewardID           string                   `dynamodbav:"rewardId"`
	RewardName         string                   `dynamodbav:"rewardName"`
	Cost               int64                    `dynamodbav:"cost"`
	Fulfilment         rewardcatalog.Fulfilment `dynamodbav:"fulfilment"`
	Status             Status                   `dynamodbav:"status"`
	Shipping           *Address                 `dynamodbav:"shipping,omitempty"`
	DecidedBy          string                   `dynamodbav:"decidedBy,omitempty"`
	Reason             string                   `dynamodbav:"reason,omitempty"`
	Note               string                   `dynamodbav:"note,omitempty"`
	CouponCode         string                   `dynamodbav:"couponCode,omitempty"`
	StripeCustomerID   string                   `dynamodbav:"stripeCustomerId,omitempty"`
	BalanceTransaction string                   `dynamodbav:"balanceTransaction,omitempty"`
	CreditCents        int64                    `dynamodbav:"creditCents,omitempty"`
	CreditCurrency     string                   `dynamodbav:"creditCurrency,omitempty"`
	FulfilmentError    string                   `dynamodbav:"fulfilmentError,omitempty"`
	FulfilmentAttempts int64                    `dynamodbav:"fulfilmentAttempts"`
	NotifiedStatus     Status                   `dynamodbav:"notifiedStatus,omitempty"`
	Claim              Action                   `dynamodbav:"claim,omitempty"`
	ClaimID            string                   `dynamodbav:"claimId,omitempty"`
	ClaimUntil         time.Time                `dynamodbav:"claimUntil,omitempty"`
	ApprovedAt         time.Time                `dynamodbav:"approvedAt,omitempty"`
	CreatedAt          time.Time                `dynamodbav:"createdAt"`
	UpdatedAt          time.Time                `dynamodbav:"updatedAt"`
	FulfilledAt        time.Time                `dynamodbav:"fulfilledAt,omitempty"`
	Version            int64                    `dynamodbav:"version"`
	WriteID            string                   `dynamodbav:"writeId,omitempty"`
	ErasedAs           string                   `dynamodbav:"erasedAs,omitempty"`
}

func (r Redemption) item() redemptionItem {
	k := store.RedemptionKey(r.UserID, r.ID)
	g1, g1s := store.RedemptionByIDGSI1(r.ID)
	g2, g2s := store.RedemptionStatusGSI2(string(r.Status), r.UpdatedAt, r.ID)
	return redemptionItem{PK: k.PK, SK: k.SK, GSI1PK: g1, GSI1SK: g1s, GSI2PK: g2, GSI2SK: g2s, Type: "redemption",
		ID: r.ID, UserID: r.UserID, Email: r.Email, RewardID: r.RewardID, RewardName: r.RewardName, Cost: r.Cost,
		Fulfilment: r.Fulfilment, Status: r.Status, Shipping: r.Shipping, DecidedBy: r.DecidedBy, Reason: r.Reason,
		Note: r.Note, CouponCode: r.CouponCode, StripeCustomerID: r.StripeCustomerID,
		BalanceTransaction: r.BalanceTransaction, CreditCents: r.CreditCents, CreditCurrency: r.CreditCurrency,
		FulfilmentError:    r.FulfilmentError,
		FulfilmentAttempts: r.FulfilmentAttempts, NotifiedStatus: r.NotifiedStatus, Claim: r.Claim, ClaimID: r.ClaimID,
		ClaimUntil: r.ClaimUntil, ApprovedAt: r.ApprovedAt, CreatedAt: r.CreatedAt,
		UpdatedAt: r.UpdatedAt, FulfilledAt: r.FulfilledAt, Version: r.Version, WriteID: r.WriteID, ErasedAs: r.ErasedAs}
}

func (it redemptionItem) redemption() Redemption {
	return Redemption{ID: it.ID, UserID: it.UserID, Email: it.Email, RewardID: it.RewardID, RewardName: it.RewardName,
		Cost: it.Cost, Fulfilment: it.Fulfilment, Status: it.Status, Shipping: it.Shipping, DecidedBy: it.DecidedBy,
		Reason: it.Reason, Note: it.Note, CouponCode: it.CouponCode, StripeCustomerID: it.StripeCustomerID,
		BalanceTransaction: it.BalanceTransaction, CreditCents: it.CreditCents, CreditCurrency: it.CreditCurrency,
		FulfilmentError:    it.FulfilmentError,
		FulfilmentAttempts: it.FulfilmentAttempts, NotifiedStatus: it.NotifiedStatus, Claim: it.Claim, ClaimID: it.ClaimID,
		ClaimUntil: it.ClaimUntil, ApprovedAt: it.ApprovedAt, CreatedAt: it.CreatedAt,
		UpdatedAt: it.UpdatedAt, FulfilledAt: it.FulfilledAt, Version: it.Version, WriteID: it.WriteID, ErasedAs: it.ErasedAs}
}
