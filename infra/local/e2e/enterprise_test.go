//go:build integration

package e2e

// Issue 8's licensing proof through the local gateway: create → activate → invite → join → the
// seat holder's Enterprise entitlement; keys verified offline and refused when tampered; branded
// e-mails read back from mailpit; seats exact under a 100-way race; org isolation.

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/liberation/monetization/shared/licensing"
	"github.com/liberation/monetization/shared/manifest"
	"github.com/liberation/monetization/shared/store"
)

type gauges struct {
	Active int64 `dynamodbav:"entLicensesActive"`
	Sold   int64 `dynamodbav:"entSeatsSold"`
	Used   int64 `dynamodbav:"entSeatsUsed"`
}

func readGauges(t *testing.T, h *Harness) gauges {
	t.Helper()
	var g gauges
	if err := h.Env.Store().GetConsistent(context.Background(), store.MetricsCurrentKey(), &g); err != nil {
		t.Fatalf("metrics item: %v", err)
	}
	return g
}

func TestEnterpriseLicenseFlow(t *testing.T) {
	h := Start(t)
	ctx := context.Background()
	now := time.Now().UTC()
	platform := h.Token(t, "ops-"+suffix(), "ops@liberation.example", "admin")
	adminEmail := "it-" + suffix() + "@acme.example"
	alice := h.Token(t, "alice-"+suffix(), adminEmail) // the organisation's admin
	bobID := "bob-" + suffix()
	bobEmail := bobID + "@acme.example"
	bob := h.Token(t, bobID, bobEmail) // a learner

	create := map[string]any{"orgName": "Acme Corp", "seats": 5, "startsAt": now.Add(-time.Hour),
		"expiresAt": now.Add(365 * 24 * time.Hour), "overagePolicy": "block", "expirationPolicy": "restrict",
		"adminEmails": []string{adminEmail}}
	refused(t, h, http.MethodPost, "/admin/licenses", bob, create, http.StatusForbidden, "administrators")
	bad := map[string]any{}
	for k, v := range create {
		bad[k] = v
	}
	bad["seats"] = 0
	refused(t, h, http.MethodPost, "/admin/licenses", platform, bad, http.StatusBadRequest, "seats")
	var lic license
	h.Call(t, http.MethodPost, "/admin/licenses", platform, create, http.StatusCreated, &lic)
	if lic.Status != "issued" || lic.KeyVersion != 1 || !strings.HasPrefix(lic.Key, "ey") || lic.ActivatedAt != nil {
		t.Fatalf("created %+v", lic)
	}

	// The key verifies offline with the published JWK set alone; one character changed does not.
	status, jwks, hdr := h.Do(t, http.MethodGet, "/licenses/public-key", "", nil)
	if status != http.StatusOK || hdr.Get("cache-control") != "public, max-age=300" {
		t.Fatalf("public key: %d %s", status, jwks)
	}
	claims, err := verifyOffline(lic.Key, jwks)
	if err != nil {
		t.Fatalf("offline verification: %v", err)
	}
	if claims["lid"] != lic.ID || claims["seats"].(json.Number).String() != "5" || claims["orgName"] != "Acme Corp" ||
		claims["exp"].(json.Number).String() != fmt.Sprint(lic.ExpiresAt.Unix()) {
		t.Fatalf("claims %v", claims)
	}
	if _, err := verifyOffline(tamper(lic.Key), jwks); err == nil {
		t.Fatal("a tampered key verifies offline")
	}
	refused(t, h, http.MethodPost, "/licenses/activate", alice, map[string]string{"key": tamper(lic.Key)}, http.StatusUnprocessableEntity, "altered")
	refused(t, h, http.MethodPost, "/licenses/activate", alice, map[string]string{"key": "not.a.key"}, http.StatusUnprocessableEntity, "not a license key")
	// A valid key, but bob's address is not one of the license's admin addresses.
	refused(t, h, http.MethodPost, "/licenses/activate", bob, map[string]string{"key": lic.Key}, http.StatusUnprocessableEntity, "administrator address")

	// Alice activates; activating again changes nothing.
	var active license
	h.Call(t, http.MethodPost, "/licenses/activate", alice, map[string]string{"key": lic.Key}, http.StatusOK, &active)
	var again license
	h.Call(t, http.MethodPost, "/licenses/activate", alice, map[string]string{"key": lic.Key}, http.StatusOK, &again)
	if active.Status != "active" || active.ActivatedAt == nil || !again.ActivatedAt.Equal(*active.ActivatedAt) {
		t.Fatalf("activation %+v then %+v", active, again)
	}
	if g := readGauges(t, h); g != (gauges{Active: 1, Sold: 5, Used: 0}) {
		t.Fatalf("gauges after activation %+v", g)
	}
	h.Call(t, http.MethodGet, "/licenses/"+lic.ID, alice, nil, http.StatusOK, nil)
	h.Call(t, http.MethodGet, "/licenses/"+lic.ID, platform, nil, http.StatusOK, nil)
	h.Call(t, http.MethodGet, "/licenses/"+lic.ID, bob, nil, http.StatusNotFound, nil)

	// White-label branding, strictly validated; every value escaped where rendered.
	brand := map[string]any{"displayName": "Acme <Academy>", "logoUrl": "https://cdn.acme.example/logo.png?v=1&s=2",
		"primaryColor": "#0B3D91", "accentColor": "#FC3D21", "emailFromName": "Acme Academy", "supportEmail": "learning@acme.example",
		"customDomain": "learn.acme.example"}
	badBrand := map[string]any{}
	for k, v := range brand {
		badBrand[k] = v
	}
	badBrand["logoUrl"] = "http://169.254.169.254/logo.png"
	refused(t, h, http.MethodPut, "/licenses/"+lic.ID+"/branding", alice, badBrand, http.StatusBadRequest, "logoUrl")
	h.Call(t, http.MethodPut, "/licenses/"+lic.ID+"/branding", bob, brand, http.StatusNotFound, nil)
	h.Call(t, http.MethodPut, "/licenses/"+lic.ID+"/branding", alice, brand, http.StatusOK, nil)

	// An invite for bob, e-mailed in the organisation's branding.
	var inv struct {
		Code    string `json:"code"`
		Emailed bool   `json:"emailed"`
	}
	h.Call(t, http.MethodPost, "/licenses/"+lic.ID+"/invites", alice, map[string]any{"email": bobEmail}, http.StatusCreated, &inv)
	if !inv.Emailed {
		t.Fatal("invite not e-mailed")
	}
	msgs := h.Env.Mailpit.WaitFor(t, "to:"+bobEmail, 1)
	m := h.Env.Mailpit.Get(t, msgs[0].ID)
	if m.From.Name != "Acme Academy" || !strings.Contains(m.Subject, "Acme <Academy>") || !strings.Contains(m.Text, inv.Code) ||
		!strings.Contains(m.HTML, "Acme &lt;Academy&gt;") || strings.Contains(m.HTML, "Acme <Academy>") ||
		!strings.Contains(m.HTML, "#0B3D91") || !strings.Contains(m.HTML, `src="https://cdn.acme.example/logo.png?v=1&amp;s=2"`) ||
		!strings.Contains(m.HTML, "learning@acme.example") {
		t.Fatalf("invite e-mail from %+v, subject %q:\n%s", m.From, m.Subject, m.HTML)
	}
	// Only bob may use it.
	refused(t, h, http.MethodPost, "/licenses/join", alice, map[string]string{"code": inv.Code}, http.StatusUnprocessableEntity, "another e-mail")

	// Before joining bob has no enterprise grant; after, the exported check says Enterprise.
	g, stampBefore, err := licensing.Entitlement(ctx, h.Env.Store(), bobID, time.Now())
	if err != nil || g.Granted || stampBefore != "none" {
		t.Fatalf("before joining: %+v %q %v", g, stampBefore, err)
	}
	// The routes learners and apps use (billing's feature check and GET /subscription) say the same.
	seatRoutes(t, h, bob, "free", false)
	var joined joinResult
	h.Call(t, http.MethodPost, "/licenses/join", bob, map[string]string{"code": inv.Code}, http.StatusCreated, &joined)
	if joined.Seat.UserID != bobID || joined.Entitlement.Tier != "enterprise" || !joined.Entitlement.Granted {
		t.Fatalf("join %+v", joined)
	}
	h.Call(t, http.MethodPost, "/licenses/join", bob, map[string]string{"code": inv.Code}, http.StatusOK, nil) // joining twice
	g, stampSeat, err := licensing.Entitlement(ctx, h.Env.Store(), bobID, time.Now())
	if err != nil || !g.Granted || g.Tier != "enterprise" || g.LicenseID != lic.ID || stampSeat == stampBefore {
		t.Fatalf("seat holder: %+v %q %v", g, stampSeat, err)
	}
	seatRoutes(t, h, bob, "enterprise", true)
	var seats struct {
		Seats     []seatView `json:"seats"`
		SeatsUsed int64      `json:"seatsUsed"`
	}
	h.Call(t, http.MethodGet, "/licenses/"+lic.ID+"/seats", alice, nil, http.StatusOK, &seats)
	if len(seats.Seats) != 1 || seats.Seats[0].UserID != bobID || seats.SeatsUsed != 1 {
		t.Fatalf("seats %+v", seats)
	}
	var usage struct {
		Joins, SeatsAssigned, PeakSeats, MonthlyActiveLearners int64
	}
	h.Call(t, http.MethodGet, "/licenses/"+lic.ID+"/usage", alice, nil, http.StatusOK, &usage)
	if usage.Joins != 1 || usage.SeatsAssigned != 1 || usage.PeakSeats != 1 || usage.MonthlyActiveLearners != 1 {
		t.Fatalf("usage %+v", usage)
	}
	refused(t, h, http.MethodGet, "/licenses/"+lic.ID+"/usage?month=2026-13", alice, nil, http.StatusBadRequest, "month")
	if g := readGauges(t, h); g != (gauges{Active: 1, Sold: 5, Used: 1}) {
		t.Fatalf("gauges after the join %+v", g)
	}

	// A PATCH re-issues the key: the old one is superseded; the stamp changes.
	var patched license
	h.Call(t, http.MethodPatch, "/admin/licenses/"+lic.ID, platform, map[string]any{"seats": 8}, http.StatusOK, &patched)
	if patched.KeyVersion != 2 || patched.Key == lic.Key || patched.Seats != 8 || patched.SeatsUsed != 1 {
		t.Fatalf("patched %+v", patched)
	}
	refused(t, h, http.MethodPost, "/licenses/activate", alice, map[string]string{"key": lic.Key}, http.StatusUnprocessableEntity, "superseded")
	refused(t, h, http.MethodPatch, "/admin/licenses/"+lic.ID, platform, map[string]any{"seats": 0}, http.StatusBadRequest, "seats")
	if _, stamp, _ := licensing.Entitlement(ctx, h.Env.Store(), bobID, time.Now()); stamp == stampSeat {
		t.Fatal("the license changed but the stamp did not")
	}
	if g := readGauges(t, h); g != (gauges{Active: 1, Sold: 8, Used: 1}) {
		t.Fatalf("gauges after the PATCH %+v", g)
	}

	// Suspension ends the grant and refuses activation; resuming restores both.
	h.Call(t, http.MethodPatch, "/admin/licenses/"+lic.ID, platform, map[string]any{"suspended": true}, http.StatusOK, &patched)
	if g, _, _ := licensing.Entitlement(ctx, h.Env.Store(), bobID, time.Now()); g.Granted || g.Status != "suspended" {
		t.Fatalf("suspended: %+v", g)
	}
	seatRoutes(t, h, bob, "free", false) // the feature check follows the license at once (no stale cache)
	refused(t, h, http.MethodPost, "/licenses/activate", alice, map[string]string{"key": patched.Key}, http.StatusUnprocessableEntity, "suspended")
	if g := readGauges(t, h); g != (gauges{}) {
		t.Fatalf("gauges while suspended %+v", g)
	}
	h.Call(t, http.MethodPatch, "/admin/licenses/"+lic.ID, platform, map[string]any{"suspended": false}, http.StatusOK, &patched)

	// Freeing the seat ends the entitlement at once.
	h.Call(t, http.MethodDelete, "/licenses/"+lic.ID+"/seats/"+bobID, bob, nil, http.StatusNotFound, nil)
	h.Call(t, http.MethodDelete, "/licenses/"+lic.ID+"/seats/"+bobID, alice, nil, http.StatusOK, nil)
	h.Call(t, http.MethodDelete, "/licenses/"+lic.ID+"/seats/"+bobID, alice, nil, http.StatusNotFound, nil)
	if g, stamp, _ := licensing.Entitlement(ctx, h.Env.Store(), bobID, time.Now()); g.Granted || stamp != "none" {
		t.Fatalf("after removal: %+v %q", g, stamp)
	}
	seatRoutes(t, h, bob, "free", false)
	if g := readGauges(t, h); g != (gauges{Active: 1, Sold: 8, Used: 0}) {
		t.Fatalf("gauges at the end %+v", g)
	}
	var list struct {
		Licenses []license `json:"licenses"`
	}
	h.Call(t, http.MethodGet, "/admin/licenses", platform, nil, http.StatusOK, &list)
	if len(list.Licenses) != 1 || list.Licenses[0].ID != lic.ID || list.Licenses[0].KeyVersion != 4 {
		t.Fatalf("list %+v", list)
	}
}

