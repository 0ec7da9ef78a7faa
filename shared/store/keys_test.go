package store_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/liberation/monetization/shared/store"
)

// The single table's key layout (keys.go; docs/data-model.md): every entity has its own key, every
// listing prefix selects only its entity within its partition, and every key meant to sort by time
// or sequence does.

// tableKeys is one key of every entity of the table, built from the same few ids, by name.
func tableKeys() map[string]store.Key {
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	return map[string]store.Key{
		"user": store.UserKey("a"), "subscription": store.SubscriptionKey("a"), "other-subscription": store.OtherSubscriptionKey("a", "b"),
		"payment": store.PaymentKey("a", "b"), "refund": store.RefundKey("a", "b", "c"), "dispute": store.DisputeKey("a", "b"),
		"payment-source": store.PaymentSourceKey("a"), "payment-intent": store.PaymentIntentKey("a"), "refund-op": store.RefundOpKey("a"),
		"unmatched-refund": store.UnmatchedRefundKey("a"), "payment-failure": store.PaymentFailureKey("a", 1),
		"idempotency": store.IdempotencyKey("a", "b"), "audit": store.AuditKey(at, "a"), "metrics-current": store.MetricsCurrentKey(),
		"metrics-day": store.MetricsDayKey(at), "snapshot": store.SnapshotKey(at), "job-run": store.JobRunKey("a", "b"),
		"token-account": store.TokenAccountKey("a"), "token-entry": store.TokenEntryKey("a", 1), "token-earn": store.TokenEarnKey("a", "b", "c"),
		"token-cap": store.TokenCapKey("a", "b", "c"), "leaderboard-score": store.LeaderboardScoreKey("a", "b"),
		"leaderboard-histogram": store.LeaderboardHistogramKey("a", "b", 1), "follow": store.FollowKey("a", "b"),
		"follow-count": store.FollowCountKey("a"), "class": store.ClassKey("a"), "class-member": store.ClassMemberKey("a", "b"),
		"class-code": store.ClassCodeKey("a"), "redemption": store.RedemptionKey("a", "b"), "token-metrics-day": store.TokenMetricsDayKey("a", 1),
		"token-metrics-current": store.TokenMetricsCurrentKey(1), "course": store.CourseKey("a"), "lesson": store.LessonKey("a", "b"),
		"review": store.CourseReviewKey("a", "b"), "listing": store.ListingKey("a"), "catalog-stamp": store.CatalogStampKey(),
		"enrolment": store.EnrollmentKey("a", "b"), "instructor": store.InstructorKey("a"), "instructor-balance": store.InstructorBalanceKey("a"),
		"sale": store.SaleKey("a", "b"), "sale-source": store.SaleSourceKey("a"), "sale-payment-intent": store.SalePaymentIntentKey("a"),
		"ledger": store.LedgerKey("a", at, "b"), "payout": store.PayoutKey("a", "b"), "marketplace-metrics-current": store.MarketplaceMetricsCurrentKey(),
		"marketplace-metrics-day": store.MarketplaceMetricsDayKey(at), "parked-event": store.ParkedEventKey("a", "b"),
		"open-checkout": store.OpenCheckoutKey("a", "b"), "license": store.LicenseKey("a"), "license-branding": store.LicenseBrandingKey("a"),
		"license-seat": store.LicenseSeatKey("a", "b"), "license-admin": store.LicenseAdminKey("a", "b"), "license-usage": store.LicenseUsageKey("a", "b"),
		"license-active": store.LicenseActiveKey("a", "b", "c"), "license-enrolment": store.LicenseEnrolmentKey("a", "b", "c"),
		"license-trueup": store.LicenseTrueUpKey("a", "b"), "seat-holder": store.SeatHolderKey("a"), "license-invite": store.LicenseInviteKey("a"),
		"user-by-email": store.UserByEmailKey("a"), "signing-key": store.SigningKeyKey("a"), "metrics-month": store.MetricsMonthKey("a"),
		"ticket": store.TicketKey("a"), "ticket-message": store.TicketMessageKey("a", at, "b"), "ticket-sla-event": store.TicketSLAEventKey("a", "b", "c"),
		"sla-due": store.SLADueKey(at, "a"), "support-agent": store.SupportAgentKey("a"), "sla-stats": store.SLAStatsKey(at),
		"schema-version": store.SchemaVersionKey(),
	}
}

