package licensing

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/audit"
	"github.com/liberation/monetization/shared/ids"
	"github.com/liberation/monetization/shared/store"
)

// ----- invite codes -----

const inviteAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ" // Crockford base32: no I, L, O, U

// newInviteCode returns "LIB-XXXX-XXXX-XXXX-XXXX": 16 Crockford characters, 80 random bits.
func newInviteCode() string {
	var b strings.Builder
	b.WriteString("LIB")
	for i := 0; i < 16; i++ {
		if i%4 == 0 {
			b.WriteByte('-')
		}
		n, _ := rand.Int(rand.Reader, big.NewInt(32))
		b.WriteByte(inviteAlphabet[n.Int64()])
	}
	return b.String()
}

func validInviteCode(c string) bool {
	if len(c) != 23 || !strings.HasPrefix(c, "LIB-") {
		return false
	}
	for i := 3; i < len(c); i++ {
		if i%5 == 3 {
			if c[i] != '-' {
				return false
			}
			continue
		}
		if strings.IndexByte(inviteAlphabet, c[i]) < 0 {
			return false
		}
	}
	return true
}

// inviteHash is the key of an invite: the table never holds a code that works.
func inviteHash(code string) string {
	sum := sha256.Sum256([]byte(code))
	return hex.EncodeToString(sum[:])
}

// inviteUsable reports why an invite cannot be used by email at now (nil if it can).
func inviteUsable(inv Invite, email string, now time.Time) error {
	switch {
	case !now.Before(inv.ExpiresAt):
		return apperr.New(apperr.Unprocessable, "the invite code expired on %s", day(inv.ExpiresAt))
	case inv.Uses >= inv.MaxUses:
		return apperr.New(apperr.Unprocessable, "the invite code has been used up")
	case inv.Email != "" && !strings.EqualFold(inv.Email, email):
		return apperr.New(apperr.Unprocessable, "the invite code is for another e-mail address")
	}
	return nil
}

// ----- taking a seat -----

// seatClaim is who takes a seat, how, and by whom.
type seatClaim struct {
	userID, email string
	via           string  // "invite" or "assigned"
	invite        *Invite // when via an invite code
	inviteHash    string
	actor         string // who acts (the joiner, or the org admin assigning)
	requestID     string
}

// seatResult is the seat, whether this call took it, and the license as read for it.
type seatResult struct {
	seat    Seat
	created bool
	license License
}

const maxSeatAttempts = 10

// takeSeat gives claim.userID a seat of licenseID, exactly under races: one transaction takes the
// seat (the seat item and the user's membership are created only if absent), counts it on the
// license under the seat-count condition (block: seatsUsed < seats; allow: a second variant beyond
// it, recorded as overage), uses the invite under its use-count condition, and adds the usage,
// gauge and audit records (seatStore.TakeSeat). A lost race reads again: the next decision says
// full (409) or retries. Taking a seat one already holds in this license answers that seat
// (idempotent). The user's membership is read only when a seat cannot be taken or the transaction
// says one exists, so a join costs four requests (decision 0051).
func takeSeat(ctx context.Context, d *Deps, licenseID string, c seatClaim) (seatResult, error) {
	seats := d.Seats
	for attempt := 0; attempt < maxSeatAttempts; attempt++ {
		now := d.now()
		l, err := getLicense(ctx, seats, licenseID)
		if err != nil {
			return seatResult{}, err
		}
		refusal := error(nil)
		if c.invite != nil {
			refusal = inviteUsable(*c.invite, c.email, now)
		}
		variant, err := seatVariantAt(l, now)
		if refusal == nil {
			refusal = err
		}
		if refusal != nil {
			if res, held, err := heldSeat(ctx, seats, l, c.userID); err != nil || held {
				return res, err
			}
			return seatResult{}, refusal
		}
		t := seatTakeOf(l, variant, c, now)
		err = seats.TakeSeat(ctx, t)
		if err == nil {
			return seatResult{seat: t.Seat, created: true, license: l}, nil
		}
		if conflictOn(err, partSeat) {
			if res, held, hErr := heldSeat(ctx, seats, l, c.userID); hErr != nil || held {
				return res, hErr
			}
		}
		if c.invite != nil && conflictOn(err, partInvite) {
			// Someone else used the last use: re-read the invite for the precise answer.
			inv, gErr := seats.Invite(ctx, c.inviteHash)
			if gErr != nil {
				return seatResult{}, gErr
			}
			c.invite = &inv
		}
		if !retryable(err) {
			return seatResult{}, err
		}
		if err := backoff(ctx, attempt); err != nil {
			return seatResult{}, err
		}
	}
	return seatResult{}, apperr.New(apperr.Conflict, "the license is changing concurrently; retry")
}

