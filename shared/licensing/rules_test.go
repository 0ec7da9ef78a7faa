package licensing

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/auth"
	"github.com/liberation/monetization/shared/clock"
	"github.com/liberation/monetization/shared/httpapi"
	"github.com/liberation/monetization/shared/idempotency/idemtest"
	"github.com/liberation/monetization/shared/ids"
	"github.com/liberation/monetization/shared/licensing/licensekey"
	"github.com/liberation/monetization/shared/mail/mailtest"
	"github.com/liberation/monetization/shared/platform"
	"github.com/liberation/monetization/shared/store"
)

// world is licensing on the in-memory ports: handlers, rules and jobs with nothing started.
type world struct {
	t    *testing.T
	repo *memRepo
	mail *mailtest.Recorder
	clk  *clock.Fake
	d    *Deps
	pem  string
}

func newWorld(t *testing.T) *world {
	t.Helper()
	w := &world{t: t, repo: newMemRepo(), mail: &mailtest.Recorder{}, clk: clock.NewFake(t0)}
	w.d = withRepo(&Deps{Config: platform.Config{AppURL: "https://app.example", MailFrom: "licenses@platform.example"},
		Clock: w.clk, Mail: w.mail, Sent: idemtest.New(nil)}, w.repo)
	pem, err := licensekey.GenerateKeyPEM()
	if err != nil {
		t.Fatal(err)
	}
	w.useKey(pem)
	return w
}

// useKey configures the signing key parameter (a rotation when called again).
func (w *world) useKey(pem string) {
	w.pem = pem
	k := &keyring{read: func(context.Context) (string, error) { return w.pem, nil }, keys: w.repo, clock: w.clk}
	w.d.Signer, w.d.forget = k.signer, k.forget
}

var (
	platformAdmin = auth.Principal{UserID: "ops", Email: "ops@platform.example", Groups: []string{auth.GroupAdmin}}
	alice         = auth.Principal{UserID: "alice", Email: "alice@acme.example"}
	sam           = auth.Principal{UserID: "sam", Email: "sam@acme.example"}
	eve           = auth.Principal{UserID: "eve", Email: "eve@evil.example"}
)

type req struct {
	body  any
	path  map[string]string
	query map[string]string
}

func (w *world) call(h func(*Deps) httpapi.Handler, p auth.Principal, r req) (httpapi.Response, error) {
	w.t.Helper()
	body := ""
	if r.body != nil {
		b, _ := json.Marshal(r.body)
		body = string(b)
	}
	return h(w.d)(context.Background(), &httpapi.Request{Principal: p, ID: "req-" + p.UserID,
		Event: &events.APIGatewayV2HTTPRequest{Body: body, PathParameters: r.path, QueryStringParameters: r.query}})
}

func (w *world) ok(h func(*Deps) httpapi.Handler, p auth.Principal, r req) httpapi.Response {
	w.t.Helper()
	res, err := w.call(h, p, r)
	if err != nil {
		w.t.Fatalf("%s: %v", p.UserID, err)
	}
	return res
}

func wantCode(t *testing.T, err error, code apperr.Code, contains string) {
	t.Helper()
	if err == nil || apperr.CodeOf(err) != code || !strings.Contains(err.Error(), contains) {
		t.Fatalf("got %v, want %s containing %q", err, code, contains)
	}
}

// create makes a license through the admin API and returns it with its key.
func (w *world) create(seats int64, overage, expiration string, admins ...string) AdminLicenseView {
	w.t.Helper()
	res := w.ok(handleCreateLicense, platformAdmin, req{body: map[string]any{"orgName": "Acme", "seats": seats,
		"startsAt": t0.Add(-time.Hour), "expiresAt": t0.Add(30 * 24 * time.Hour), "overagePolicy": overage,
		"expirationPolicy": expiration, "adminEmails": admins, "timeZone": "Europe/Berlin"}})
	if res.Status != http.StatusCreated {
		w.t.Fatalf("create: %d", res.Status)
	}
	return res.Body.(AdminLicenseView)
}

func lic(id string) map[string]string { return map[string]string{"licenseId": id} }

// activated is a license activated by alice.
func (w *world) activated(seats int64, overage, expiration string) AdminLicenseView {
	w.t.Helper()
	v := w.create(seats, overage, expiration, "alice@acme.example")
	w.ok(handleActivate, alice, req{body: map[string]string{"key": v.Key}})
	return v
}

func (w *world) license(id string) License {
	w.t.Helper()
	l, err := w.repo.License(context.Background(), id)
	if err != nil {
		w.t.Fatal(err)
	}
	return l
}

func (w *world) invite(id string, body map[string]any) InviteView {
	w.t.Helper()
	return w.ok(handleCreateInvite, alice, req{body: body, path: lic(id)}).Body.(InviteView)
}

func (w *world) join(p auth.Principal, code string) (httpapi.Response, error) {
	return w.call(handleJoin, p, req{body: map[string]string{"code": code}})
}

