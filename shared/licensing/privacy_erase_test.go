package licensing

// Licensing's erasure (privacy_erase.go) on the table (in process; moto with the integration tag,
// decision 0073), the items written through the repository's own writes (license creation and
// activation, seats taken, the directory as rememberAddress keeps it).

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/liberation/monetization/shared/audit"
	"github.com/liberation/monetization/shared/clock"
	"github.com/liberation/monetization/shared/privacy"
	"github.com/liberation/monetization/shared/privacy/privacytest"
	"github.com/liberation/monetization/shared/store"
	"github.com/liberation/monetization/shared/store/storetest"
)

// The licenses (ids of the valid shape: a malformed id is never found).
const (
	lic1 = "lic_01JD0000000000000000000001"
	lic2 = "lic_01JD0000000000000000000002"
	lic3 = "lic_01JD0000000000000000000003"
)

var eraseT0 = time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)

var licSubject = privacy.ErasureSubject{UserID: "alice", Emails: []string{"Alice@Corp.example", "moved@corp.example"},
	Pseudonym: "anon_01JERASEDALICE0000000000", RequestID: "era_1"}

// Her addresses: the request's (alice@…), her seat's (alice.seat@…), her org-admin record's
// (alice.admin@…).
var herAddresses = []string{"alice@corp.example", "alice.seat@corp.example", "alice.admin@corp.example"}

// licWorld: lic_1 (she holds a seat, is an org admin under another address, and her request's
// address is an admin address), lic_2 (two other members; her seat's address is an admin address),
// lic_3 (nobody of hers). The directory maps her two addresses to her, and an address she gave
// that now names u2.
func licWorld(t *testing.T) (*store.Store, *clock.Fake) {
	t.Helper()
	ctx := context.Background()
	clk := clock.NewFake(eraseT0)
	s := newTestStore(t, clk)
	r := newDynamoRepo(s)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	at := eraseT0.Add(-time.Hour)
	mk := func(id string, seats int64, admins ...string) License {
		l := License{ID: id, OrgName: "Org " + id, Seats: seats, StartsAt: at, ExpiresAt: eraseT0.Add(365 * 24 * time.Hour),
			OveragePolicy: OverageBlock, ExpirationPolicy: ExpireRestrict, AdminEmails: admins, TimeZone: "UTC",
			ActivatedAt: &at, Status: StatusActive, Counted: true, KeyVersion: 1, Version: 1, CreatedAt: at}
		must(r.WriteLicense(ctx, licenseWrite{Create: &l, At: at, Gauges: map[string]int64{gaugeActive: 1, gaugeSold: seats},
			Audit: []audit.Entry{{Actor: "admin-1", Action: "license.create", Target: "license:" + id}}}))
		return l
	}
	l1 := mk(lic1, 5, "alice@corp.example", "alice.admin@corp.example", "boss@corp.example")
	mk(lic2, 3, "alice.seat@corp.example", "ops@corp.example")
	mk(lic3, 2, "carol@corp.example")
	// Her activation of lic_1 (the org-admin record), as activation writes it.
	next := l1
	next.Version = 2
	must(r.WriteLicense(ctx, licenseWrite{Prev: &l1, Next: &next, At: at,
		Admin: &OrgAdmin{LicenseID: lic1, UserID: "alice", Email: "alice.admin@corp.example", Since: at}}))
	// lic_2's branding names her seat's address as the organisation's support contact; lic_3's
	// another.
	must(r.PutBranding(ctx, BrandingRecord{LicenseID: lic2, Branding: Branding{DisplayName: "Org 2", SupportEmail: "alice.seat@corp.example"},
		UpdatedAt: at, UpdatedBy: "u3"}, audit.Entry{Actor: "u3", Action: "license.branding", Target: "license:" + lic2}, at))
	must(r.PutBranding(ctx, BrandingRecord{LicenseID: lic3, Branding: Branding{DisplayName: "Org 3", SupportEmail: "help@org3.example"},
		UpdatedAt: at, UpdatedBy: "u5"}, audit.Entry{Actor: "u5", Action: "license.branding", Target: "license:" + lic3}, at))
	take := func(lic, user, email string) {
		t.Helper()
		l, err := r.License(ctx, lic)
		must(err)
		must(r.TakeSeat(ctx, seatTakeOf(l, seatWithin, seatClaim{userID: user, email: email, via: "assigned", actor: "admin-1"}, eraseT0)))
	}
	take(lic1, "alice", "alice.seat@corp.example")
	take(lic1, "u2", "u2@corp.example")
	take(lic2, "u3", "u3@corp.example")
	take(lic2, "u4", "u4@corp.example")
	take(lic3, "u5", "u5@corp.example")
	for _, a := range [][2]string{{"alice", "alice@corp.example"}, {"alice", "alice.seat@corp.example"}, {"u2", "moved@corp.example"},
		{"u3", "u3@corp.example"}} {
		must(rememberAddress(ctx, r, a[0], a[1], at))
	}
	return s, clk
}

