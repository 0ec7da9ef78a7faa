package licensing

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/audit"
	"github.com/liberation/monetization/shared/httpapi"
	"github.com/liberation/monetization/shared/licensing/licensekey"
	"github.com/liberation/monetization/shared/logging"
	"github.com/liberation/monetization/shared/store"
)

// orgLicense returns the license for a caller who administers it (platform admins too when
// platform is set); anyone else gets 404, as for a license that does not exist.
func orgLicense(ctx context.Context, d *Deps, r *httpapi.Request, platform bool) (License, error) {
	l, err := getLicense(ctx, d.Licenses, r.PathParam("licenseId"))
	if err != nil {
		return l, err
	}
	if platform && r.Principal.IsAdmin() {
		return l, nil
	}
	ok, err := isOrgAdminOf(ctx, d.Licenses, l, r.Principal.UserID)
	if err != nil {
		return l, err
	}
	if !ok {
		return License{}, apperr.New(apperr.NotFound, "license not found")
	}
	return l, nil
}

// Activation refusals: well-formed requests whose key cannot activate (422, with the reason).
func refuse(format string, args ...any) error {
	return apperr.New(apperr.Unprocessable, format, args...)
}

// verifyKey checks a license key against the published key set and returns its claims.
func verifyKey(ctx context.Context, keys signingKeys, token string) (licensekey.Claims, error) {
	kid, err := licensekey.KeyIDOf(token)
	switch {
	case errors.Is(err, licensekey.ErrAlgorithm):
		return licensekey.Claims{}, refuse("key refused: it is not signed with EdDSA")
	case err != nil:
		return licensekey.Claims{}, refuse("key refused: it is not a license key (malformed or altered)")
	}
	rec, err := keys.SigningKey(ctx, kid)
	if err != nil {
		if apperr.Is(err, apperr.NotFound) {
			return licensekey.Claims{}, refuse("key refused: signed by an unknown key")
		}
		return licensekey.Claims{}, err
	}
	pub, ok := publicKey(rec)
	if !ok || rec.Retired {
		return licensekey.Claims{}, refuse("key refused: signed by a retired key; ask for a re-issued key")
	}
	c, err := licensekey.Verify(token, pub)
	switch {
	case errors.Is(err, licensekey.ErrSignature):
		return c, refuse("key refused: its signature does not verify (the key was altered)")
	case err != nil:
		return c, refuse("key refused: it is not a license key (malformed or altered)")
	}
	return c, nil
}

func wireActivateLicense(w wiring) (httpapi.Lambda, error) { return w.route(handleActivate(w.d)) }

// handleActivate serves POST /licenses/activate: a valid, current, unexpired, unsuspended key
// activates its license, by a signed-in user whose e-mail is one of its admin e-mails, who becomes
// an org admin. Activating again changes nothing.
func handleActivate(d *Deps) httpapi.Handler {
	return func(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
		var req activateRequest
		if err := r.Decode(&req); err != nil {
			return httpapi.Response{}, err
		}
		c, err := verifyKey(ctx, d.Keys, req.Key)
		if err != nil {
			return httpapi.Response{}, err
		}
		for attempt := 0; attempt < maxSeatAttempts; attempt++ {
			now := d.now()
			l, err := getLicense(ctx, d.Licenses, c.LicenseID)
			if apperr.Is(err, apperr.NotFound) {
				return httpapi.Response{}, refuse("key refused: unknown license")
			}
			if err != nil {
				return httpapi.Response{}, err
			}
			switch email, _ := Email(r.Principal.Email); {
			case c.Version != l.KeyVersion:
				return httpapi.Response{}, refuse("key refused: superseded by a re-issued key (version %d)", l.KeyVersion)
			case !now.Before(time.Unix(c.Expiry, 0)) || l.Expired(now):
				return httpapi.Response{}, refuse("key refused: the license expired on %s", day(l.ExpiresAt))
			case l.Suspended:
				return httpapi.Response{}, refuse("key refused: the license is suspended")
			case email == "" || !slices.Contains(l.AdminEmails, email):
				return httpapi.Response{}, refuse("key refused: your e-mail address is not an administrator address of this license")
			}
			isAdmin, err := isOrgAdminOf(ctx, d.Licenses, l, r.Principal.UserID)
			if err != nil {
				return httpapi.Response{}, err
			}
			if isAdmin && l.Activated() {
				return httpapi.OK(viewOf(l, now, nil)), nil // activating twice changes nothing
			}
			// Written over a record of an address that left the list: the record names the verified
			// address the rights stand on now (isOrgAdminOf).
			w := licenseWrite{At: now, Admin: &OrgAdmin{LicenseID: l.ID, UserID: r.Principal.UserID,
				Email: strings.ToLower(r.Principal.Email), Since: now},
				Audit: []audit.Entry{{Actor: r.Principal.UserID, Action: "license.activate", Target: "license:" + l.ID,
					RequestID: r.ID, Details: map[string]string{"firstActivation": boolStr(!l.Activated())}}}}
			next := l
			if !l.Activated() {
				at := now
				next.ActivatedAt, next.ActivatedBy, next.Version, next.UpdatedAt = &at, r.Principal.UserID, l.Version+1, now
				next.lifecycle(now)
				w.Prev, w.Next, w.Gauges = &l, &next, gaugeDeltas(l, next)
			}
			err = d.Licenses.WriteLicense(ctx, w)
			if err == nil {
				return httpapi.OK(viewOf(next, now, nil)), nil
			}
			if !retryable(err) {
				return httpapi.Response{}, err
			}
			if err := backoff(ctx, attempt); err != nil {
				return httpapi.Response{}, err
			}
		}
		return httpapi.Response{}, apperr.New(apperr.Conflict, "the license is changing concurrently; retry")
	}
}