func TestActivationRefusals(t *testing.T) {
	w := newWorld(t)
	v := w.create(5, OverageBlock, ExpireRestrict, "alice@acme.example", "sam@acme.example")
	key := map[string]string{"key": v.Key}
	_, err := w.call(handleActivate, auth.Principal{UserID: "alice"}, req{body: key}) // unverified: no e-mail
	wantCode(t, err, apperr.Unprocessable, "not an administrator address")
	_, err = w.call(handleActivate, eve, req{body: key})
	wantCode(t, err, apperr.Unprocessable, "not an administrator address")
	_, err = w.call(handleActivate, alice, req{body: map[string]string{"key": "not.a.key"}})
	wantCode(t, err, apperr.Unprocessable, "key refused")

	first := w.ok(handleActivate, alice, req{body: key}).Body.(LicenseView)
	if first.Status != StatusActive || first.ActivatedAt == nil {
		t.Fatalf("activated: %+v", first)
	}
	if g := w.repo.gauges; g[gaugeActive] != 1 || g[gaugeSold] != 5 {
		t.Fatalf("gauges %v", g)
	}
	again := w.ok(handleActivate, alice, req{body: key}).Body.(LicenseView) // nothing changes
	if w.license(v.ID).Version != 2 || again.Status != StatusActive {
		t.Fatal("second activation changed the license")
	}
	w.ok(handleActivate, sam, req{body: key}) // a second admin: a record, no new version
	if w.license(v.ID).Version != 2 || w.repo.gauges[gaugeActive] != 1 {
		t.Fatal("second admin's activation changed the license")
	}

	// A PATCH re-issues the key: the old one is superseded.
	w.clk.Advance(time.Minute)
	patched := w.ok(handleUpdateLicense, platformAdmin, req{body: map[string]any{"seats": 7}, path: lic(v.ID)}).Body.(AdminLicenseView)
	if patched.KeyVersion != 2 || patched.Seats != 7 || w.repo.gauges[gaugeSold] != 7 {
		t.Fatalf("patched %+v gauges %v", patched, w.repo.gauges)
	}
	_, err = w.call(handleActivate, alice, req{body: key})
	wantCode(t, err, apperr.Unprocessable, "superseded")

	w.ok(handleUpdateLicense, platformAdmin, req{body: map[string]any{"suspended": true}, path: lic(v.ID)})
	_, err = w.call(handleActivate, alice, req{body: map[string]string{"key": w.license(v.ID).Key}})
	wantCode(t, err, apperr.Unprocessable, "suspended")
	if w.repo.gauges[gaugeActive] != 0 || w.repo.gauges[gaugeSold] != 0 {
		t.Fatalf("suspended license still counted: %v", w.repo.gauges)
	}

	w.clk.Set(t0.Add(31 * 24 * time.Hour))
	w.ok(handleUpdateLicense, platformAdmin, req{body: map[string]any{"suspended": false}, path: lic(v.ID)})
	_, err = w.call(handleActivate, alice, req{body: map[string]string{"key": w.license(v.ID).Key}})
	wantCode(t, err, apperr.Unprocessable, "expired")

	_, err = w.call(handleUpdateLicense, platformAdmin, req{body: map[string]any{"seats": 3}, path: lic("lic_nope")})
	wantCode(t, err, apperr.NotFound, "license not found")
}

func TestUnknownAndRetiredKeysRefused(t *testing.T) {
	w := newWorld(t)
	v := w.create(5, OverageBlock, ExpireRestrict, "alice@acme.example")
	kid := w.license(v.ID).KeyID
	rec := w.repo.keys[kid]
	delete(w.repo.keys, kid)
	_, err := w.call(handleActivate, alice, req{body: map[string]string{"key": v.Key}})
	wantCode(t, err, apperr.Unprocessable, "unknown key")
	rec.Retired = true
	w.repo.keys[kid] = rec
	_, err = w.call(handleActivate, alice, req{body: map[string]string{"key": v.Key}})
	wantCode(t, err, apperr.Unprocessable, "retired key")
	// The public key set leaves the retired key out.
	set := w.ok(handlePublicKey, auth.Principal{}, req{}).Body.(licensekey.JWKSet)
	if len(set.Keys) != 0 {
		t.Fatalf("retired key published: %+v", set)
	}
}

