package licensing

import (
	"context"
	"testing"
	"time"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/audit"
	"github.com/liberation/monetization/shared/ids"
	"github.com/liberation/monetization/shared/store"
)

// contractHarness is a repository and how to retire a signing key (an operator's write).
type contractHarness struct {
	repo   repository
	retire func(kid string)
}

// testRepoContract checks the semantics licensing's rules rely on. It runs on memRepo and on
// dynamoRepo (over minidyn in process, over moto with the integration tag: newTestStore), so the
// fake cannot drift from DynamoDB.
func testRepoContract(t *testing.T, h contractHarness) {
	ctx := context.Background()
	r := h.repo
	now := time.Now().UTC().Truncate(time.Second)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(r.RegisterSigningKey(ctx, SigningKeyRecord{KeyID: "kid-live", X: "x", CreatedAt: now}))
	must(r.RegisterSigningKey(ctx, SigningKeyRecord{KeyID: "kid-old", X: "x", CreatedAt: now}))
	h.retire("kid-old")
	must(r.RegisterSigningKey(ctx, SigningKeyRecord{KeyID: "kid-old", X: "x", CreatedAt: now})) // stays retired
	if k, err := r.SigningKey(ctx, "kid-old"); err != nil || !k.Retired {
		t.Fatalf("re-registering un-retired a key: %+v %v", k, err)
	}

	at := now.Add(-time.Hour)
	l := License{ID: ids.New("lic", now), OrgName: "Acme", Seats: 1, StartsAt: at, ExpiresAt: now.Add(24 * time.Hour),
		OveragePolicy: OverageBlock, ExpirationPolicy: ExpireRestrict, AdminEmails: []string{"alice@acme.example"},
		ActivatedAt: &at, Status: StatusActive, Counted: true, KeyVersion: 1, Version: 1, CreatedAt: now}
	au := []audit.Entry{{Actor: "test", Action: "license.create", Target: "license:" + l.ID}}
	if err := r.WriteLicense(ctx, licenseWrite{Create: &l, SignedWith: "kid-old", Audit: au, At: now}); err != errRetiredKey {
		t.Fatalf("create signed with a retired key: %v", err)
	}
	if _, err := r.License(ctx, l.ID); !apperr.Is(err, apperr.NotFound) {
		t.Fatal("a refused create landed", err)
	}
	must(r.WriteLicense(ctx, licenseWrite{Create: &l, SignedWith: "kid-live", Audit: au, At: now}))
	if err := r.WriteLicense(ctx, licenseWrite{Create: &l, At: now}); !conflictOn(err, partLicense) {
		t.Fatalf("second create: %v", err)
	}

	// Terms over the version read win once; the seat count is never written by them.
	next := l
	next.Version, next.OrgName = 2, "Acme Corp"
	admin := OrgAdmin{LicenseID: l.ID, UserID: "alice", Email: "alice@acme.example", Since: now}
	must(r.WriteLicense(ctx, licenseWrite{Prev: &l, Next: &next, Admin: &admin, SignedWith: "kid-live", At: now}))
	if err := r.WriteLicense(ctx, licenseWrite{Prev: &l, Next: &next, At: now}); !conflictOn(err, partLicense) || !retryable(err) {
		t.Fatalf("stale terms: %v", err)
	}
	if a, ok, err := r.OrgAdmin(ctx, l.ID, "alice"); !ok || err != nil || a.Email != admin.Email {
		t.Fatalf("admin %+v %v %v", a, ok, err)
	}

	// Seats: within the count once; the count and the holder are conditions.
	take := func(lic License, user string, overage bool, inv *Invite) error {
		c := seatClaim{userID: user, email: user + "@acme.example", via: "assigned", invite: inv, actor: "test"}
		v := seatWithin
		if overage {
			v = seatOverage
		}
		return r.TakeSeat(ctx, seatTakeOf(lic, v, c, now))
	}
	cur, _ := r.License(ctx, l.ID)
	if cur.OrgName != "Acme Corp" || cur.Version != 2 || cur.SeatsUsed != 0 {
		t.Fatalf("license %+v", cur)
	}
	must(take(cur, "u1", false, nil))
	if err := take(cur, "u2", false, nil); !conflictOn(err, partLicense) {
		t.Fatalf("beyond the count: %v", err)
	}
	if err := take(cur, "u2", true, nil); !conflictOn(err, partLicense) {
		t.Fatalf("overage under block: %v", err)
	}
	cur, _ = r.License(ctx, l.ID)
	if err := take(cur, "u1", true, nil); !conflictOn(err, partSeat) {
		t.Fatalf("a second seat for a holder: %v", err)
	}
	if m, ok, _ := r.Membership(ctx, "u1"); !ok || m.LicenseID != l.ID {
		t.Fatal("no membership")
	}
	s, err := r.Seat(ctx, l.ID, "u1")
	must(err)

	// Invites: uses are a condition.
	hash := inviteHash(newInviteCode())
	ik := store.LicenseInviteKey(hash)
	inv := Invite{PK: ik.PK, SK: ik.SK, Type: "license-invite", LicenseID: l.ID, MaxUses: 1, ExpiresAt: now.Add(time.Hour),
		ValidUnix: now.Add(time.Hour).Unix(), CreatedAt: now}
	must(r.CreateInvite(ctx, inv, audit.Entry{Actor: "test", Action: "license.invite.create"}, now))
	got, err := r.Invite(ctx, hash)
	must(err)
	// Allow overage so only the invite decides.
	allow := cur
	allow.Version, allow.OveragePolicy = 3, OverageAllow
	must(r.WriteLicense(ctx, licenseWrite{Prev: &cur, Next: &allow, At: now}))
	cur, _ = r.License(ctx, l.ID)
	must(take(cur, "u2", true, &got))
	cur, _ = r.License(ctx, l.ID)
	if err := take(cur, "u3", true, &got); !conflictOn(err, partInvite) || conflictOn(err, partLicense) {
		t.Fatalf("used-up invite: %v", err)
	}
	if cur.SeatsUsed != 2 {
		t.Fatalf("seats used %d", cur.SeatsUsed)
	}

	// Freeing: over the version read, only that seat.
	free := func(lic License, s Seat) error {
		return r.FreeSeat(ctx, seatFree{License: lic, Seat: s, Usage: map[string]int64{"removals": 1}, At: now,
			Audit: audit.Entry{Actor: "test", Action: "license.seat.free"}})
	}
	stale := s
	stale.SeatID = "other"
	if err := free(cur, stale); !conflictOn(err, partSeat) {
		t.Fatalf("freeing another seat: %v", err)
	}
	must(free(cur, s))
	if err := free(cur, s); err == nil {
		t.Fatal("freed twice")
	}
	if _, ok, _ := r.Membership(ctx, "u1"); ok {
		t.Fatal("membership kept")
	}
	page, err := r.SeatsPage(ctx, l.ID, 10, "")
	if err != nil || len(page.Items) != 1 || page.Items[0].UserID != "u2" {
		t.Fatalf("seats %+v %v", page, err)
	}

	// Usage: markers count once, samples once a day, the peak only rises, a month closes once.
	m := month(now)
	for i := 0; i < 2; i++ {
		must(r.CountOnce(ctx, store.LicenseActiveKey(l.ID, m, "u2"), l.ID, now, map[string]int64{"activeLearners": 1}))
	}
	for i, want := range []bool{true, false} {
		ok, err := r.SampleDay(ctx, l.ID, now, 2)
		if err != nil || ok != want {
			t.Fatalf("sample %d: %v %v", i, ok, err)
		}
	}
	must(r.RaisePeak(ctx, l.ID, 3, now))
	must(r.RaisePeak(ctx, l.ID, 2, now))
	u, ok, err := r.Usage(ctx, l.ID, m)
	if !ok || err != nil || u.ActiveLearners != 1 || u.OverageSeatDays != 2 || u.PeakSeats != 3 || u.Joins != 2 ||
		u.OverageJoins != 1 || u.Removals != 1 {
		t.Fatalf("usage %+v %v %v", u, ok, err)
	}
	line := TrueUp{LicenseID: l.ID, Month: m, Seats: 1, PeakSeats: 3, OverageSeatDays: 2, CreatedAt: now}
	c := monthClose{License: cur, Line: line, Metrics: map[string]int64{store.CtrEntTrueUpLines: 1}}
	must(r.CloseMonth(ctx, c))
	if err := r.CloseMonth(ctx, c); !conflictOn(err, partTrueUp) {
		t.Fatalf("second close: %v", err)
	}
	if tu, ok, err := r.TrueUp(ctx, l.ID, m); !ok || err != nil || tu.OverageSeatDays != 2 {
		t.Fatalf("true-up %+v", tu)
	}
	if u, _, _ := r.Usage(ctx, l.ID, m); !u.Closed || u.SeatsAtClose != 1 || u.UsedAtClose != 2 {
		t.Fatalf("closed %+v", u)
	}

	// The directory: an address moves only over the user it had.
	e := UserByEmail{UserID: "u1", Email: "a@acme.example", UpdatedAt: now}
	k := store.UserByEmailKey(e.Email)
	e.PK, e.SK, e.Type = k.PK, k.SK, "user-by-email"
	must(r.SaveAddress(ctx, e))
	must(r.SaveAddress(ctx, e))
	e2 := e
	e2.UserID = "u2"
	if err := r.SaveAddress(ctx, e2); !store.IsConditionFailed(err) {
		t.Fatalf("taking another's address: %v", err)
	}
	if err := r.MoveAddress(ctx, e2, "u9", audit.Entry{Actor: "u2", Action: "user.email_moved"}); !store.IsConditionFailed(err) {
		t.Fatalf("move from the wrong user: %v", err)
	}
	must(r.MoveAddress(ctx, e2, "u1", audit.Entry{Actor: "u2", Action: "user.email_moved"}))
	if got, err := r.UserByEmail(ctx, e.Email); err != nil || got.UserID != "u2" {
		t.Fatalf("directory %+v %v", got, err)
	}

	// Branding and the license lists.
	must(r.PutBranding(ctx, BrandingRecord{LicenseID: l.ID, Branding: Branding{DisplayName: "Acme"}, UpdatedAt: now},
		audit.Entry{Actor: "alice", Action: "license.branding.put"}, now))
	if b, ok, err := r.Branding(ctx, l.ID); !ok || err != nil || b.Branding.DisplayName != "Acme" {
		t.Fatalf("branding %+v", b)
	}
	n := 0
	must(r.EachLicense(ctx, func(License) error { n++; return nil }))
	if keys, err := r.SigningKeys(ctx); n != 1 || err != nil || len(keys) != 2 {
		t.Fatalf("%d licenses, keys %v %v", n, keys, err)
	}

	// The paged lists: licenses newest first, a license's seats by user, pages within the limit,
	// a cursor good only for the list it came from.
	later := now.Add(time.Second)
	l2 := License{ID: ids.New("lic", later), OrgName: "Beta", Seats: 1, StartsAt: at, ExpiresAt: later.Add(24 * time.Hour),
		OveragePolicy: OverageBlock, ExpirationPolicy: ExpireRestrict, AdminEmails: []string{"bob@beta.example"},
		Status: StatusIssued, KeyVersion: 1, Version: 1, CreatedAt: later}
	must(r.WriteLicense(ctx, licenseWrite{Create: &l2, At: later}))
	cur, _ = r.License(ctx, l.ID)
	must(take(cur, "u3", true, nil))
	licenses := walk(t, func(c string) (store.Page[License], error) { return r.LicensesPage(ctx, 1, c) })
	if len(licenses) != 2 || licenses[0].ID != l2.ID || licenses[1].ID != l.ID || licenses[1].OrgName != "Acme Corp" {
		t.Fatalf("licenses %+v", licenses)
	}
	seats := walk(t, func(c string) (store.Page[Seat], error) { return r.SeatsPage(ctx, l.ID, 1, c) })
	if len(seats) != 2 || seats[0].UserID != "u2" || seats[1].UserID != "u3" || seats[1].LicenseID != l.ID {
		t.Fatalf("seats %+v", seats)
	}
	if p, err := r.SeatsPage(ctx, l2.ID, 10, ""); err != nil || len(p.Items) != 0 || p.NextCursor != "" {
		t.Fatalf("seats of a license without any: %+v %v", p, err)
	}
	first, err := r.SeatsPage(ctx, l.ID, 1, "")
	must(err)
	if _, err := r.SeatsPage(ctx, l2.ID, 1, first.NextCursor); first.NextCursor == "" || !apperr.Is(err, apperr.Invalid) {
		t.Fatalf("a cursor of another license's seats: %q %v", first.NextCursor, err)
	}
	if _, err := r.LicensesPage(ctx, 1, first.NextCursor); !apperr.Is(err, apperr.Invalid) {
		t.Fatalf("a seats cursor on the license list: %v", err)
	}
}