// No two entities share a key: built from the same ids, each lands on its own item.
func TestEveryEntityHasItsOwnKey(t *testing.T) {
	seen := map[store.Key]string{}
	for name, k := range tableKeys() {
		if k.PK == "" || k.SK == "" {
			t.Errorf("%s: empty key part %v", name, k)
		}
		if other, dup := seen[k]; dup {
			t.Errorf("%s and %s share the key %v", name, other, k)
		}
		seen[k] = name
	}
}

// A Query by sort-key prefix reads only its entity: no other entity's key in the same partition
// starts with the prefix.
func TestListingPrefixesSelectOnlyTheirEntity(t *testing.T) {
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	prefixes := []struct {
		entity, pk, prefix string
	}{
		{"payment", "USER#a", store.PaymentPrefix},
		{"refund", "USER#a", store.RefundPrefix("b")},
		{"token-entry", "USER#a", store.TokenEntryPrefix},
		{"follow", "USER#a", store.FollowPrefix},
		{"redemption", "USER#a", store.RedemptionPrefix},
		{"class-member", "CLASS#a", store.ClassMemberPrefix},
		{"lesson", "COURSE#a", store.LessonPrefix},
		{"sale", "INSTR#a", store.SalePrefix},
		{"ledger", "INSTR#a", store.LedgerPrefix},
		{"payout", "INSTR#a", store.PayoutPrefix},
		{"license-seat", "LIC#a", store.LicenseSeatPrefix},
		{"ticket-message", "TICKET#a", store.TicketMessagePrefix},
		{"metrics-day", "METRICS", store.MetricsDayPrefix},
		{"marketplace-metrics-day", "METRICS", store.MarketplaceMetricsDayPrefix},
	}
	keys := tableKeys()
	// The refunds of another payment whose id starts like this one's stay out of its list; another
	// day's counters are the same entity ("<entity>@…" names more keys of an entity).
	keys["another-payment's-refund"] = store.RefundKey("a", "bb", "c")
	keys["metrics-day@april"] = store.MetricsDayKey(at.AddDate(0, 1, 0))
	for _, p := range prefixes {
		own, ok := keys[p.entity]
		if !ok || own.PK != p.pk || !strings.HasPrefix(own.SK, p.prefix) {
			t.Errorf("%s: key %v is not in %s under %q", p.entity, own, p.pk, p.prefix)
			continue
		}
		for name, k := range keys {
			if name != p.entity && !strings.HasPrefix(name, p.entity+"@") && k.PK == p.pk && strings.HasPrefix(k.SK, p.prefix) {
				t.Errorf("listing %s (%s, %q) would also read %s %v", p.entity, p.pk, p.prefix, name, k)
			}
		}
	}
}