// seatCounts checks every license's seat count against its seat items and returns them.
func seatCounts(t *testing.T, s *store.Store) map[string][2]int64 {
	t.Helper()
	out := map[string][2]int64{}
	seats := map[string]int64{}
	for _, it := range privacytest.Items(t, s) {
		row := privacy.Row(it)
		switch privacy.Str(row, "type") {
		case "license":
			n, _ := row["seatsUsed"].(json.Number).Int64()
			c := out[privacy.Str(row, "id")]
			c[0] = n
			out[privacy.Str(row, "id")] = c
		case "license-seat":
			seats[privacy.Str(row, "licenseId")]++
		}
	}
	for id, c := range out {
		c[1] = seats[id]
		out[id] = c
		if c[0] != c[1] {
			t.Errorf("license %s: seatsUsed %d, %d seat items", id, c[0], c[1])
		}
	}
	return out
}

func eraseAll(t *testing.T, er privacy.Eraser, s privacy.ErasureSubject) int {
	t.Helper()
	changed, holds := privacytest.RunToEnd(t, er, s, "")
	if len(holds) > 0 {
		t.Fatalf("licensing has no holds: %+v", holds)
	}
	return changed
}

// hers is what the erasure may change: her seat and membership, her directory entries, her
// org-admin record, the licenses naming her addresses, lic_1's usage and the gauges (the seat
// freed), and the audit trail.
func hers(key string) bool {
	for _, k := range []store.Key{store.LicenseSeatKey(lic1, "alice"), store.SeatHolderKey("alice"), store.LicenseAdminKey(lic1, "alice"),
		store.LicenseKey(lic1), store.LicenseKey(lic2), store.LicenseBrandingKey(lic2), store.MetricsCurrentKey(), store.LicenseUsageKey(lic1, month(eraseT0))} {
		if key == k.PK+"|"+k.SK {
			return true
		}
	}
	for _, a := range herAddresses {
		if k := store.UserByEmailKey(a); key == k.PK+"|"+k.SK {
			return true
		}
	}
	return strings.HasPrefix(key, "AUDIT")
}

// Erasing alice frees her seat (the count follows: every license's seatsUsed = its seat items),
// deletes the directory entries of her addresses (not the one that now names u2), puts the
// pseudonym's address in place of hers on the licenses and on her org-admin record, and removes her
// address as a branding's support contact; every other
// item is byte for byte what it was, none holds one of her addresses, the audit records name the
// pseudonym, and a second run changes nothing.
func TestEraseLicensingKeepsSeatCountsAndOthers(t *testing.T) {
	s, clk := licWorld(t)
	before := privacytest.Table(t, s)
	countsBefore := seatCounts(t, s)
	if countsBefore[lic1] != [2]int64{2, 2} || len(countsBefore) != 3 {
		t.Fatalf("the world is not what the test means: %v", countsBefore)
	}
	clk.Advance(time.Hour)
	changed := eraseAll(t, PersonalDataEraser(privacy.Reader{S: s}, clk), licSubject)
	// lic_1 and lic_2 (addresses), her two directory entries, her seat.
	if changed != 5 {
		t.Errorf("changed %d records, want 5", changed)
	}
	after := privacytest.Table(t, s)
	counts := seatCounts(t, s)
	if counts[lic1] != [2]int64{1, 1} || counts[lic2] != countsBefore[lic2] || counts[lic3] != countsBefore[lic3] {
		t.Errorf("seat counts %v (before %v)", counts, countsBefore)
	}
	for k, v := range before {
		if !hers(k) && after[k] != v {
			t.Errorf("another item changed: %s\nbefore %s\nafter  %s", k, v, after[k])
		}
	}
	for k, v := range after {
		for _, a := range herAddresses {
			if strings.Contains(strings.ToLower(v), a) {
				t.Errorf("%s still holds %s: %s", k, a, v)
			}
		}
	}
	for _, k := range []store.Key{store.LicenseSeatKey(lic1, "alice"), store.SeatHolderKey("alice"),
		store.UserByEmailKey("alice@corp.example"), store.UserByEmailKey("alice.seat@corp.example")} {
		if _, ok := after[k.PK+"|"+k.SK]; ok {
			t.Errorf("%v is still there", k)
		}
	}
	if _, ok := after[store.UserByEmailKey("moved@corp.example").PK+"|USER"]; !ok {
		t.Error("the entry of an address that names another user was deleted")
	}
	l1, err := newDynamoRepo(s).License(context.Background(), lic1)
	if err != nil || !reflect.DeepEqual(l1.AdminEmails, []string{licSubject.PseudonymEmail(), "boss@corp.example"}) || l1.Version != 3 {
		t.Errorf("lic_1 after erasure: %v v%d %v", l1.AdminEmails, l1.Version, err)
	}
	if a, ok, _ := newDynamoRepo(s).OrgAdmin(context.Background(), lic1, "alice"); !ok || a.Email != licSubject.PseudonymEmail() {
		t.Errorf("org-admin record %+v", a)
	}
	if b, _, _ := newDynamoRepo(s).Branding(context.Background(), lic2); b.Branding.SupportEmail != "" || b.Branding.DisplayName != "Org 2" ||
		b.Branding.Brand().SupportEmail == "" {
		t.Errorf("lic_2's branding after erasure: %+v", b)
	}
	var actions []string
	for k, v := range after {
		if _, old := before[k]; old || !strings.HasPrefix(k, "AUDIT#") {
			continue
		}
		row := privacy.Row(nil)
		_ = json.Unmarshal([]byte(v), &row)
		actions = append(actions, privacy.Str(row, "action"))
		if strings.Contains(v, `"alice"`) || strings.Contains(v, "alice@") || privacy.Str(row, "actor") != privacy.ActorErasure ||
			privacy.Str(row, "target") != licSubject.PseudonymTarget() || privacy.Str(row, "requestId") != licSubject.RequestID {
			t.Errorf("audit record %s", v)
		}
	}
	sort.Strings(actions)
	if want := []string{ActionEraseAdmin, ActionEraseAdmin, ActionEraseBrand, ActionEraseSeat}; !reflect.DeepEqual(actions, want) {
		t.Errorf("audit actions %v, want %v", actions, want)
	}

	if again := eraseAll(t, PersonalDataEraser(privacy.Reader{S: s}, clk), licSubject); again != 0 {
		t.Fatalf("second run changed %d records", again)
	}
	if final := privacytest.Table(t, s); !reflect.DeepEqual(final, after) {
		t.Fatal("the second run changed the table")
	}
}