func wireGetLicense(w wiring) (httpapi.Lambda, error) { return w.route(handleGetLicense(w.d)) }

// handleGetLicense serves GET /licenses/{licenseId} for its org admins and platform admins.
func handleGetLicense(d *Deps) httpapi.Handler {
	return func(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
		l, err := orgLicense(ctx, d, r, true)
		if err != nil {
			return httpapi.Response{}, err
		}
		b, err := licenseBranding(ctx, d.Brandings, l.ID)
		if err != nil {
			return httpapi.Response{}, err
		}
		var bp *Branding
		if b.Custom {
			bp = &b
		}
		return httpapi.OK(viewOf(l, d.now(), bp)), nil
	}
}

// invitable refuses invites and assignments a join could not use anyway.
func invitable(l License, now time.Time) error {
	probe := l
	probe.SeatsUsed = 0 // the seat count is checked when the seat is taken
	_, err := seatVariantAt(probe, now)
	return err
}

func wireCreateLicenseInvite(w wiring) (httpapi.Lambda, error) {
	return w.route(handleCreateInvite(w.d))
}

// handleCreateInvite serves POST /licenses/{licenseId}/invites.
func handleCreateInvite(d *Deps) httpapi.Handler {
	return func(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
		// The body is checked before the license is looked up: a malformed request is a 400
		// whatever it names (the request frame's order on every route).
		var req inviteRequest
		if err := r.Decode(&req); err != nil {
			return httpapi.Response{}, err
		}
		l, err := orgLicense(ctx, d, r, false)
		if err != nil {
			return httpapi.Response{}, err
		}
		now := d.now()
		if err := invitable(l, now); err != nil {
			return httpapi.Response{}, err
		}
		code := newInviteCode()
		until := now.Add(time.Duration(req.ExpiresInDays) * 24 * time.Hour)
		k := store.LicenseInviteKey(inviteHash(code))
		inv := Invite{PK: k.PK, SK: k.SK, Type: "license-invite", LicenseID: l.ID, Email: req.Email, MaxUses: req.MaxUses,
			ExpiresAt: until, ValidUnix: until.Unix(), CreatedAt: now, CreatedBy: r.Principal.UserID,
			TTL: until.Add(30 * 24 * time.Hour).Unix()}
		a := audit.Entry{Actor: r.Principal.UserID, Action: "license.invite.create", Target: "license:" + l.ID,
			RequestID: r.ID, Details: map[string]string{"maxUses": itoa(req.MaxUses), "addressed": boolStr(req.Email != "")}}
		if err := d.Seats.CreateInvite(ctx, inv, a, now); err != nil {
			return httpapi.Response{}, err
		}
		v := InviteView{Code: code, LicenseID: l.ID, Email: req.Email, MaxUses: req.MaxUses, ExpiresAt: until,
			JoinURL: d.appLink("/enterprise/join", url.Values{"code": {code}})}
		if req.Email != "" {
			b, err := licenseBranding(ctx, d.Brandings, l.ID)
			if err == nil {
				_, err = d.send(ctx, b, req.Email, "license-invite#"+inviteHash(code), inviteMail(l, b, code, v.JoinURL, until))
			}
			if err != nil {
				// The invite stands (its code is in this answer); the admin can pass it on themselves.
				logging.From(ctx).Error("invite e-mail not sent", "licenseId", l.ID, "err", err.Error())
			} else {
				v.Emailed = true
			}
		}
		return httpapi.JSON(http.StatusCreated, v), nil
	}
}