// walk reads a list to its end, one page per call (each page within the limit of 1), and returns
// its items in order.
func walk[T any](t *testing.T, read func(cursor string) (store.Page[T], error)) []T {
	t.Helper()
	var all []T
	cursor := ""
	for pages := 0; pages < 10; pages++ {
		p, err := read(cursor)
		if err != nil || len(p.Items) > 1 {
			t.Fatalf("page %d: %+v %v", pages, p, err)
		}
		all = append(all, p.Items...)
		if cursor = p.NextCursor; cursor == "" {
			return all
		}
	}
	t.Fatal("the list never ends")
	return nil
}

func TestMemRepoLicenseContract(t *testing.T) {
	r := newMemRepo()
	testRepoContract(t, contractHarness{repo: r, retire: func(kid string) {
		k := r.keys[kid]
		k.Retired = true
		r.keys[kid] = k
	}})
}

// The DynamoDB repository keeps the contract the in-memory one keeps: on minidyn in process, on moto
// with the integration tag (newTestStore).
func TestDynamoRepoLicenseContract(t *testing.T) {
	r := newDynamoRepo(newTestStore(t, nil))
	testRepoContract(t, contractHarness{repo: r, retire: func(kid string) {
		rec, err := r.SigningKey(context.Background(), kid)
		if err != nil {
			t.Fatal(err)
		}
		rec.Retired = true
		if err := r.s.Put(context.Background(), rec, "", nil, nil); err != nil {
			t.Fatal(err)
		}
	}})
}