// heldSeat answers a user who already holds a seat: theirs in l (held), or 409 for a seat of
// another organisation; held is false when they hold none.
func heldSeat(ctx context.Context, seats seatStore, l License, userID string) (seatResult, bool, error) {
	m, ok, err := seats.Membership(ctx, userID)
	if err != nil || !ok {
		return seatResult{}, false, err
	}
	if m.LicenseID != l.ID {
		return seatResult{}, false, apperr.New(apperr.Conflict, "the user already holds a seat in another organisation")
	}
	s, err := seats.Seat(ctx, l.ID, userID)
	if err != nil {
		return seatResult{}, false, err
	}
	return seatResult{seat: s, license: l}, true, nil
}

// seatTakeOf is the seat change for variant under l's terms (l.Version).
func seatTakeOf(l License, variant seatVariant, c seatClaim, now time.Time) seatTake {
	seat := Seat{LicenseID: l.ID, UserID: c.userID, Email: c.email, SeatID: ids.Random(8), Via: c.via,
		Overage: variant == seatOverage, JoinedAt: now, AddedBy: c.actor}
	sk := store.LicenseSeatKey(l.ID, c.userID)
	seat.PK, seat.SK, seat.Type = sk.PK, sk.SK, "license-seat"
	mk := store.SeatHolderKey(c.userID)
	mem := Membership{PK: mk.PK, SK: mk.SK, Type: "license-membership", UserID: c.userID, LicenseID: l.ID,
		SeatID: seat.SeatID, JoinedAt: now}
	usage := map[string]int64{"joins": 1}
	if variant == seatOverage {
		usage["overageJoins"] = 1
	}
	var gauges map[string]int64
	if l.Counted {
		gauges = map[string]int64{gaugeUsed: 1}
	}
	return seatTake{License: l, Overage: variant == seatOverage, Seat: seat, Membership: mem, Invite: c.invite,
		Usage: usage, Gauges: gauges, At: now,
		Audit: audit.Entry{Actor: c.actor, Action: "license.seat.take", Target: "license:" + l.ID,
			RequestID: c.requestID, Details: map[string]string{"userId": c.userID, "via": c.via,
				"overage": strconv.FormatBool(variant == seatOverage)}}}
}

// ----- freeing a seat -----

// removeSeat frees userID's seat of l (404 if they hold none in it).
func removeSeat(ctx context.Context, d *Deps, licenseID, userID, actor, requestID string) error {
	for attempt := 0; attempt < maxSeatAttempts; attempt++ {
		now := d.now()
		l, err := getLicense(ctx, d.Seats, licenseID)
		if err != nil {
			return err
		}
		s, err := d.Seats.Seat(ctx, l.ID, userID)
		if err != nil {
			if apperr.Is(err, apperr.NotFound) {
				return apperr.New(apperr.NotFound, "no seat of this license is held by that user")
			}
			return err
		}
		f := seatFree{License: l, Seat: s, Usage: map[string]int64{"removals": 1}, At: now,
			Audit: audit.Entry{Actor: actor, Action: "license.seat.free", Target: "license:" + l.ID,
				RequestID: requestID, Details: map[string]string{"userId": userID}}}
		if l.Counted {
			f.Gauges = map[string]int64{gaugeUsed: -1}
		}
		err = d.Seats.FreeSeat(ctx, f)
		if err == nil {
			return nil
		}
		if !retryable(err) {
			return err
		}
		if err := backoff(ctx, attempt); err != nil {
			return err
		}
	}
	return apperr.New(apperr.Conflict, "the license is changing concurrently; retry")
}