// A container that cached its signer before the key was retired cannot write what it signs, and
// forgets the signer so the next request reads the parameter again.
func TestRetiredSigningKeyCondition(t *testing.T) {
	w := newWorld(t)
	v := w.create(5, OverageBlock, ExpireRestrict, "alice@acme.example")
	kid := w.license(v.ID).KeyID
	rec := w.repo.keys[kid]
	rec.Retired = true
	w.repo.keys[kid] = rec
	_, err := w.call(handleUpdateLicense, platformAdmin, req{body: map[string]any{"seats": 9}, path: lic(v.ID)})
	if err != errRetiredKey {
		t.Fatalf("update with a retired key: %v", err)
	}
	if w.license(v.ID).Seats != 5 {
		t.Fatal("the refused update landed")
	}
	// The signer was forgotten: reading the (still retired) parameter again fails before signing.
	_, err = w.call(handleCreateLicense, platformAdmin, req{body: map[string]any{"orgName": "B", "seats": 1,
		"startsAt": t0, "expiresAt": t0.Add(time.Hour), "overagePolicy": "block", "expirationPolicy": "revoke",
		"adminEmails": []string{"b@b.example"}}})
	wantCode(t, err, apperr.Unavailable, "is retired")
	// After a rotation, creation and updates work again and both keys verify.
	pem, _ := licensekey.GenerateKeyPEM()
	w.useKey(pem)
	w.ok(handleUpdateLicense, platformAdmin, req{body: map[string]any{"seats": 9}, path: lic(v.ID)})
	if l := w.license(v.ID); l.Seats != 9 || l.KeyID == kid {
		t.Fatalf("after rotation %+v", l)
	}
	// A create racing a retirement: the key passes the signer's check and is retired before the write.
	w2 := newWorld(t)
	w2.create(1, OverageBlock, ExpireRestrict, "a@a.example") // registers the key
	for id, k := range w2.repo.keys {
		k.Retired = true
		w2.repo.keys[id] = k
	}
	_, err = w2.call(handleCreateLicense, platformAdmin, req{body: map[string]any{"orgName": "B", "seats": 1,
		"startsAt": t0, "expiresAt": t0.Add(time.Hour), "overagePolicy": "block", "expirationPolicy": "revoke",
		"adminEmails": []string{"b@b.example"}}})
	if err != errRetiredKey || len(w2.repo.licenses) != 1 {
		t.Fatalf("create with a retired key: %v, %d licenses", err, len(w2.repo.licenses))
	}
}

func TestSeatsUnderBlockAndAllow(t *testing.T) {
	for _, policy := range []string{OverageBlock, OverageAllow} {
		t.Run(policy, func(t *testing.T) {
			w := newWorld(t)
			v := w.activated(2, policy, ExpireRestrict)
			inv := w.invite(v.ID, map[string]any{"maxUses": 5})
			for i := 0; i < 3; i++ {
				p := auth.Principal{UserID: fmt.Sprint("u", i), Email: fmt.Sprintf("u%d@acme.example", i)}
				res, err := w.join(p, inv.Code)
				if i < 2 || policy == OverageAllow {
					if err != nil || res.Status != http.StatusCreated {
						t.Fatalf("join %d: %v", i, err)
					}
					jv := res.Body.(JoinView)
					if jv.Seat.Overage != (i == 2) || !jv.Entitlement.Granted {
						t.Fatalf("join %d: %+v", i, jv)
					}
					continue
				}
				wantCode(t, err, apperr.Conflict, "all 2 seats")
			}
			// Joining again answers the seat held (200), whatever the count.
			res, err := w.join(auth.Principal{UserID: "u0", Email: "u0@acme.example"}, inv.Code)
			if err != nil || res.Status != http.StatusOK {
				t.Fatalf("rejoin: %v %v", res.Status, err)
			}
			want := int64(2)
			if policy == OverageAllow {
				want = 3
			}
			l := w.license(v.ID)
			u, _, _ := w.repo.Usage(context.Background(), v.ID, month(t0))
			if l.SeatsUsed != want || w.repo.gauges[gaugeUsed] != want || u.Joins != want || u.OverageJoins != want-2 ||
				u.ActiveLearners != want {
				t.Fatalf("used %d gauges %v usage %+v", l.SeatsUsed, w.repo.gauges, u)
			}
			// Freeing a seat gives it back; freeing it twice is a 404.
			w.ok(handleRemoveSeat, alice, req{path: map[string]string{"licenseId": v.ID, "userId": "u0"}})
			_, err = w.call(handleRemoveSeat, alice, req{path: map[string]string{"licenseId": v.ID, "userId": "u0"}})
			wantCode(t, err, apperr.NotFound, "no seat")
			_, err = w.call(handleRemoveSeat, alice, req{path: map[string]string{"licenseId": v.ID, "userId": "bad id!"}})
			wantCode(t, err, apperr.NotFound, "no seat")
			if w.license(v.ID).SeatsUsed != want-1 || w.repo.gauges[gaugeUsed] != want-1 {
				t.Fatal("seat not freed")
			}
			seats := w.ok(handleListSeats, alice, req{path: lic(v.ID), query: map[string]string{"limit": "1"}}).Body.(map[string]any)
			if len(seats["seats"].([]SeatView)) != 1 || seats["nextCursor"] == "" && want == 3 {
				t.Fatalf("seats %+v", seats)
			}
		})
	}
}

// A seat race lost to a concurrent join makes the loser read again and get the precise answer.
func TestSeatRaceReadsAgain(t *testing.T) {
	w := newWorld(t)
	v := w.activated(1, OverageBlock, ExpireRestrict)
	inv := w.invite(v.ID, map[string]any{"maxUses": 5})
	w.repo.beforeWrite = func() {
		l := w.repo.licenses[v.ID]
		l.SeatsUsed = 1 // another join took the last seat meanwhile
		w.repo.licenses[v.ID] = l
	}
	_, err := w.join(sam, inv.Code)
	wantCode(t, err, apperr.Conflict, "all 1 seats")
	// A user holding a seat of another organisation is refused.
	w2 := w.activated(3, OverageBlock, ExpireRestrict)
	l := w.repo.licenses[v.ID]
	l.SeatsUsed = 0
	w.repo.licenses[v.ID] = l
	w.ok(handleJoin, sam, req{body: map[string]string{"code": inv.Code}})
	inv2 := w.invite(w2.ID, map[string]any{})
	_, err = w.join(sam, inv2.Code)
	wantCode(t, err, apperr.Conflict, "another organisation")
}