// Keys that list by time sort by time, in UTC whatever the caller's zone, across day, month and year
// ends; keys that list by number sort by number. (The keys rendered with RFC 3339 nanoseconds —
// ledger entries, ticket messages, audit records — are checked at whole seconds: within one second
// their trimmed fractions do not sort as time, e.g. "…:05Z" sorts after "…:05.1Z".)
func TestSortKeysSortByTimeAndNumber(t *testing.T) {
	est := time.FixedZone("EST", -5*3600)
	times := []time.Time{
		time.Date(2025, 12, 31, 23, 59, 59, 0, time.UTC),
		time.Date(2025, 12, 31, 19, 0, 0, 0, est), // 2026-01-01T00:00:00Z
		time.Date(2026, 1, 1, 0, 0, 1, 0, time.UTC),
		time.Date(2026, 1, 9, 23, 0, 0, 0, est), // 2026-01-10T04:00:00Z
		time.Date(2026, 1, 10, 5, 0, 0, 0, time.UTC),
		time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2027, 2, 1, 0, 0, 0, 0, time.UTC),
	}
	sortKeys := map[string]func(time.Time) string{
		"SortTime":                   store.SortTime,
		"subscription review (GSI2)": func(at time.Time) string { _, sk := store.SubscriptionStatusGSI2("active", at, "u"); return sk },
		"refund operation (GSI2)":    func(at time.Time) string { _, sk := store.RefundOpsPendingGSI2(at, "rop"); return sk },
		"open other subscription":    func(at time.Time) string { _, sk := store.OpenOtherSubscriptionsGSI2(at, "u", "s"); return sk },
		"pending earning":            func(at time.Time) string { _, sk := store.TokenPendingGSI2(at, "u", "r", "s"); return sk },
		"redemption status":          func(at time.Time) string { _, sk := store.RedemptionStatusGSI2("open", at, "r"); return sk },
		"instructor's courses":       func(at time.Time) string { _, sk := store.InstructorCoursesGSI1("i", at, "c"); return sk },
		"course reviews":             func(at time.Time) string { _, sk := store.CourseReviewsGSI1("c", at, "u"); return sk },
		"my courses":                 func(at time.Time) string { _, sk := store.MyCoursesGSI1("u", at, "c"); return sk },
		"pending sale":               func(at time.Time) string { _, sk := store.PendingSaleGSI2(at, "s"); return sk },
		"licenses":                   func(at time.Time) string { _, sk := store.LicensesGSI1(at, "l"); return sk },
		"requester's tickets":        func(at time.Time) string { _, sk := store.RequesterTicketsGSI1("u", at, "t"); return sk },
		"ticket queue":               func(at time.Time) string { _, sk := store.TicketQueueGSI2("open", at, "t"); return sk },
		"SLA schedule":               func(at time.Time) string { return store.SLADueKey(at, "t").SK },
		"ledger entry":               func(at time.Time) string { return store.LedgerKey("i", at, "e").SK },
		"ticket message":             func(at time.Time) string { return store.TicketMessageKey("t", at, "m").SK },
		"audit record":               func(at time.Time) string { return store.AuditKey(at, "x").SK },
		"audit by actor":             func(at time.Time) string { _, sk := store.AuditByActorGSI1("a", at, "x"); return sk },
	}
	for name, k := range sortKeys {
		for i := 1; i < len(times); i++ {
			if a, b := k(times[i-1]), k(times[i]); a >= b {
				t.Errorf("%s: %q (%v) does not sort before %q (%v)", name, a, times[i-1].UTC(), b, times[i].UTC())
			}
		}
	}
	if store.SortTime(times[1]) != "2026-01-01T00:00:00Z" || store.MetricsDayKey(times[3]).SK != "DAY#2026-01-10" ||
		store.AuditKey(times[3], "x").PK != "AUDIT#2026-01-10" {
		t.Error("times are not rendered in UTC")
	}
	for i, pair := range [][2]store.Key{
		{store.PaymentFailureKey("in", 2), store.PaymentFailureKey("in", 10)},
		{store.PaymentFailureKey("in", 999), store.PaymentFailureKey("in", 1000)},
		{store.TokenEntryKey("u", 9), store.TokenEntryKey("u", 10)},
		{store.TokenEntryKey("u", 99999), store.TokenEntryKey("u", 100000)},
		{store.TokenMetricsDayKey("2026-03-01", 9), store.TokenMetricsDayKey("2026-03-01", 10)},
		{store.TokenMetricsCurrentKey(9), store.TokenMetricsCurrentKey(10)},
	} {
		if pair[0].PK != pair[1].PK || pair[0].SK >= pair[1].SK {
			t.Errorf("pair %d: %v does not sort before %v", i, pair[0], pair[1])
		}
	}
}

