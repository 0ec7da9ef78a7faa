package rewards

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"time"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/audit"
	"github.com/liberation/monetization/shared/platform"
	"github.com/liberation/monetization/shared/privacy"
	"github.com/liberation/monetization/shared/rewards/rewardcatalog"
	"github.com/liberation/monetization/shared/store"
)

// Erasure of a person's rewards data (issue 18, docs/privacy.md "Erasure", decision 0087). Keys
// stay (the user id is the identity provider's opaque subject); what identifies the person goes:
//
//   - redemptions are kept (they spent tokens), tied to the pseudonym (erasedAs), without the
//     shipping address, the fulfilment note and the rejection text; the requester's address
//     becomes the pseudonym's. One still awaiting a decision (pending) or a shipment (an approved
//     merchandise pack) is first declined through the ledger — redemption rejected, its tokens
//     released (unhold entry), audit record — in one transaction, exactly as an admin's rejection
//     moves them. An approved coupon or credit may be live at Stripe and is revoked only by the
//     redeem routes' Stripe call: it is left as it is and the step returns a hold
//     (HoldRedemptionAtStripe); the rest is erased, and a re-run after it ended erases it.
//   - the tokens are forfeited: one movement (the ledger's one transaction: the account to
//     available 0 over the version read, a "forfeit" entry of −available, the token metrics — the
//     tokens count as deducted, so issued − redeemed − deducted stays Σ balances — and an audit
//     record naming the pseudonym). Rewards posts no journal entry for token movements — tokens are
//     not money and the books hold no token liability (books_journal.go: only a credit granted at
//     Stripe is booked) — so a forfeiture, like an admin deduction, posts none either.
//   - the display name is removed and the account opted out of the boards (a profile movement,
//     which takes the current boards' scores off the index and the histograms); then every score
//     item, whatever the period, is deleted, with its shard's histogram bucket when it was still on
//     a board (past weeks), so the others' ranks and percentiles stay right.
//   - pending tokens (a purchase's earning inside its refund window) stay pending — a refund may
//     still cancel them — and are forfeited, not released, when the window ends (Release, through
//     forfeitAtRelease: a "forfeit" entry of −pending, counted as pending cancelled).
//   - ledger entries and earning guards are kept, tied to the pseudonym; daily cap counters, the
//     follows they made and their follow count are deleted. Follows of them have no index (they
//     sit in the followers' partitions): they stay, and show nothing about the person (their
//     score items are gone, their name removed).
//
// Every record's change is one transaction conditioned on what was read; a record already erased
// (erasedAs set, or gone) reports no change, so a step repeated after a failure changes nothing.

// HoldRedemptionAtStripe is the hold of an approved coupon or credit: its reward may be live at
// Stripe, and only the redeem routes (which revoke it there) may give its tokens back.
const HoldRedemptionAtStripe = "redemption-at-stripe"

// erasedReason is the rejection reason of a redemption declined by an erasure.
const erasedReason = "account erased"

// ErasePersonalDataHooks registers rewards' eraser with the erasure host (docs/privacy.md).
func ErasePersonalDataHooks(rt *platform.Runtime, r *privacy.Registry) error {
	s := store.Open(rt)
	d := (&Deps{Clock: rt.Clock, Store: s, Log: rt.Log, Fn: rt.Fn.Name}).With(NewRepo(s))
	r.RegisterEraser("rewards", PersonalDataEraser(privacy.Reader{S: s}, d))
	return nil
}

// eraseWrites are the erasure's own writes (repo_erase.go): each one transaction, changed false
// when its condition found the record erased, gone or changed.
type eraseWrites interface {
	TagEntry(ctx context.Context, userID string, seq int64, pseudonym string) (bool, error)
	TagGuard(ctx context.Context, userID, rule, sourceID string, version int64, pseudonym string) (bool, error)
	DropScore(ctx context.Context, sc scoreRead) (bool, error)
	DropCap(ctx context.Context, k store.Key, earned int64) (bool, error)
	DropFollowCount(ctx context.Context, userID string, following int64, present bool) (bool, error)
}

// scoreRead is a score item as the eraser read it.
type scoreRead struct {
	UserID, Board, GSI2PK string
	Score                 int64
	OnBoard               bool // on a global board (indexed, counted in its shard's histogram)
}

