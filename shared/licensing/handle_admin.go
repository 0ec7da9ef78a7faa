package licensing

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"time"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/audit"
	"github.com/liberation/monetization/shared/httpapi"
	"github.com/liberation/monetization/shared/ids"
	"github.com/liberation/monetization/shared/licensing/licensekey"
)

// sign (re-)issues l's key with the configured signing key.
func (d *Deps) sign(ctx context.Context, l *License) error {
	s, err := d.Signer(ctx)
	if err != nil {
		return err
	}
	tok, err := s.Sign(licensekey.Claims{LicenseID: l.ID, OrgID: l.OrgID, OrgName: l.OrgName, Seats: l.Seats,
		Features: l.Features, OveragePolicy: l.OveragePolicy, ExpirationPolicy: l.ExpirationPolicy,
		NotBefore: l.StartsAt.Unix(), IssuedAt: d.now().Unix(), Expiry: l.ExpiresAt.Unix(), Version: l.KeyVersion,
		Suspended: l.Suspended})
	if err != nil {
		return apperr.Wrap(err, apperr.Internal, "sign license key")
	}
	l.Key, l.KeyID = tok, s.KeyID()
	return nil
}

func wireCreateLicense(w wiring) (httpapi.Lambda, error) {
	d, err := w.signing()
	if err != nil {
		return nil, err
	}
	return w.route(httpapi.Idempotent(d.Store, w.rt.Fn.Name, handleCreateLicense(d)))
}

// handleCreateLicense serves POST /admin/licenses (Idempotency-Key honoured: a retried create makes
// one license).
func handleCreateLicense(d *Deps) httpapi.Handler {
	return func(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
		var req createRequest
		if err := r.Decode(&req); err != nil {
			return httpapi.Response{}, err
		}
		now := d.now()
		if !req.ExpiresAt.After(now) {
			return httpapi.Response{}, apperr.New(apperr.Unprocessable, "expiresAt is in the past")
		}
		l := License{ID: ids.New("lic", now), OrgID: ids.New("org", now), OrgName: req.OrgName, Seats: req.Seats,
			StartsAt: req.StartsAt.UTC(), ExpiresAt: req.ExpiresAt.UTC(), OveragePolicy: req.OveragePolicy,
			ExpirationPolicy: req.ExpirationPolicy, AdminEmails: req.AdminEmails, TimeZone: req.TimeZone,
			Features: EnterpriseFeatures(), Status: StatusIssued, KeyVersion: 1, Version: 1,
			CreatedAt: now, CreatedBy: r.Principal.UserID, UpdatedAt: now}
		l.setKeys()
		if err := d.sign(ctx, &l); err != nil {
			return httpapi.Response{}, err
		}
		err := d.Licenses.WriteLicense(ctx, licenseWrite{Create: &l, SignedWith: l.KeyID, At: now,
			Audit: []audit.Entry{{Actor: r.Principal.UserID, Action: "license.create", Target: "license:" + l.ID,
				RequestID: r.ID, Details: map[string]string{"seats": itoa(l.Seats), "keyVersion": "1", "kid": l.KeyID}}}})
		if err != nil {
			if errors.Is(err, errRetiredKey) {
				d.forgetSigner()
			}
			return httpapi.Response{}, err
		}
		return httpapi.JSON(http.StatusCreated, adminViewOf(l, now)), nil
	}
}

func wireListLicenses(w wiring) (httpapi.Lambda, error) { return w.route(handleListLicenses(w.d)) }

// handleListLicenses serves GET /admin/licenses.
func handleListLicenses(d *Deps) httpapi.Handler {
	return func(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
		now := d.now()
		res, err := httpapi.ListPage(ctx, r, "licenses", listLimits,
			func(ctx context.Context, limit int32, cursor string) ([]License, string, error) {
				page, err := d.Licenses.LicensesPage(ctx, limit, cursor)
				return page.Items, page.NextCursor, err
			}, func(l License) AdminLicenseView { return adminViewOf(l, now) })
		return listAnswer(res, err, nil)
	}
}