// An erasure that dies at each of its writes in turn, resumed from the last cursor it returned,
// ends with the table an uninterrupted erasure leaves (audit records compared by action: their ids
// are random).
func TestEraseLicensingResumesAfterAnInterruption(t *testing.T) {
	ref, clk := licWorld(t)
	snapshot := privacytest.Items(t, ref)
	clk.Advance(time.Hour)
	eraseAll(t, PersonalDataEraser(privacy.Reader{S: ref}, clk), licSubject)
	want := privacytest.Table(t, ref)
	auditActions := func(tab map[string]string) []string {
		var out []string
		for k, v := range tab {
			if strings.HasPrefix(k, "AUDIT#") && strings.Contains(v, privacy.ActorErasure) {
				row := map[string]any{}
				_ = json.Unmarshal([]byte(v), &row)
				d, _ := json.Marshal(row["details"])
				out = append(out, privacy.Str(row, "action")+string(d))
			}
		}
		sort.Strings(out)
		return out
	}
	for failAt := 1; failAt <= 6; failAt++ {
		s := newTestStore(t, clk)
		for _, it := range snapshot {
			if _, err := s.DB.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: &s.Table, Item: it}); err != nil {
				t.Fatal(err)
			}
		}
		f := &storetest.FailingWrites{DynamoAPI: s.DB, FailAt: int64(failAt)}
		fs := *s
		fs.DB = f
		er := PersonalDataEraser(privacy.Reader{S: &fs}, clk)
		cursor, failures := "", 0
		for steps := 0; ; steps++ {
			if steps > 100 {
				t.Fatal("never ends")
			}
			st, err := er(context.Background(), licSubject, cursor)
			if err != nil {
				if !errors.Is(err, storetest.ErrInjected) {
					t.Fatalf("write %d: step %d: %v", failAt, steps, err)
				}
				failures++
				continue // resumed from the last checkpoint
			}
			if st.Next == "" {
				break
			}
			cursor = st.Next
		}
		if failures != 1 || f.Failed() != 1 {
			t.Fatalf("write %d: %d failures", failAt, failures)
		}
		got := privacytest.Table(t, s)
		for k, v := range want {
			if !strings.HasPrefix(k, "AUDIT") && got[k] != v {
				t.Errorf("write %d: %s\nuninterrupted %s\ninterrupted   %s", failAt, k, v, got[k])
			}
		}
		for k := range got {
			if _, ok := want[k]; !ok && !strings.HasPrefix(k, "AUDIT") {
				t.Errorf("write %d: %s only in the interrupted run", failAt, k)
			}
		}
		if a, b := auditActions(want), auditActions(got); !reflect.DeepEqual(a, b) {
			t.Errorf("write %d: audit %v, uninterrupted %v", failAt, b, a)
		}
		seatCounts(t, s)
	}
}