// Every index entry has its own partition per entity, so a lookup by an external id (a Stripe
// customer, subscription, charge) or a list (a status, a period) reads only its entity.
func TestIndexPartitionsPerEntity(t *testing.T) {
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	pk := func(p, _ string) string { return p }
	gsi1 := map[string]string{
		"stripe customer":      pk(store.StripeCustomerGSI1("a")),
		"stripe subscription":  pk(store.StripeSubscriptionGSI1("a")),
		"payment by id":        pk(store.PaymentByIDGSI1("a")),
		"audit by actor":       pk(store.AuditByActorGSI1("a", at, "x")),
		"redemption by id":     pk(store.RedemptionByIDGSI1("a")),
		"instructor's courses": pk(store.InstructorCoursesGSI1("a", at, "c")),
		"course reviews":       pk(store.CourseReviewsGSI1("a", at, "u")),
		"my courses":           pk(store.MyCoursesGSI1("a", at, "c")),
		"licenses":             pk(store.LicensesGSI1(at, "a")),
		"requester's tickets":  pk(store.RequesterTicketsGSI1("a", at, "t")),
	}
	gsi2 := map[string]string{
		"subscriptions by status": pk(store.SubscriptionStatusGSI2("a", at, "u")),
		"open other subs":         pk(store.OpenOtherSubscriptionsGSI2(at, "a", "s")),
		"payment by charge":       pk(store.ChargeGSI2("a")),
		"pending refund ops":      pk(store.RefundOpsPendingGSI2(at, "a")),
		"pending earnings":        pk(store.TokenPendingGSI2(at, "a", "r", "s")),
		"leaderboard shard":       pk(store.LeaderboardShardGSI2("a", "b", 1, "x")),
		"redemptions by status":   pk(store.RedemptionStatusGSI2("a", at, "r")),
		"payable balances":        pk(store.PayableGSI2("a")),
		"pending sales":           pk(store.PendingSaleGSI2(at, "a")),
		"payouts of a period":     pk(store.PayoutsGSI2("a", "paid", "i")),
		"ticket queue":            pk(store.TicketQueueGSI2("a", at, "t")),
	}
	for ix, parts := range map[string]map[string]string{"GSI1": gsi1, "GSI2": gsi2} {
		seen := map[string]string{}
		for name, p := range parts {
			if other, dup := seen[p]; dup {
				t.Errorf("%s: %s and %s share the partition %q", ix, name, other, p)
			}
			seen[p] = name
		}
	}
	if got := store.LeaderboardShardPK("global", "week#2026-W05", 3); got != "LB#global#week#2026-W05#3" {
		t.Errorf("leaderboard shard partition %q", got)
	}
	if k := store.PaymentKey("u1", "pay_1"); k.String() != "USER#u1|PAY#pay_1" {
		t.Errorf("a key in logs: %q", k.String())
	}
}

// A course's listing lives in one of CatalogShards partitions, the same one every time, and the
// listings spread over all of them.
func TestCatalogShards(t *testing.T) {
	used := map[string]int{}
	for i := 0; i < 400; i++ {
		id := fmt.Sprintf("crs_%04d", i)
		k := store.ListingKey(id)
		if k != store.ListingKey(id) || k.SK != id {
			t.Fatalf("listing key of %s: %v", id, k)
		}
		used[k.PK]++
	}
	if len(used) != store.CatalogShards {
		t.Fatalf("listings in %d partitions, want %d: %v", len(used), store.CatalogShards, used)
	}
	for n := 0; n < store.CatalogShards; n++ {
		if used[store.CatalogShardPK(n)] < 20 {
			t.Errorf("shard %d holds %d of 400 listings", n, used[store.CatalogShardPK(n)])
		}
	}
}