// joinAnswer is the answer of a seat taken (201) or already held (200), with what it grants now
// (from the license the seat was taken under: no further read).
func joinAnswer(d *Deps, res seatResult) (httpapi.Response, error) {
	status := http.StatusOK
	if res.created {
		status = http.StatusCreated
	}
	return httpapi.JSON(status, JoinView{Seat: seatViewOf(res.seat), Entitlement: grantViewOf(GrantOf(res.license, d.now()))}), nil
}

// countActive counts a new seat holder among the month's active learners (a join is a signed-in
// request); best effort, one transaction.
func countActive(ctx context.Context, d *Deps, res seatResult) {
	if !res.created {
		return
	}
	now := d.now()
	err := d.Activity.CountOnce(ctx, store.LicenseActiveKey(res.seat.LicenseID, month(now), res.seat.UserID),
		res.seat.LicenseID, now, map[string]int64{"activeLearners": 1})
	if err != nil {
		logging.From(ctx).Warn("activity not recorded", "licenseId", res.seat.LicenseID, "err", err.Error())
	}
}

func wireJoinLicense(w wiring) (httpapi.Lambda, error) { return w.route(handleJoin(w.d)) }

// handleJoin serves POST /licenses/join: a learner takes a seat with an invite code.
func handleJoin(d *Deps) httpapi.Handler {
	return func(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
		var req joinRequest
		if err := r.Decode(&req); err != nil {
			return httpapi.Response{}, err
		}
		inv, err := d.Seats.Invite(ctx, inviteHash(req.Code))
		if err != nil {
			if apperr.Is(err, apperr.NotFound) {
				return httpapi.Response{}, refuse("the invite code is unknown")
			}
			return httpapi.Response{}, err
		}
		email, _ := Email(r.Principal.Email)
		res, err := takeSeat(ctx, d, inv.LicenseID, seatClaim{userID: r.Principal.UserID, email: email, via: "invite",
			invite: &inv, inviteHash: inviteHash(req.Code), actor: r.Principal.UserID, requestID: r.ID})
		if err != nil {
			return httpapi.Response{}, err
		}
		countActive(ctx, d, res)
		return joinAnswer(d, res)
	}
}

func wireAssignLicenseSeat(w wiring) (httpapi.Lambda, error) { return w.route(handleAssignSeat(w.d)) }

// handleAssignSeat serves POST /licenses/{licenseId}/seats: an org admin gives a seat to a user who
// has signed in before (the e-mail directory knows them), and the user is told by e-mail.
func handleAssignSeat(d *Deps) httpapi.Handler {
	return func(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
		// The body is checked before the license is looked up: a malformed request is a 400
		// whatever it names (the request frame's order on every route).
		var req assignRequest
		if err := r.Decode(&req); err != nil {
			return httpapi.Response{}, err
		}
		l, err := orgLicense(ctx, d, r, false)
		if err != nil {
			return httpapi.Response{}, err
		}
		u, err := d.Seats.UserByEmail(ctx, req.Email)
		if err != nil {
			if apperr.Is(err, apperr.NotFound) {
				return httpapi.Response{}, refuse("no user has signed in with that e-mail address yet; send them an invite instead")
			}
			return httpapi.Response{}, err
		}
		res, err := takeSeat(ctx, d, l.ID, seatClaim{userID: u.UserID, email: u.Email, via: "assigned",
			actor: r.Principal.UserID, requestID: r.ID})
		if err != nil {
			return httpapi.Response{}, err
		}
		if res.created {
			b, err := licenseBranding(ctx, d.Brandings, l.ID)
			if err == nil {
				_, err = d.send(ctx, b, u.Email, "license-seat#"+res.seat.SeatID, seatMail(l, b, d.appLink("/", nil)))
			}
			if err != nil {
				logging.From(ctx).Error("seat e-mail not sent", "licenseId", l.ID, "err", err.Error())
			}
		}
		return joinAnswer(d, res)
	}
}

// validUserID accepts 1..128 of [A-Za-z0-9_.@:+-] (Cognito subjects and our test ids). A loop, not
// a regexp: a counted repetition compiles into a program of 128 copies at every cold start.
func validUserID(s string) bool {
	if len(s) < 1 || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("_.@:+-", c) >= 0) {
			return false
		}
	}
	return true
}