// erasure is rewards' eraser over the ledger (poster), the redemptions, the follows and its own
// writes; rd reads the person's items.
type erasure struct {
	rd     privacy.Reader
	p      poster
	reds   Redemptions
	social Social
	w      eraseWrites
}

// PersonalDataEraser erases a person's rewards data with d's ports (the ledger, the redemptions,
// the follows; the erasure's own writes from the ledger's repository, else the DynamoDB one over
// d.Store), reading their items with rd.
func PersonalDataEraser(rd privacy.Reader, d *Deps) privacy.Eraser {
	w, ok := d.ledger().(eraseWrites)
	if !ok {
		w = &dynamoRepo{s: d.Store}
	}
	e := erasure{rd: rd, p: d.poster(), reds: d.redemptions(), social: d.social(), w: w}
	part := func(typ, prefix string) func(s privacy.ErasureSubject) privacy.Source {
		return func(s privacy.ErasureSubject) privacy.Source {
			return rd.Partition(typ, store.UserPK(s.UserID), prefix)
		}
	}
	one := func(typ string, key func(string) store.Key) func(s privacy.ErasureSubject) privacy.Source {
		return func(s privacy.ErasureSubject) privacy.Source { return rd.One(typ, key(s.UserID)) }
	}
	return privacy.Phases(
		// Redemptions first: declining one releases its held tokens, which the forfeiture then takes.
		privacy.EachRow(part("redemption", store.RedemptionPrefix), e.redemption),
		privacy.EachRow(one("token-account", store.TokenAccountKey), e.account),
		// After the profile movement, which may have rewritten this week's and the all-time score.
		privacy.EachRow(part("leaderboard-score", store.LeaderboardScorePrefix), e.score),
		// After the forfeiture and the declines, so their entries are tied too.
		privacy.EachRow(part("token-entry", store.TokenEntryPrefix), e.entry),
		privacy.EachRow(part("token-earning", store.TokenEarningPrefix), e.guard),
		privacy.EachRow(part("token-cap", store.TokenCapPrefix), e.dailyCap),
		privacy.EachRow(part("follow", store.FollowPrefix), e.follow),
		privacy.EachRow(one("follow-count", store.FollowCountKey), e.followCount),
	)
}

// errErasedRedemptionMoved: the redemption changed between the read and the write; read it again.
var errErasedRedemptionMoved = errors.New("the redemption changed")

// redemption erases one redemption (see the package comment above): declined when still open,
// held when at Stripe, else kept without its personal values.
func (e erasure) redemption(ctx context.Context, s privacy.ErasureSubject, row map[string]any) (privacy.RowResult, error) {
	if privacy.Str(row, "erasedAs") != "" {
		return privacy.RowResult{}, nil
	}
	id := privacy.Str(row, "id")
	moved := func(err error) bool { return errors.Is(err, errErasedRedemptionMoved) || store.IsConditionFailed(err) }
	var res privacy.RowResult
	err := store.Retry(ctx, "erase redemption "+id, postAttempts, moved, func() error {
		cur, err := e.reds.Redemption(ctx, s.UserID, id)
		if apperr.Is(err, apperr.NotFound) {
			return nil
		}
		if err != nil || cur.ErasedAs != "" {
			return err
		}
		now := e.p.clk.Now()
		switch {
		case atStripe(cur, now):
			res.Holds = []privacy.Hold{{Reason: HoldRedemptionAtStripe, Ref: "redemption:" + cur.ID,
				What: "an approved coupon or credit, which may be live at Stripe, and the tokens it holds: erased once an admin fulfils or rejects it"}}
			return nil
		case cur.Status == Pending || cur.Status == Approved:
			err = e.decline(ctx, s, cur, now)
		default:
			err = e.scrubRedemption(ctx, s, cur)
		}
		res.Changed = err == nil
		return err
	})
	return res, err
}

// atStripe reports a redemption only the redeem routes may move: an approved coupon or credit
// (its reward may be live at Stripe), or one an operation holds a running claim on.
func atStripe(r Redemption, now time.Time) bool {
	if r.ClaimID != "" && now.Before(r.ClaimUntil) {
		return true
	}
	return r.Status == Approved && r.Fulfilment != rewardcatalog.Manual
}

