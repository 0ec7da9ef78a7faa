package licensing

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/billing/tiers"
	"github.com/liberation/monetization/shared/store"
)

// fakeReader is an in-memory Reader counting its reads.
type fakeReader struct {
	items map[store.Key]any
	reads int
	fail  error
}

func (f *fakeReader) GetConsistent(_ context.Context, k store.Key, out any) error {
	f.reads++
	if f.fail != nil {
		return f.fail
	}
	v, ok := f.items[k]
	if !ok {
		return apperr.New(apperr.NotFound, "not found")
	}
	b, _ := json.Marshal(v)
	return json.Unmarshal(b, out)
}

func seated(l License, seatID string) *fakeReader {
	return &fakeReader{items: map[store.Key]any{
		store.SeatHolderKey("u1"):        Membership{UserID: "u1", LicenseID: l.ID, SeatID: seatID},
		store.LicenseKey(l.ID):           l,
		store.LicenseSeatKey(l.ID, "u1"): Seat{UserID: "u1"},
	}}
}

func TestEntitlementWithoutSeat(t *testing.T) {
	r := &fakeReader{items: map[store.Key]any{}}
	g, stamp, err := Entitlement(context.Background(), r, "nobody", t0)
	if err != nil || g.Granted || g.Tier != "" || stamp != "none" || r.reads != 1 {
		t.Fatalf("%+v %q %v after %d reads", g, stamp, err, r.reads)
	}
}

func TestEntitlementOfASeatHolder(t *testing.T) {
	l := activeLicense(10, 3, OverageBlock, ExpireRevoke)
	r := seated(l, "seat-a")
	g, stamp, err := Entitlement(context.Background(), r, "u1", t0)
	if err != nil || r.reads != 2 {
		t.Fatalf("%v after %d reads", err, r.reads)
	}
	ent, _ := tiers.ByID(tiers.Enterprise)
	if !g.Granted || g.Tier != tiers.Enterprise || g.LicenseID != l.ID || g.OrgName != "Acme" || g.Status != StatusActive ||
		strings.Join(g.Features, ",") != strings.Join(ent.Features, ",") || g.Until == nil || !g.Until.Equal(l.ExpiresAt) {
		t.Fatalf("grant %+v", g)
	}
	if stamp != "seat-a/"+l.ID+"@3" {
		t.Fatalf("stamp %q", stamp)
	}
	// Past expiry under revoke: no grant, same stamp (time changes the answer; Entitlement
	// evaluates at now on every call, so a cache keyed on the stamp still answers right).
	g2, stamp2, _ := Entitlement(context.Background(), r, "u1", l.ExpiresAt)
	if g2.Granted || g2.Tier != "" || stamp2 != stamp || g2.Features != nil {
		t.Fatalf("after expiry %+v %q", g2, stamp2)
	}
}

// The stamp changes exactly when the seat or the license's terms change.
func TestEntitlementStampChanges(t *testing.T) {
	l := activeLicense(10, 3, OverageBlock, ExpireRestrict)
	_, base, _ := Entitlement(context.Background(), seated(l, "seat-a"), "u1", t0)
	moreSeatsTaken := l
	moreSeatsTaken.SeatsUsed = 9 // seat counts do not change the version
	_, s1, _ := Entitlement(context.Background(), seated(moreSeatsTaken, "seat-a"), "u1", t0)
	if s1 != base {
		t.Fatalf("seat count changed the stamp: %q → %q", base, s1)
	}
	suspended := l
	suspended.Suspended, suspended.Version = true, l.Version+1
	g, s2, _ := Entitlement(context.Background(), seated(suspended, "seat-a"), "u1", t0)
	if s2 == base || g.Granted || g.Status != StatusSuspended {
		t.Fatalf("suspension: %q %+v", s2, g)
	}
	_, s3, _ := Entitlement(context.Background(), seated(l, "seat-b"), "u1", t0) // freed and taken again
	if s3 == base {
		t.Fatal("a new seat kept the stamp")
	}
}

func TestEntitlementErrors(t *testing.T) {
	boom := apperr.New(apperr.Unavailable, "dynamodb down")
	if _, _, err := Entitlement(context.Background(), &fakeReader{fail: boom}, "u1", t0); !errors.Is(err, boom) {
		t.Fatalf("err %v", err)
	}
	// A membership whose license is gone (not reachable through our writes) grants nothing.
	r := &fakeReader{items: map[store.Key]any{store.SeatHolderKey("u1"): Membership{LicenseID: "lic_gone", SeatID: "s"}}}
	g, stamp, err := Entitlement(context.Background(), r, "u1", t0)
	if err != nil || g.Granted || stamp != "orphan:s" {
		t.Fatalf("%+v %q %v", g, stamp, err)
	}
}

func TestBrandingFor(t *testing.T) {
	l := activeLicense(10, 3, OverageBlock, ExpireRestrict)
	r := seated(l, "seat-a")
	b, err := BrandingFor(context.Background(), r, "u1")
	if err != nil || b.Custom || b.DisplayName != "Liberation" {
		t.Fatalf("unbranded license: %+v %v", b, err)
	}
	r.items[store.LicenseBrandingKey(l.ID)] = BrandingRecord{Branding: Branding{DisplayName: "Acme Academy", PrimaryColor: "#0B3D91",
		AccentColor: "#FC3D21", LogoURL: "https://cdn.acme.example/logo.png", EmailFromName: "Acme Academy", SupportEmail: "help@acme.example"}}
	r.reads = 0
	b, err = BrandingFor(context.Background(), r, "u1")
	if err != nil || !b.Custom || b.DisplayName != "Acme Academy" || b.LicenseID != l.ID || r.reads != 2 {
		t.Fatalf("branded: %+v %v (%d reads)", b, err, r.reads)
	}
	if from := b.From("Liberation <receipts@liberation.example>"); from != `"Acme Academy" <receipts@liberation.example>` {
		t.Fatalf("from %s", from)
	}
	nb := b.Brand()
	if nb.PrimaryColor != "#0B3D91" || nb.LogoURL != "https://cdn.acme.example/logo.png" || nb.SupportEmail != "help@acme.example" {
		t.Fatalf("brand %+v", nb)
	}
	// Someone without a seat: the platform's, one read.
	r.reads = 0
	if b, err := BrandingFor(context.Background(), r, "u2"); err != nil || b.Custom || r.reads != 1 {
		t.Fatalf("no seat: %+v %v", b, err)
	}
	_ = time.Second
}