func wireRemoveLicenseSeat(w wiring) (httpapi.Lambda, error) { return w.route(handleRemoveSeat(w.d)) }

// handleRemoveSeat serves DELETE /licenses/{licenseId}/seats/{userId}.
func handleRemoveSeat(d *Deps) httpapi.Handler {
	return func(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
		l, err := orgLicense(ctx, d, r, false)
		if err != nil {
			return httpapi.Response{}, err
		}
		userID := r.PathParam("userId")
		if !validUserID(userID) {
			return httpapi.Response{}, apperr.New(apperr.NotFound, "no seat of this license is held by that user")
		}
		if err := removeSeat(ctx, d, l.ID, userID, r.Principal.UserID, r.ID); err != nil {
			return httpapi.Response{}, err
		}
		after, err := getLicense(ctx, d.Licenses, l.ID)
		if err != nil {
			return httpapi.Response{}, err
		}
		return httpapi.OK(map[string]any{"licenseId": l.ID, "userId": userID, "seatsUsed": after.SeatsUsed, "seatsTotal": after.Seats}), nil
	}
}

func wireListLicenseSeats(w wiring) (httpapi.Lambda, error) { return w.route(handleListSeats(w.d)) }

// handleListSeats serves GET /licenses/{licenseId}/seats.
func handleListSeats(d *Deps) httpapi.Handler {
	return func(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
		l, err := orgLicense(ctx, d, r, true)
		if err != nil {
			return httpapi.Response{}, err
		}
		res, err := httpapi.ListPage(ctx, r, "seats", listLimits,
			func(ctx context.Context, limit int32, cursor string) ([]Seat, string, error) {
				page, err := d.Seats.SeatsPage(ctx, l.ID, limit, cursor)
				return page.Items, page.NextCursor, err
			}, seatViewOf)
		return listAnswer(res, err, map[string]any{"seatsUsed": l.SeatsUsed, "seatsTotal": l.Seats})
	}
}

func wirePutLicenseBranding(w wiring) (httpapi.Lambda, error) { return w.route(handlePutBranding(w.d)) }

// handlePutBranding serves PUT /licenses/{licenseId}/branding.
func handlePutBranding(d *Deps) httpapi.Handler {
	return func(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
		// The body is checked before the license is looked up: a malformed request is a 400
		// whatever it names (the request frame's order on every route).
		var req brandingRequest
		if err := r.Decode(&req); err != nil {
			return httpapi.Response{}, err
		}
		l, err := orgLicense(ctx, d, r, false)
		if err != nil {
			return httpapi.Response{}, err
		}
		now := d.now()
		b := Branding{DisplayName: req.DisplayName, LogoURL: req.LogoURL, PrimaryColor: req.PrimaryColor, AccentColor: req.AccentColor,
			EmailFromName: req.EmailFromName, SupportEmail: req.SupportEmail, CustomDomain: req.CustomDomain}
		rec := BrandingRecord{LicenseID: l.ID, Branding: b, UpdatedAt: now, UpdatedBy: r.Principal.UserID}
		a := audit.Entry{Actor: r.Principal.UserID, Action: "license.branding.put", Target: "license:" + l.ID, RequestID: r.ID}
		if err := d.Brandings.PutBranding(ctx, rec, a, now); err != nil {
			return httpapi.Response{}, err
		}
		return httpapi.OK(b), nil
	}
}

func wireGetLicenseUsage(w wiring) (httpapi.Lambda, error) { return w.route(handleUsage(w.d)) }

// handleUsage serves GET /licenses/{licenseId}/usage?month=YYYY-MM (default: this month, UTC).
func handleUsage(d *Deps) httpapi.Handler {
	return func(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
		l, err := orgLicense(ctx, d, r, true)
		if err != nil {
			return httpapi.Response{}, err
		}
		now := d.now()
		m := r.Query("month")
		if m == "" {
			m = month(now)
		}
		if _, err := time.Parse("2006-01", m); err != nil || len(m) != 7 {
			return httpapi.Response{}, invalid("month", "must be YYYY-MM")
		}
		if m > month(now) {
			return httpapi.Response{}, invalid("month", "must not be in the future")
		}
		v, err := usageOf(ctx, d.Usage, l, m, m == month(now))
		if err != nil {
			return httpapi.Response{}, err
		}
		return httpapi.OK(v), nil
	}
}