func TestInvites(t *testing.T) {
	w := newWorld(t)
	v := w.activated(10, OverageBlock, ExpireRestrict)
	addressed := w.invite(v.ID, map[string]any{"email": "Sam@Acme.example"})
	if !addressed.Emailed || len(w.mail.To("sam@acme.example")) != 1 || !strings.Contains(addressed.JoinURL, "https://app.example/enterprise/join?code=") {
		t.Fatalf("addressed invite %+v", addressed)
	}
	_, err := w.join(eve, addressed.Code)
	wantCode(t, err, apperr.Unprocessable, "another e-mail address")
	_, err = w.join(auth.Principal{UserID: "sam"}, addressed.Code) // unverified address
	wantCode(t, err, apperr.Unprocessable, "another e-mail address")
	if res, err := w.join(sam, addressed.Code); err != nil || res.Status != http.StatusCreated {
		t.Fatalf("addressed join: %v", err)
	}

	once := w.invite(v.ID, map[string]any{"maxUses": 1})
	w.ok(handleJoin, eve, req{body: map[string]string{"code": once.Code}})
	_, err = w.join(auth.Principal{UserID: "zed", Email: "zed@acme.example"}, once.Code)
	wantCode(t, err, apperr.Unprocessable, "used up")

	// The last use taken between the read and the write: the invite is read again.
	race := w.invite(v.ID, map[string]any{"maxUses": 1})
	w.repo.beforeWrite = func() {
		k := store.LicenseInviteKey(inviteHash(race.Code))
		inv := w.repo.invites[k]
		inv.Uses = 1
		w.repo.invites[k] = inv
	}
	_, err = w.join(auth.Principal{UserID: "zed", Email: "zed@acme.example"}, race.Code)
	wantCode(t, err, apperr.Unprocessable, "used up")

	short := w.invite(v.ID, map[string]any{"expiresInDays": 1})
	w.clk.Advance(25 * time.Hour)
	_, err = w.join(auth.Principal{UserID: "zed", Email: "zed@acme.example"}, short.Code)
	wantCode(t, err, apperr.Unprocessable, "expired")
	_, err = w.join(sam, "LIB-AAAA-AAAA-AAAA-AAAA")
	wantCode(t, err, apperr.Unprocessable, "unknown")

	// The invite stands when its e-mail cannot be sent.
	w.mail.Fail = apperr.New(apperr.Unavailable, "smtp down")
	if v := w.invite(v.ID, map[string]any{"email": "kim@acme.example"}); v.Emailed || v.Code == "" {
		t.Fatalf("invite with mail down %+v", v)
	}
	w.mail.Fail = nil

	// Nobody but its org admins invites; an issued (not activated) license takes no invites.
	_, err = w.call(handleCreateInvite, eve, req{body: map[string]any{}, path: lic(v.ID)})
	wantCode(t, err, apperr.NotFound, "license not found")
	issued := w.create(3, OverageBlock, ExpireRestrict, "alice@acme.example")
	w.repo.admins[k2(issued.ID, "alice")] = OrgAdmin{LicenseID: issued.ID, UserID: "alice", Email: "alice@acme.example"}
	_, err = w.call(handleCreateInvite, alice, req{body: map[string]any{}, path: lic(issued.ID)})
	wantCode(t, err, apperr.Unprocessable, "not activated")
}

func TestAssignSeat(t *testing.T) {
	w := newWorld(t)
	v := w.activated(10, OverageBlock, ExpireRestrict)
	_, err := w.call(handleAssignSeat, alice, req{body: map[string]string{"email": "kim@acme.example"}, path: lic(v.ID)})
	wantCode(t, err, apperr.Unprocessable, "no user has signed in")
	if err := recordActivity(context.Background(), w.repo, "kim", "kim@acme.example", t0); err != nil {
		t.Fatal(err)
	}
	res := w.ok(handleAssignSeat, alice, req{body: map[string]string{"email": "kim@acme.example"}, path: lic(v.ID)})
	if res.Status != http.StatusCreated || len(w.mail.To("kim@acme.example")) != 1 || res.Body.(JoinView).Seat.Via != "assigned" {
		t.Fatalf("assign: %+v, %d mails", res, len(w.mail.To("kim@acme.example")))
	}
	// Assigning again answers the seat, and sends nothing more.
	if res := w.ok(handleAssignSeat, alice, req{body: map[string]string{"email": "kim@acme.example"}, path: lic(v.ID)}); res.Status != http.StatusOK || len(w.mail.To("kim@acme.example")) != 1 {
		t.Fatalf("second assign %d", res.Status)
	}
}

