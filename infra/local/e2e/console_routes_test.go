//go:build integration

package e2e

import (
	"encoding/json"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/liberation/monetization/infra/local/stripeevents"
	"github.com/liberation/monetization/shared/billing"
	"github.com/liberation/monetization/shared/manifest"
	"github.com/liberation/monetization/shared/store"
	"github.com/liberation/monetization/shared/support/sla"
	"github.com/liberation/monetization/shared/support/slametrics"
)

// The operator console's read routes through the gateway (issue 20, part A): the billing-cycle job
// writes today's snapshot and GET /admin/metrics/history answers it with GET /admin/metrics'
// numbers; extra days written through the repository page by cursor, oldest first; a malformed range
// is a 400 and a user without the admin group gets 403. GET /admin/users/{userId}/payments answers
// the user's own GET /payments, newest first, paged with the same cursors. Both functions use every
// grant they have (dynamodb:Query, the cursor secret).
func TestConsoleRoutes(t *testing.T) {
	h := Start(t)
	ctx := t.Context()
	u := uniq("console")
	email := u + "@example.com"
	userTok, admin := h.Token(t, u, email), h.Token(t, "ops-"+u, "ops@example.com", "admin")

	// A paying customer with two paid invoices: MRR, payments and revenue in the metrics.
	t0 := time.Now().Add(-2 * time.Hour).Truncate(time.Second)
	o := stripeevents.Options{UserID: u, Email: email, Tier: "pro", Created: t0, SubscriptionID: "sub_" + u,
		InvoiceID: "in_1_" + u, ChargeID: "ch_1_" + u, EventID: "evt_1_" + u}
	created := o
	created.EventID = "evt_sub_" + u // each event its own id: the webhook drops a repeated one
	post(t, h, stripeevents.MustBuild(stripeevents.CustomerSubscriptionCreated, created))
	post(t, h, stripeevents.MustBuild(stripeevents.InvoicePaid, o))
	o2 := o
	o2.Created, o2.InvoiceID, o2.ChargeID, o2.EventID = t0.Add(time.Hour), "in_2_"+u, "ch_2_"+u, "evt_2_"+u
	post(t, h, stripeevents.MustBuild(stripeevents.InvoicePaid, o2))
	h.Drain(t, manifest.ReceiptsQueue)
	// Support's SLA outcomes of today, as support's transactions count them (3 met, 1 breached).
	st := h.Env.Store()
	if err := st.Transact(ctx, store.Append(nil, store.AddCounters(store.SLAStatsKey(time.Now()), map[string]int64{
		slametrics.Name(sla.TierPro, sla.High, sla.FirstReply, slametrics.Met):      3,
		slametrics.Name(sla.TierPro, sla.High, sla.Resolution, slametrics.Breached): 1,
	}))); err != nil {
		t.Fatal(err)
	}

	// 1. The job writes today's snapshot; the history answers it with the metrics' numbers.
	run := h.RunJob(t, "billing-cycle")
	var rep struct {
		Day             string `json:"day"`
		SnapshotWritten bool   `json:"snapshotWritten"`
	}
	if err := json.Unmarshal(run.Result, &rep); err != nil || !rep.SnapshotWritten {
		t.Fatalf("billing-cycle: %s %v", run.Result, err)
	}
	var metrics map[string]any
	h.Call(t, http.MethodGet, "/admin/metrics", admin, nil, http.StatusOK, &metrics)
	var today struct {
		Currency   string           `json:"currency"`
		Days       []map[string]any `json:"days"`
		NextCursor *string          `json:"nextCursor"`
	}
	h.Call(t, http.MethodGet, "/admin/metrics/history?from="+rep.Day+"&to="+rep.Day, admin, nil, http.StatusOK, &today)
	if len(today.Days) != 1 || today.Days[0]["day"] != rep.Day || today.Currency != "usd" || today.NextCursor != nil {
		t.Fatalf("today's history: %+v", today)
	}
	day := today.Days[0]
	pick := func(m map[string]any, path string) any {
		var v any = m
		for _, k := range strings.Split(path, ".") {
			v = v.(map[string]any)[k]
		}
		return v
	}
	for _, p := range []string{"mrrCents", "payingCustomers", "activeSubscriptions", "churn.churnedPaying", "churn.joinedAndLeft",
		"churn.newPaying", "churn.payingAtStart", "churn.rateBasisPoints", "payments.succeeded", "payments.failed",
		"payments.successRateBasisPoints", "payments.revenueCents", "payments.refundedCents", "disputes",
		"marketplace.period", "marketplace.sales", "marketplace.gmvCents", "marketplace.platformRevenueCents",
		"marketplace.instructorEarningsCents", "marketplace.paidOutCents", "marketplace.payouts", "marketplace.refundedCents",
		"tokens.issued", "tokens.redeemed", "tokens.outstanding", "enterprise.licensesActive", "enterprise.seatsSold",
		"enterprise.seatsUsed", "support"} {
		if a, b := pick(day, p), pick(metrics, p); !reflect.DeepEqual(a, b) {
			t.Errorf("%s: history %v, metrics %v", p, a, b)
		}
	}
	// Not vacuously equal: the customer's MRR, the two invoices and the SLA outcomes are there.
	if day["mrrCents"] != float64(999) || pick(day, "payments.revenueCents") != float64(1998) || pick(day, "payments.succeeded") != float64(2) ||
		pick(day, "support.slaMet") != float64(3) || pick(day, "support.slaBreached") != float64(1) || pick(day, "support.slaMetPercent") != float64(75) {
		t.Fatalf("today's snapshot: %v", day)
	}
	if metrics["latestSnapshot"] != rep.Day {
		t.Fatalf("latestSnapshot %v, want %s", metrics["latestSnapshot"], rep.Day)
	}

	// 2. Five earlier days written through the repository; pages of two, oldest first.
	last, err := time.Parse(time.DateOnly, rep.Day)
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for d := -5; d <= 0; d++ {
		want = append(want, last.AddDate(0, 0, d).Format(time.DateOnly))
		if d == 0 {
			break
		}
		s := billing.SnapshotForDay(last.AddDate(0, 0, d))
		s.MRRCents = int64(100 * (6 + d))
		if ok, err := billing.WriteSnapshot(ctx, st, s); !ok || err != nil {
			t.Fatalf("write snapshot: %v %v", ok, err)
		}
	}
	rng := "from=" + want[0] + "&to=" + rep.Day + "&limit=2"
	var got []string
	cursor := ""
	for page := 0; ; page++ {
		if page > 4 {
			t.Fatal("too many pages")
		}
		path := "/admin/metrics/history?" + rng
		if cursor != "" {
			path += "&cursor=" + url.QueryEscape(cursor)
		}
		var p struct {
			Days []struct {
				Day string `json:"day"`
			} `json:"days"`
			NextCursor string `json:"nextCursor"`
		}
		h.Call(t, http.MethodGet, path, admin, nil, http.StatusOK, &p)
		if len(p.Days) > 2 {
			t.Fatalf("page of %d", len(p.Days))
		}
		for _, d := range p.Days {
			got = append(got, d.Day)
		}
		if p.NextCursor == "" {
			break
		}
		cursor = p.NextCursor
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("paged %v, want %v", got, want)
	}

	// 3. A malformed range is a 400 worded by the API; a user without the admin group gets 403.
	for q, msg := range map[string]string{
		"from=2026-13-01":                    "from must be a date YYYY-MM-DD",
		"from=" + rep.Day + "&to=" + want[0]: "from must not be after to",
		"from=2020-01-01&to=" + rep.Day:      "the range from..to must not exceed 366 days",
	} {
		var e struct {
			Error struct{ Message string } `json:"error"`
		}
		h.Call(t, http.MethodGet, "/admin/metrics/history?"+q, admin, nil, http.StatusBadRequest, &e)
		if !strings.HasPrefix(e.Error.Message, msg) {
			t.Errorf("%s: message %q, want %q", q, e.Error.Message, msg)
		}
	}
	h.Call(t, http.MethodGet, "/admin/metrics/history", userTok, nil, http.StatusForbidden, nil)

	// 4. The user's payments, as an admin sees them: the same as the user's own list, paged.
	var own, first, second struct {
		Payments   []json.RawMessage `json:"payments"`
		NextCursor string            `json:"nextCursor"`
	}
	h.Call(t, http.MethodGet, "/payments", userTok, nil, http.StatusOK, &own)
	base := "/admin/users/" + url.PathEscape(u) + "/payments"
	h.Call(t, http.MethodGet, base+"?limit=1", admin, nil, http.StatusOK, &first)
	if len(own.Payments) != 2 || len(first.Payments) != 1 || first.NextCursor == "" {
		t.Fatalf("own %d payments; admin's first page %+v", len(own.Payments), first)
	}
	h.Call(t, http.MethodGet, base+"?limit=1&cursor="+url.QueryEscape(first.NextCursor), admin, nil, http.StatusOK, &second)
	if len(second.Payments) != 1 || string(first.Payments[0]) != string(own.Payments[0]) || string(second.Payments[0]) != string(own.Payments[1]) {
		t.Fatalf("admin's pages %s, %s; the user's own list %s", first.Payments, second.Payments, own.Payments)
	}
	var none struct {
		Payments []json.RawMessage `json:"payments"`
	}
	h.Call(t, http.MethodGet, "/admin/users/"+uniq("nobody")+"/payments", admin, nil, http.StatusOK, &none)
	if none.Payments == nil || len(none.Payments) != 0 {
		t.Fatalf("a user without payments: %+v", none)
	}
	h.Call(t, http.MethodGet, "/admin/users/"+strings.Repeat("x", 129)+"/payments", admin, nil, http.StatusBadRequest, nil)
	h.Call(t, http.MethodGet, base, userTok, nil, http.StatusForbidden, nil)

	usesCoverGrants(t, "get-metrics-history", "dynamodb:Query")
	usesCoverGrants(t, "list-user-payments", "dynamodb:Query")
}