// scrubbed is r kept for the pseudonym: no address, note or rejection text, the pseudonym's
// address, tied by erasedAs, over r's version.
func scrubbed(r Redemption, s privacy.ErasureSubject) Redemption {
	n := r
	n.Shipping, n.Note = nil, ""
	if n.Reason != "" && n.Reason != erasedReason {
		n.Reason = privacy.ErasedText
	}
	if n.Email != "" {
		n.Email = s.PseudonymEmail()
	}
	n.ErasedAs = s.Pseudonym
	n.Version, n.WriteID = r.Version+1, writeID()
	return n
}

// decline rejects an open redemption and releases its tokens: the ledger's one transaction (the
// account over the version read, the unhold entry, metrics), the redemption over the version read
// (scrubbed) and the audit record.
func (e erasure) decline(ctx context.Context, s privacy.ErasureSubject, cur Redemption, now time.Time) error {
	n := scrubbed(cur, s)
	n.Status, n.Reason, n.DecidedBy, n.UpdatedAt = Rejected, erasedReason, privacy.ActorErasure, now
	n.Claim, n.ClaimID, n.ClaimUntil = "", "", time.Time{}
	w, err := redemptionWrite(cur, n, cur.Version)
	if err != nil {
		return err
	}
	c, _ := TokenChange(ActReject, cur.Cost)
	c.SourceID, c.Actor, c.Reason, c.ErasedAs = cur.ID, privacy.ActorErasure, cur.RewardName+": "+string(Rejected), s.Pseudonym
	rec := audit.Entry{Actor: privacy.ActorErasure, Action: "redemption." + string(ActReject), Target: s.PseudonymTarget(),
		RequestID: s.RequestID, Details: map[string]string{"redemption": cur.ID, "cost": itoa(cur.Cost),
			"from": string(cur.Status), "to": string(Rejected)}}
	_, _, err = e.p.Post(ctx, cur.UserID, func(context.Context, Account) (Plan, error) {
		return Plan{Change: c, Extras: []Extra{
			{Write: Write{Redemption: &w}, Fail: func(context.Context) error { return errErasedRedemptionMoved }},
			{Write: Write{Audit: &rec}},
		}}, nil
	})
	return err
}

// scrubRedemption keeps a finished redemption without its personal values (its status, amounts
// and journal standing unchanged: it posts nothing).
func (e erasure) scrubRedemption(ctx context.Context, s privacy.ErasureSubject, cur Redemption) error {
	w, err := redemptionWrite(cur, scrubbed(cur, s), cur.Version)
	if err != nil {
		return err
	}
	return e.reds.SaveRedemption(ctx, w, nil)
}

// account forfeits the available tokens, then removes the display name and takes the account off
// the boards, each a ledger movement (one transaction over the version read).
func (e erasure) account(ctx context.Context, s privacy.ErasureSubject, _ map[string]any) (privacy.RowResult, error) {
	var res privacy.RowResult
	for range 3 { // at most a forfeiture and a profile movement; the third finds nothing to do
		_, _, err := e.p.Post(ctx, s.UserID, func(_ context.Context, a Account) (Plan, error) {
			switch {
			case a.Version == 0:
				return Plan{}, ErrNoop
			case a.Available > 0:
				rec := audit.Entry{Actor: privacy.ActorErasure, Action: "tokens.forfeit", Target: s.PseudonymTarget(),
					RequestID: s.RequestID, Details: map[string]string{"amount": itoa(a.Available), "entry": itoa(a.Seq + 1)}}
				return Plan{Change: Change{Kind: KindForfeit, Reason: "tokens forfeited: account erased",
					SourceID: "erasure:" + s.RequestID, Actor: privacy.ActorErasure, Delta: -a.Available, ErasedAs: s.Pseudonym},
					Extras: []Extra{{Write: Write{Audit: &rec}}}}, nil
			case a.DisplayName != "" || !a.OptOut || a.ErasedAs == "":
				name, out := "", true
				return Plan{Change: Change{Kind: KindProfile, DisplayName: &name, OptOut: &out, ErasedAs: s.Pseudonym}}, nil
			}
			return Plan{}, ErrNoop
		})
		if errors.Is(err, ErrNoop) {
			return res, nil
		}
		if err != nil {
			return res, err
		}
		res.Changed = true
	}
	return res, nil
}