// Org-admin rights follow the admin list: removing an address revokes them at once.
func TestOrgAdminRightsFollowTheList(t *testing.T) {
	w := newWorld(t)
	v := w.create(5, OverageBlock, ExpireRestrict, "alice@acme.example", "sam@acme.example")
	w.ok(handleActivate, alice, req{body: map[string]string{"key": v.Key}})
	ctx := context.Background()
	if ok, _ := isOrgAdmin(ctx, w.repo, v.ID, "alice"); !ok {
		t.Fatal("alice is not an org admin")
	}
	if ok, _ := isOrgAdmin(ctx, w.repo, v.ID, "sam"); ok {
		t.Fatal("sam administers without activating")
	}
	if ok, err := isOrgAdmin(ctx, w.repo, "lic_missing", "alice"); ok || err != nil {
		t.Fatal("admin of a missing license")
	}
	w.ok(handleGetLicense, alice, req{path: lic(v.ID)})
	w.ok(handleGetLicense, platformAdmin, req{path: lic(v.ID)})
	w.ok(handleUpdateLicense, platformAdmin, req{body: map[string]any{"adminEmails": []string{"sam@acme.example"}}, path: lic(v.ID)})
	if ok, _ := isOrgAdmin(ctx, w.repo, v.ID, "alice"); ok {
		t.Fatal("alice keeps rights after leaving the list")
	}
	_, err := w.call(handleGetLicense, alice, req{path: lic(v.ID)})
	wantCode(t, err, apperr.NotFound, "license not found")
	if w.repo.audits[len(w.repo.audits)-1].Action != "license.admins_revoked" {
		t.Fatalf("no revocation audit: %+v", w.repo.audits[len(w.repo.audits)-1])
	}
	// Re-adding her address does not restore rights recorded for a removed address until she activates.
	w.ok(handleUpdateLicense, platformAdmin, req{body: map[string]any{"adminEmails": []string{"alice@acme.example"}}, path: lic(v.ID)})
	w.ok(handleActivate, alice, req{body: map[string]string{"key": w.license(v.ID).Key}})
	if ok, _ := isOrgAdmin(ctx, w.repo, v.ID, "alice"); !ok {
		t.Fatal("alice not restored by her activation")
	}
}

func TestBrandingValidationAndUse(t *testing.T) {
	w := newWorld(t)
	v := w.activated(5, OverageBlock, ExpireRestrict)
	good := map[string]any{"displayName": "Acme Academy", "logoUrl": "https://cdn.acme.example/logo.png",
		"primaryColor": "#aa0000", "accentColor": "#00aa00", "emailFromName": "Acme Learning",
		"supportEmail": "Help@Acme.example", "customDomain": "Learn.Acme.example."}
	for field, bad := range map[string]any{"logoUrl": "http://cdn.acme.example/x.png", "primaryColor": "red",
		"accentColor": "#12345", "emailFromName": "Acme <x@y>", "supportEmail": "nope", "customDomain": "10.0.0.1",
		"displayName": ""} {
		body := map[string]any{}
		for k, v := range good {
			body[k] = v
		}
		body[field] = bad
		_, err := w.call(handlePutBranding, alice, req{body: body, path: lic(v.ID)})
		wantCode(t, err, apperr.Invalid, field)
	}
	b := w.ok(handlePutBranding, alice, req{body: good, path: lic(v.ID)}).Body.(Branding)
	if b.PrimaryColor != "#AA0000" || b.SupportEmail != "help@acme.example" || b.CustomDomain != "learn.acme.example" {
		t.Fatalf("normalised %+v", b)
	}
	got := w.ok(handleGetLicense, alice, req{path: lic(v.ID)}).Body.(LicenseView)
	if got.Branding == nil || got.Branding.DisplayName != "Acme Academy" {
		t.Fatalf("view %+v", got)
	}
	// Seat holders' e-mails carry it.
	inv := w.invite(v.ID, map[string]any{"email": "sam@acme.example"})
	if m := w.mail.Sent()[len(w.mail.Sent())-1]; !strings.Contains(m.From, "Acme Learning") || !strings.Contains(m.Subject, "Acme Academy") {
		t.Fatalf("invite mail %+v", m)
	}
	w.ok(handleJoin, sam, req{body: map[string]string{"code": inv.Code}})
	if b, err := licenseBranding(context.Background(), w.repo, v.ID); err != nil || !b.Custom {
		t.Fatal(b, err)
	}
}