// raceFunctions serves the manifest with join-license given 25 s instead of 10 (the API's limit is
// 30): the local DynamoDB serves one request at a time (decision 0020) for every package `make test`
// runs in parallel, so 100 simultaneous joins queue behind each other and behind other tests'
// traffic — measured 4.5–5.3 s for the slowest answer alone, over 10 s under `make test` — while in
// AWS each of a join's four requests takes milliseconds. The outcome, not the latency, is the proof.
func raceFunctions() Option {
	fns := append([]manifest.Function(nil), manifest.Functions...)
	for i := range fns {
		if fns[i].Name == "join-license" {
			fns[i].TimeoutSeconds = 25
		}
	}
	return WithFunctions(fns...)
}

// 100 learners join a 10-seat license with the block policy at the same moment: exactly 10 seats
// are taken and 90 are refused with 409, and every count agrees.
func TestJoinRaceBlock(t *testing.T) {
	h := Start(t, raceFunctions())
	o := newOrg(t, h, 10, "block", "restrict", time.Now().UTC())
	code := o.invite(t, h, 100)
	const n = 100
	statuses := make([]int, n)
	bodies := make([][]byte, n)
	tokens := make([]string, n)
	for i := range tokens {
		id := fmt.Sprintf("racer-%03d-%s", i, suffix())
		tokens[i] = h.Token(t, id, id+"@acme.example")
	}
	took := make([]time.Duration, n)
	all(n, func(i int) {
		req, _ := http.NewRequest(http.MethodPost, h.URL+"/licenses/join", strings.NewReader(`{"code":"`+code+`"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+tokens[i])
		start := time.Now()
		statuses[i], bodies[i], _ = do(req)
		took[i] = time.Since(start)
	})
	slowest := slices.Max(took)
	t.Logf("100 concurrent joins: slowest answer after %s", slowest.Round(time.Millisecond))
	count := map[int]int{}
	for i, s := range statuses {
		count[s]++
		if s == http.StatusConflict && !strings.Contains(string(bodies[i]), "all 10 seats") {
			t.Errorf("409 for another reason: %s", bodies[i])
		}
	}
	if count[http.StatusCreated] != 10 || count[http.StatusConflict] != 90 {
		t.Fatalf("statuses %v", count)
	}
	var seats struct {
		Seats     []seatView `json:"seats"`
		SeatsUsed int64      `json:"seatsUsed"`
	}
	h.Call(t, http.MethodGet, "/licenses/"+o.lic.ID+"/seats?limit=100", o.admin, nil, http.StatusOK, &seats)
	if len(seats.Seats) != 10 || seats.SeatsUsed != 10 {
		t.Fatalf("%d seats listed, %d counted", len(seats.Seats), seats.SeatsUsed)
	}
	var usage struct{ Joins, OverageJoins int64 }
	h.Call(t, http.MethodGet, "/licenses/"+o.lic.ID+"/usage", o.admin, nil, http.StatusOK, &usage)
	if usage.Joins != 10 || usage.OverageJoins != 0 {
		t.Fatalf("usage %+v", usage)
	}
	if g := readGauges(t, h); g.Used != 10 {
		t.Fatalf("gauges %+v", g)
	}
}

// Under the allow policy, joins beyond the seats succeed and are recorded as overage.
func TestJoinRaceAllowRecordsOverage(t *testing.T) {
	h := Start(t, raceFunctions())
	o := newOrg(t, h, 10, "allow", "restrict", time.Now().UTC())
	code := o.invite(t, h, 25)
	const n = 25
	statuses := make([]int, n)
	tokens := make([]string, n)
	for i := range tokens {
		id := fmt.Sprintf("allow-%03d-%s", i, suffix())
		tokens[i] = h.Token(t, id, id+"@acme.example")
	}
	all(n, func(i int) {
		req, _ := http.NewRequest(http.MethodPost, h.URL+"/licenses/join", strings.NewReader(`{"code":"`+code+`"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+tokens[i])
		statuses[i], _, _ = do(req)
	})
	for i, s := range statuses {
		if s != http.StatusCreated {
			t.Fatalf("join %d: %d", i, s)
		}
	}
	var seats struct {
		Seats []seatView `json:"seats"`
	}
	h.Call(t, http.MethodGet, "/licenses/"+o.lic.ID+"/seats?limit=100", o.admin, nil, http.StatusOK, &seats)
	over := 0
	for _, s := range seats.Seats {
		if s.Overage {
			over++
		}
	}
	var lic license
	h.Call(t, http.MethodGet, "/licenses/"+o.lic.ID, o.admin, nil, http.StatusOK, &lic)
	var usage struct{ Joins, OverageJoins, PeakSeats int64 }
	h.Call(t, http.MethodGet, "/licenses/"+o.lic.ID+"/usage", o.admin, nil, http.StatusOK, &usage)
	if len(seats.Seats) != 25 || over != 15 || lic.SeatsUsed != 25 || lic.OverageSeats != 15 ||
		usage.Joins != 25 || usage.OverageJoins != 15 || usage.PeakSeats != 25 {
		t.Fatalf("%d seats, %d overage; license %+v; usage %+v", len(seats.Seats), over, lic, usage)
	}
	// The invite is used up: the 26th join is refused.
	id := "late-" + suffix()
	refused(t, h, http.MethodPost, "/licenses/join", h.Token(t, id, id+"@acme.example"), map[string]string{"code": code},
		http.StatusUnprocessableEntity, "used up")
}

// seatRoutes checks what GET /features/sso and GET /subscription tell a user: the tier in effect,
// and whether an organisation's seat grants it.
func seatRoutes(t *testing.T, h *Harness, token, wantTier string, bySeat bool) {
	t.Helper()
	var dec struct {
		Allowed bool   `json:"allowed"`
		Tier    string `json:"tier"`
		Source  string `json:"source"`
	}
	h.Call(t, http.MethodGet, "/features/sso", token, nil, http.StatusOK, &dec)
	var sub struct {
		Tier    string `json:"tier"`
		Source  string `json:"source"`
		License *struct {
			Granted bool `json:"granted"`
		} `json:"license"`
	}
	h.Call(t, http.MethodGet, "/subscription", token, nil, http.StatusOK, &sub)
	wantSource := "subscription"
	if bySeat {
		wantSource = "license"
	}
	if dec.Tier != wantTier || dec.Allowed != (wantTier == "enterprise") || dec.Source != wantSource ||
		sub.Tier != wantTier || sub.Source != wantSource || (bySeat && (sub.License == nil || !sub.License.Granted)) {
		t.Fatalf("want %s by %s: feature check %+v, subscription %+v", wantTier, wantSource, dec, sub)
	}
}
