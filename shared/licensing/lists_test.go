package licensing

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/auth"
	"github.com/liberation/monetization/shared/httpapi"
)

// listBody calls a list route and returns its body as a client reads it (the JSON, decoded),
// failing unless it is a 200 with exactly the fields keys (the OpenAPI document requires each and
// allows no other).
func (w *world) listBody(h func(*Deps) httpapi.Handler, p auth.Principal, r req, keys ...string) map[string]json.RawMessage {
	w.t.Helper()
	res := w.ok(h, p, r)
	raw, err := json.Marshal(res.Body)
	if err != nil {
		w.t.Fatal(err)
	}
	var body map[string]json.RawMessage
	if err := json.Unmarshal(raw, &body); err != nil {
		w.t.Fatal(err)
	}
	if res.Status != http.StatusOK || !slices.Equal(slices.Sorted(maps.Keys(body)), slices.Sorted(slices.Values(keys))) {
		w.t.Fatalf("%d %s, want the fields %v", res.Status, raw, keys)
	}
	return body
}

func decode[T any](t *testing.T, raw json.RawMessage) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("%s: %v", raw, err)
	}
	return v
}

// GET /admin/licenses: newest first, pages within the limit, nextCursor on every page ("" on the
// last), the limit checked.
func TestListLicensesPages(t *testing.T) {
	w := newWorld(t)
	empty := w.listBody(handleListLicenses, platformAdmin, req{}, "licenses", "nextCursor")
	if string(empty["licenses"]) != "[]" || decode[string](t, empty["nextCursor"]) != "" {
		t.Fatalf("no licenses: %v", empty)
	}
	var created []string
	for i := 0; i < 3; i++ {
		created = append(created, w.create(int64(i+1), OverageBlock, ExpireRestrict, "a@a.example").ID)
		w.clk.Advance(time.Second)
	}
	slices.Reverse(created) // newest first

	var got []string
	cursor := ""
	for pages := 1; ; pages++ {
		q := map[string]string{"limit": "2"}
		if cursor != "" {
			q["cursor"] = cursor
		}
		body := w.listBody(handleListLicenses, platformAdmin, req{query: q}, "licenses", "nextCursor")
		items := decode[[]AdminLicenseView](t, body["licenses"])
		if len(items) > 2 || pages > 3 {
			t.Fatalf("page %d: %d licenses", pages, len(items))
		}
		for _, v := range items {
			if v.Key == "" || v.KeyVersion != 1 || v.Status != StatusIssued || len(v.AdminEmails) != 1 {
				t.Fatalf("license %+v", v)
			}
			got = append(got, v.ID)
		}
		if cursor = decode[string](t, body["nextCursor"]); cursor == "" {
			break
		}
	}
	if !slices.Equal(got, created) {
		t.Fatalf("listed %v, want %v", got, created)
	}
	all := w.listBody(handleListLicenses, platformAdmin, req{}, "licenses", "nextCursor")
	if n := len(decode[[]AdminLicenseView](t, all["licenses"])); n != 3 || decode[string](t, all["nextCursor"]) != "" {
		t.Fatalf("default limit: %d, %s", n, all["nextCursor"])
	}
	for _, bad := range []string{"0", "101", "x"} {
		_, err := w.call(handleListLicenses, platformAdmin, req{query: map[string]string{"limit": bad}})
		wantCode(t, err, apperr.Invalid, "limit must be an integer from 1 to 100")
	}
}

// GET /licenses/{licenseId}/seats: the seats by page with the license's count on every page, for its
// org admins and platform admins only (another user's request is a 404 before its limit is read).
func TestListSeatsPages(t *testing.T) {
	w := newWorld(t)
	v := w.activated(2, OverageAllow, ExpireRestrict)
	empty := w.listBody(handleListSeats, alice, req{path: lic(v.ID)}, "seats", "seatsUsed", "seatsTotal", "nextCursor")
	if string(empty["seats"]) != "[]" || string(empty["seatsUsed"]) != "0" || string(empty["seatsTotal"]) != "2" ||
		decode[string](t, empty["nextCursor"]) != "" {
		t.Fatalf("no seats: %v", empty)
	}
	inv := w.invite(v.ID, map[string]any{"maxUses": 5})
	var users []string
	for i := 0; i < 3; i++ {
		p := auth.Principal{UserID: fmt.Sprint("u", i), Email: fmt.Sprintf("u%d@acme.example", i)}
		if _, err := w.join(p, inv.Code); err != nil {
			t.Fatal(err)
		}
		users = append(users, p.UserID)
	}
	for _, who := range []auth.Principal{alice, platformAdmin} {
		var got []string
		cursor := ""
		for pages := 1; ; pages++ {
			q := map[string]string{"limit": "2"}
			if cursor != "" {
				q["cursor"] = cursor
			}
			body := w.listBody(handleListSeats, who, req{path: lic(v.ID), query: q}, "seats", "seatsUsed", "seatsTotal", "nextCursor")
			if string(body["seatsUsed"]) != "3" || string(body["seatsTotal"]) != "2" {
				t.Fatalf("page %d: %v", pages, body)
			}
			seats := decode[[]SeatView](t, body["seats"])
			if len(seats) > 2 || pages > 3 {
				t.Fatalf("page %d: %d seats", pages, len(seats))
			}
			for _, s := range seats {
				if s.LicenseID != v.ID || s.Via != "invite" || s.Overage != (s.UserID == "u2") {
					t.Fatalf("seat %+v", s)
				}
				got = append(got, s.UserID)
			}
			if cursor = decode[string](t, body["nextCursor"]); cursor == "" {
				break
			}
		}
		if !slices.Equal(got, users) {
			t.Fatalf("%s listed %v, want %v", who.UserID, got, users)
		}
	}
	_, err := w.call(handleListSeats, eve, req{path: lic(v.ID), query: map[string]string{"limit": "0"}})
	wantCode(t, err, apperr.NotFound, "license not found")
	_, err = w.call(handleListSeats, alice, req{path: lic(v.ID), query: map[string]string{"limit": "101"}})
	wantCode(t, err, apperr.Invalid, "limit must be an integer from 1 to 100")
}