// Usage is counted once per user and month (activity) and per course (enrolments), and the
// e-mail directory moves an address only with an audit record.
func TestUsageCountedOnce(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	v := w.activated(5, OverageBlock, ExpireRestrict)
	inv := w.invite(v.ID, map[string]any{"maxUses": 3})
	w.ok(handleJoin, sam, req{body: map[string]string{"code": inv.Code}}) // counts sam active
	for i := 0; i < 3; i++ {
		if err := recordActivity(ctx, w.repo, "sam", "sam@acme.example", t0.Add(time.Duration(i)*time.Hour)); err != nil {
			t.Fatal(err)
		}
		if err := recordEnrolment(ctx, w.repo, "sam", "course-1", t0); err != nil {
			t.Fatal(err)
		}
	}
	_ = recordEnrolment(ctx, w.repo, "sam", "course-2", t0)
	_ = recordEnrolment(ctx, w.repo, "nobody", "course-2", t0) // no seat: nothing
	u, _, _ := w.repo.Usage(ctx, v.ID, month(t0))
	if u.ActiveLearners != 1 || u.Enrolments != 2 {
		t.Fatalf("usage %+v", u)
	}
	// Next month counts again.
	_ = recordActivity(ctx, w.repo, "sam", "", t0.Add(40*24*time.Hour))
	if u, _, _ := w.repo.Usage(ctx, v.ID, month(t0.Add(40*24*time.Hour))); u.ActiveLearners != 1 {
		t.Fatalf("next month %+v", u)
	}
	// An address verified by another user moves, with an audit record.
	n := len(w.repo.audits)
	if err := recordActivity(ctx, w.repo, "sam2", "sam@acme.example", t0); err != nil {
		t.Fatal(err)
	}
	if e := w.repo.directory["sam@acme.example"]; e.UserID != "sam2" || len(w.repo.audits) != n+1 ||
		w.repo.audits[n].Action != "user.email_moved" {
		t.Fatalf("moved %+v", e)
	}
	if item := TicketUsage(v.ID, "urgent", t0); item == nil || TicketUsage(v.ID, "bogus", t0) != nil {
		t.Fatal("ticket usage")
	}
	// The usage view: this month adds the live seat count; future months and bad months refused.
	uv := w.ok(handleUsage, alice, req{path: lic(v.ID)}).Body.(UsageView)
	if uv.SeatsAssigned != 1 || uv.PeakSeats != 1 || uv.MonthlyActiveLearners != 1 || uv.CourseEnrolments != 2 {
		t.Fatalf("usage view %+v", uv)
	}
	for _, m := range []string{"2026-13", "2099-01", "26-01"} {
		if _, err := w.call(handleUsage, alice, req{path: lic(v.ID), query: map[string]string{"month": m}}); apperr.CodeOf(err) != apperr.Invalid {
			t.Fatalf("month %s: %v", m, err)
		}
	}
}

// The public wrappers read through a Reader/Writer (another area's store): RecordActivity skips
// what a container already recorded this month.
func TestRecordActivitySeenOnce(t *testing.T) {
	r := &fakeReader{items: map[store.Key]any{}}
	w := fakeWriter{r}
	// The container's memory is process-wide: users of their own, so that -count=N runs start fresh.
	run := ids.Random(6)
	seen, fails := "seen-"+t.Name()+"-"+run, "fails-"+t.Name()+"-"+run
	if err := RecordActivity(context.Background(), w, seen, "", t0); err != nil || r.reads != 1 {
		t.Fatalf("%v after %d reads", err, r.reads)
	}
	if err := RecordActivity(context.Background(), w, seen, "", t0); err != nil || r.reads != 1 {
		t.Fatalf("second call read again: %d", r.reads)
	}
	if err := RecordEnrolment(context.Background(), w, seen, "c", t0); err != nil || r.reads != 2 {
		t.Fatalf("enrolment: %v", err)
	}
	r.fail = apperr.New(apperr.Unavailable, "down")
	if err := RecordActivity(context.Background(), w, fails, "", t0); err == nil {
		t.Fatal("failure swallowed")
	}
	r.fail = nil
	if err := RecordActivity(context.Background(), w, fails, "", t0); err != nil || r.reads != 4 {
		t.Fatalf("a failed call is not retried: %v %d", err, r.reads)
	}
}

func TestExpiryJobOnFakes(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	v := w.create(2, OverageAllow, ExpireRevoke, "alice@acme.example", "ops@acme.example")
	w.ok(handleActivate, alice, req{body: map[string]string{"key": v.Key}})
	inv := w.invite(v.ID, map[string]any{"maxUses": 5})
	for _, u := range []string{"a", "b", "c"} {
		w.ok(handleJoin, auth.Principal{UserID: u, Email: u + "@acme.example"}, req{body: map[string]string{"code": inv.Code}})
	}
	w.create(1, OverageBlock, ExpireRestrict, "x@x.example") // issued: its admin is told, nothing sampled
	// 7 days before expiry: the 7-day notice to each admin address, once; one overage seat sampled once.
	w.clk.Set(v.ExpiresAt.Add(-7 * 24 * time.Hour))
	rep, err := RunExpiry(ctx, w.d)
	if err != nil || rep != (ExpiryReport{Licenses: 2, NoticesSent: 3, Sampled: 1}) {
		t.Fatalf("first run %+v %v", rep, err)
	}
	rep, _ = RunExpiry(ctx, w.d)
	if rep != (ExpiryReport{Licenses: 2, NoticesAlreadySent: 3}) {
		t.Fatalf("second run %+v", rep)
	}
	m := month(w.clk.Now())
	if u, _, _ := w.repo.Usage(ctx, v.ID, m); u.OverageSeatDays != 1 || u.PeakSeats != 3 {
		t.Fatalf("usage %+v", u)
	}
	// Past expiry: expired once, out of the gauges; revoke ends the grant.
	w.clk.Set(v.ExpiresAt.Add(time.Hour))
	rep, err = RunExpiry(ctx, w.d)
	if err != nil || rep.Expired != 1 || w.license(v.ID).Status != StatusExpired || w.repo.gauges[gaugeActive] != 0 ||
		w.repo.gauges[gaugeUsed] != 0 {
		t.Fatalf("expiry %+v %v gauges %v", rep, err, w.repo.gauges)
	}
	if rep, _ := RunExpiry(ctx, w.d); rep.Expired != 0 {
		t.Fatal("expired twice")
	}
	if g, _, _ := entitlement(ctx, w.repo, "a", w.clk.Now()); g.Granted {
		t.Fatal("revoke policy still grants")
	}
	if s, ok, err := seatOf(ctx, w.repo, "a", w.clk.Now()); !ok || err != nil || s.TimeZone != "Europe/Berlin" {
		t.Fatalf("seatOf %+v %v %v", s, ok, err)
	}
	// A failing license fails the job (the schedule retries) without stopping the others.
	w.mail.Fail = apperr.New(apperr.Unavailable, "smtp down")
	l := activeLicense(2, 0, OverageBlock, ExpireRestrict)
	l.AdminEmails, l.ExpiresAt = []string{"z@acme.example"}, w.clk.Now().Add(12*time.Hour)
	w.repo.licenses[l.ID] = l
	if rep, err := RunExpiry(ctx, w.d); err == nil || rep.Failures != 1 {
		t.Fatalf("failure %+v %v", rep, err)
	}
}