// score deletes a score item (and its place in its shard's histogram when on a board).
func (e erasure) score(ctx context.Context, s privacy.ErasureSubject, row map[string]any) (privacy.RowResult, error) {
	g := privacy.Str(row, "GSI2PK")
	ok, err := e.w.DropScore(ctx, scoreRead{UserID: s.UserID, Board: privacy.Str(row, "board"), GSI2PK: g,
		Score: num(row, "score"), OnBoard: g != ""})
	return privacy.RowResult{Changed: ok}, err
}

// entry ties a ledger entry to the pseudonym.
func (e erasure) entry(ctx context.Context, s privacy.ErasureSubject, row map[string]any) (privacy.RowResult, error) {
	if privacy.Str(row, "erasedAs") != "" {
		return privacy.RowResult{}, nil
	}
	ok, err := e.w.TagEntry(ctx, s.UserID, num(row, "seq"), s.Pseudonym)
	return privacy.RowResult{Changed: ok}, err
}

// guard ties an earning guard to the pseudonym (it is kept: an earning is never granted twice).
func (e erasure) guard(ctx context.Context, s privacy.ErasureSubject, row map[string]any) (privacy.RowResult, error) {
	if privacy.Str(row, "erasedAs") != "" {
		return privacy.RowResult{}, nil
	}
	ok, err := e.w.TagGuard(ctx, s.UserID, privacy.Str(row, "rule"), privacy.Str(row, "sourceId"), num(row, "version"), s.Pseudonym)
	return privacy.RowResult{Changed: ok}, err
}

// dailyCap deletes a day's earnings counter (needed only to cap earnings the person no longer makes).
func (e erasure) dailyCap(ctx context.Context, _ privacy.ErasureSubject, row map[string]any) (privacy.RowResult, error) {
	ok, err := e.w.DropCap(ctx, store.Key{PK: privacy.Str(row, "PK"), SK: privacy.Str(row, "SK")}, num(row, "earned"))
	return privacy.RowResult{Changed: ok}, err
}

// follow deletes a follow the person made (Unfollow: the follow and the count, one transaction).
func (e erasure) follow(ctx context.Context, s privacy.ErasureSubject, row map[string]any) (privacy.RowResult, error) {
	if err := e.social.Unfollow(ctx, s.UserID, privacy.Str(row, "followedId")); err != nil {
		return privacy.RowResult{}, err
	}
	return privacy.RowResult{Changed: true}, nil
}

// followCount deletes the count of whom the person follows (zero once their follows are gone).
func (e erasure) followCount(ctx context.Context, s privacy.ErasureSubject, row map[string]any) (privacy.RowResult, error) {
	_, present := row["following"]
	ok, err := e.w.DropFollowCount(ctx, s.UserID, num(row, "following"), present)
	return privacy.RowResult{Changed: ok}, err
}

// forfeitAtRelease turns the release c of an erased account's pending earning into its
// forfeiture: the pending tokens leave (pendingDelta), nothing becomes available or counts on a
// board, with an audit record naming the pseudonym.
func forfeitAtRelease(a Account, c Change, extras []Extra) (Change, []Extra) {
	rec := audit.Entry{Actor: c.Actor, Action: "tokens.forfeit", Target: "person:" + a.ErasedAs,
		Details: map[string]string{"pending": itoa(-c.PendingDelta), "entry": itoa(a.Seq + 1)}}
	f := Change{Kind: KindForfeit, Rule: c.Rule, SourceID: c.SourceID, Actor: c.Actor, PendingDelta: c.PendingDelta,
		Reason: "pending tokens forfeited at release: account erased"}
	return f, append(extras, Extra{Write: Write{Audit: &rec}})
}

// num reads an integer attribute of a row (0 when absent).
func num(row map[string]any, name string) int64 {
	switch v := row[name].(type) {
	case json.Number:
		n, _ := strconv.ParseInt(string(v), 10, 64)
		return n
	case int64:
		return v
	case int:
		return int64(v)
	}
	return 0
}