func wireUpdateLicense(w wiring) (httpapi.Lambda, error) {
	d, err := w.signing()
	if err != nil {
		return nil, err
	}
	return w.route(handleUpdateLicense(d))
}

// handleUpdateLicense serves PATCH /admin/licenses/{licenseId}: new terms, a re-issued key (the
// previous one is superseded), the lifecycle and gauges recomputed, in one transaction conditioned
// on the license as read (a concurrent seat change makes it read again).
func handleUpdateLicense(d *Deps) httpapi.Handler {
	return func(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
		var req patchRequest
		if err := r.Decode(&req); err != nil {
			return httpapi.Response{}, err
		}
		for attempt := 0; attempt < maxSeatAttempts; attempt++ {
			prev, err := getLicense(ctx, d.Licenses, r.PathParam("licenseId"))
			if err != nil {
				return httpapi.Response{}, err
			}
			now := d.now()
			next, err := req.apply(prev)
			if err != nil {
				return httpapi.Response{}, err
			}
			next.KeyVersion, next.Version, next.UpdatedAt = prev.KeyVersion+1, prev.Version+1, now
			next.lifecycle(now)
			if err := d.sign(ctx, &next); err != nil {
				return httpapi.Response{}, err
			}
			w := licenseWrite{Prev: &prev, Next: &next, SignedWith: next.KeyID, Gauges: gaugeDeltas(prev, next), At: now,
				Audit: []audit.Entry{{Actor: r.Principal.UserID, Action: "license.update", Target: "license:" + prev.ID,
					RequestID: r.ID, Details: map[string]string{"seats": itoa(next.Seats), "expiresAt": next.ExpiresAt.Format(time.RFC3339),
						"suspended": boolStr(next.Suspended), "keyVersion": itoa(next.KeyVersion), "kid": next.KeyID}}}}
			if revoked := removed(prev.AdminEmails, next.AdminEmails); len(revoked) > 0 {
				// Their org-admin rights end with this write (isOrgAdminOf reads the list).
				w.Audit = append(w.Audit, audit.Entry{Actor: r.Principal.UserID, Action: "license.admins_revoked",
					Target: "license:" + prev.ID, RequestID: r.ID, Details: map[string]string{"removedAddresses": itoa(int64(len(revoked)))}})
			}
			err = d.Licenses.WriteLicense(ctx, w)
			if err == nil {
				return httpapi.OK(adminViewOf(next, now)), nil
			}
			if errors.Is(err, errRetiredKey) {
				d.forgetSigner()
				return httpapi.Response{}, err
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

func wireGetLicensePublicKey(w wiring) (httpapi.Lambda, error) { return w.route(handlePublicKey(w.d)) }

// handlePublicKey serves GET /licenses/public-key (public): every signing key not retired, as a JWK
// set. Keys that signed license keys in the past stay in it, so a rotation never breaks offline
// verification of keys already handed out.
func handlePublicKey(d *Deps) httpapi.Handler {
	return func(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
		recs, err := d.Keys.SigningKeys(ctx)
		if err != nil {
			return httpapi.Response{}, err
		}
		var keys []licensekey.PublicKey
		for _, rec := range recs {
			if pub, ok := publicKey(rec); ok && !rec.Retired {
				keys = append(keys, licensekey.PublicKey{KeyID: rec.KeyID, Key: pub})
			}
		}
		set, err := licensekey.Set(keys)
		if err != nil {
			return httpapi.Response{}, apperr.Wrap(err, apperr.Internal, "render JWK set")
		}
		resp := httpapi.OK(set)
		resp.Headers = map[string]string{"cache-control": "public, max-age=300"}
		return resp, nil
	}
}

// removed lists the addresses of prev that next no longer has.
func removed(prev, next []string) []string {
	var out []string
	for _, e := range prev {
		if !slices.Contains(next, e) {
			out = append(out, e)
		}
	}
	return out
}