func TestUsageReportJobOnFakes(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	w.clk.Set(time.Date(2026, 11, 2, 8, 0, 0, 0, time.UTC))
	// The second admin address is an erased admin's pseudonym (privacy_erase.go): no report goes
	// there, so one report is sent, not two.
	v := w.create(1, OverageAllow, ExpireMaintain, "alice@acme.example", "anon_01JERASED0000000000000000@erased.invalid")
	w.ok(handleActivate, alice, req{body: map[string]string{"key": v.Key}})
	inv := w.invite(v.ID, map[string]any{"maxUses": 5})
	for _, u := range []string{"a", "b", "c"} {
		w.ok(handleJoin, auth.Principal{UserID: u, Email: u + "@acme.example"}, req{body: map[string]string{"code": inv.Code}})
	}
	for d := 0; d < 2; d++ {
		if _, err := RunExpiry(ctx, w.d); err != nil {
			t.Fatal(err)
		}
		w.clk.Advance(24 * time.Hour)
	}
	w.create(1, OverageBlock, ExpireRestrict, "x@x.example") // not activated: no report
	w.clk.Set(time.Date(2026, 12, 1, 6, 0, 0, 0, time.UTC))
	first, err := RunUsageReport(ctx, w.d)
	if err != nil || first != (UsageReport{Month: "2026-11", Licenses: 1, TrueUpLines: 1, OverageSeatDays: 4, ReportsSent: 1}) {
		t.Fatalf("first %+v %v", first, err)
	}
	second, _ := RunUsageReport(ctx, w.d)
	if second != (UsageReport{Month: "2026-11", Licenses: 1, ReportsAlreadySent: 1}) {
		t.Fatalf("second %+v", second)
	}
	if mm := w.repo.months["2026-11"]; mm[store.CtrEntOverageSeatDays] != 4 || mm[store.CtrEntTrueUpLines] != 1 {
		t.Fatalf("month metrics %v", mm)
	}
	uv, err := usageOf(ctx, w.repo, w.license(v.ID), "2026-11", false)
	if err != nil || !uv.Closed || uv.TrueUp == nil || uv.TrueUp.OverageSeatDays != 4 || uv.SeatsAssigned != 3 || uv.PeakSeats != 3 {
		t.Fatalf("closed month %+v %v", uv, err)
	}
	// A run that lost the race to write the line still sends its report.
	delete(w.repo.trueUps, k2(v.ID, "2026-11"))
	u := w.repo.usage[k2(v.ID, "2026-11")]
	u.Closed = false
	w.repo.usage[k2(v.ID, "2026-11")] = u
	w.repo.trueUps[k2(v.ID, "2026-11")] = TrueUp{Month: "2026-11"}
	if rep, err := RunUsageReport(ctx, w.d); err != nil || rep.TrueUpLines != 0 {
		t.Fatalf("lost race %+v %v", rep, err)
	}
}

func TestListsAndPublicKey(t *testing.T) {
	w := newWorld(t)
	for i := 0; i < 3; i++ {
		w.create(1, OverageBlock, ExpireRestrict, "a@a.example")
		w.clk.Advance(time.Second)
	}
	p := w.ok(handleListLicenses, platformAdmin, req{query: map[string]string{"limit": "2"}}).Body.(map[string]any)
	if len(p["licenses"].([]AdminLicenseView)) != 2 || p["nextCursor"] == "" {
		t.Fatalf("page %+v", p)
	}
	if _, err := w.call(handleListLicenses, platformAdmin, req{query: map[string]string{"limit": "0"}}); apperr.CodeOf(err) != apperr.Invalid {
		t.Fatal(err)
	}
	set := w.ok(handlePublicKey, auth.Principal{}, req{}).Body.(licensekey.JWKSet)
	if len(set.Keys) != 1 {
		t.Fatalf("key set %+v", set)
	}
	_, err := w.call(handleCreateLicense, platformAdmin, req{body: map[string]any{"orgName": "B", "seats": 1,
		"startsAt": t0.Add(-48 * time.Hour), "expiresAt": t0.Add(-time.Hour), "overagePolicy": "block", "expirationPolicy": "revoke",
		"adminEmails": []string{"b@b.example"}}})
	wantCode(t, err, apperr.Unprocessable, "past")
}

// fakeWriter is a Writer over fakeReader whose writes succeed (the public wrappers' plumbing).
type fakeWriter struct{ *fakeReader }

func (fakeWriter) Put(context.Context, any, string, map[string]string, map[string]types.AttributeValue) error {
	return nil
}
func (fakeWriter) Transact(context.Context, []types.TransactWriteItem) error { return nil }

// The exported reads other areas call, over their Reader.
func TestExportedReadsOverAReader(t *testing.T) {
	ctx := context.Background()
	l := activeLicense(10, 3, OverageBlock, ExpireRestrict)
	l.AdminEmails = []string{"alice@acme.example"}
	r := seated(l, "seat-a")
	r.items[store.LicenseAdminKey(l.ID, "alice")] = OrgAdmin{LicenseID: l.ID, UserID: "alice", Email: "Alice@acme.example"}
	r.items[store.LicenseBrandingKey(l.ID)] = BrandingRecord{Branding: Branding{DisplayName: "Acme Academy"}}
	if ok, err := IsOrgAdmin(ctx, r, l.ID, "alice"); !ok || err != nil {
		t.Fatal("alice", err)
	}
	if ok, _ := IsOrgAdmin(ctx, r, l.ID, "u1"); ok {
		t.Fatal("a seat holder administers")
	}
	if m, ok, err := MembershipOf(ctx, r, "u1"); !ok || err != nil || m.SeatID != "seat-a" {
		t.Fatal(m, ok, err)
	}
	if s, ok, err := SeatOf(ctx, r, "u1", t0); !ok || err != nil || !s.Grant.Granted {
		t.Fatal(s, ok, err)
	}
	if _, ok, _ := SeatOf(ctx, r, "nobody", t0); ok {
		t.Fatal("seat of nobody")
	}
	if b, err := LicenseBranding(ctx, r, l.ID); err != nil || !b.Custom || b.LicenseID != l.ID {
		t.Fatal(b, err)
	}
	if b, err := BrandingFor(ctx, r, "u1"); err != nil || b.DisplayName != "Acme Academy" {
		t.Fatal(b, err)
	}
	delete(r.items, store.LicenseKey(l.ID))
	if _, ok, err := SeatOf(ctx, r, "u1", t0); ok || err != nil {
		t.Fatal("seat of a missing license", err)
	}
	rr := readerRepo{r}
	for _, f := range []func() error{
		func() error { _, err := rr.Seat(ctx, l.ID, "u1"); return err },
		func() error { _, err := rr.Invite(ctx, "h"); return err },
		func() error { _, err := rr.AddressEntry(ctx, "x@y.example"); return err },
		func() error { _, err := rr.SigningKey(ctx, "kid"); return err },
		func() error { _, _, err := rr.Usage(ctx, l.ID, "2026-11"); return err },
		func() error { _, _, err := rr.TrueUp(ctx, l.ID, "2026-11"); return err },
	} {
		if err := f(); err != nil && !apperr.Is(err, apperr.NotFound) {
			t.Fatal(err)
		}
	}
	// The usage signals through a Writer count a seat holder.
	w := writerRepo{rr, fakeWriter{r}}
	if err := recordActivity(ctx, w, "u1", "u1@acme.example", t0); err != nil {
		t.Fatal(err)
	}
}

// The repository's pure parts: a terms update never writes the seat count and conditions on it;
// failed conditions are named by part.
func TestRepositoryItems(t *testing.T) {
	prev := activeLicense(10, 3, OverageBlock, ExpireRestrict)
	next := prev
	next.Version, next.Seats, next.ActivatedBy = prev.Version+1, 12, ""
	it, err := termsUpdate(prev, next)
	if err != nil {
		t.Fatal(err)
	}
	u := it.Update
	if strings.Contains(*u.UpdateExpression, "seatsUsed") || *u.ConditionExpression != "#v = :prevV AND #used = :prevUsed" {
		t.Fatalf("update %s if %s", *u.UpdateExpression, *u.ConditionExpression)
	}
	for _, n := range u.ExpressionAttributeNames {
		if n == "createdAt" || n == "id" {
			t.Fatalf("writes %s", n)
		}
	}
	if p, err := putNew(prev); err != nil || *p.Put.ConditionExpression != "attribute_not_exists(PK)" {
		t.Fatal(err)
	}
	if c := signedWith("kid-1"); c.ConditionCheck == nil {
		t.Fatal("signedWith")
	}
	tx := apperr.Wrap(&store.TxError{Failed: []int{1, 3}}, apperr.Conflict, "x")
	err = txErr(tx, partLicense, partSeat, partSeat, partInvite)
	if !conflictOn(err, partSeat) || !conflictOn(err, partInvite) || conflictOn(err, partLicense) || !retryable(err) ||
		!failedAt(tx, 3) || failedAt(tx, 0) {
		t.Fatalf("%v", err)
	}
	if other := apperr.New(apperr.Unavailable, "down"); txErr(other, partLicense) != other {
		t.Fatal("other errors change")
	}
	if !strings.Contains(conflict(partSeat).Error(), "seat") {
		t.Fatal(conflict(partSeat))
	}
}
