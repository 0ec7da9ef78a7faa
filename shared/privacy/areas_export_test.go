//go:build !integration

// The 10,000-item export runs on the in-process table only: seeding it on moto (one request at a
// time, decision 0020) would take minutes; the frame's own cases run on both backends.

package privacy_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/liberation/monetization/shared/billing"
	"github.com/liberation/monetization/shared/licensing"
	"github.com/liberation/monetization/shared/marketplace"
	"github.com/liberation/monetization/shared/payments"
	"github.com/liberation/monetization/shared/privacy"
	"github.com/liberation/monetization/shared/rewards"
	"github.com/liberation/monetization/shared/store"
	"github.com/liberation/monetization/shared/support"
)

// registerAreas registers every area's real exporter, as the host's generated main does.
func registerAreas(w *world) {
	rd := privacy.Reader{S: w.s}
	w.reg.RegisterExporter("billing", billing.PersonalDataExporter(rd))
	w.reg.RegisterExporter("payments", payments.PersonalDataExporter(rd))
	w.reg.RegisterExporter("marketplace", marketplace.PersonalDataExporter(rd))
	w.reg.RegisterExporter("rewards", rewards.PersonalDataExporter(rd))
	w.reg.RegisterExporter("licensing", licensing.PersonalDataExporter(rd))
	w.reg.RegisterExporter("support", support.PersonalDataExporter(rd))
}

func item(k store.Key, typ string, attrs map[string]any) map[string]any {
	out := map[string]any{"PK": k.PK, "SK": k.SK, "type": typ, "version": 1}
	for a, v := range attrs {
		out[a] = v
	}
	return out
}

// seedPerson writes a person's items in every area and returns how many items of each type their
// export must hold. Other people's data is mixed in where an area keeps it beside theirs.
func seedPerson(t *testing.T, w *world, u, other string, scale int) map[string]int {
	s := w.s
	want := map[string]int{}
	add := func(typ string, it map[string]any) {
		put(t, s, it)
		want[typ]++
	}
	at := t0.Add(-time.Hour)
	add("user", item(store.UserKey(u), "user", map[string]any{"userId": u, "email": u + "@example.com", "stripeCustomerId": "cus_" + u}))
	add("subscription", item(store.SubscriptionKey(u), "subscription", map[string]any{"tier": "pro", "status": "active", "lastEventId": "evt_1"}))
	// payments: receipts (three rendered), refunds (one credit note rendered), disputes.
	for i := 0; i < 10*scale; i++ {
		id := fmt.Sprintf("pay_%05d", i)
		attrs := map[string]any{"id": id, "userId": u, "amountCents": 1999 + i, "currency": "usd", "customerEmail": u + "@example.com", "eventId": "evt_x"}
		if i < 3 {
			attrs["receiptKey"] = payments.ReceiptObjectKey(u, id)
			w.blobs.objs[payments.ReceiptObjectKey(u, id)] = []byte("%PDF receipt " + id)
		}
		add("payment", item(store.PaymentKey(u, id), "payment", attrs))
	}
	for i := 0; i < 5*scale; i++ {
		add("refund", item(store.RefundKey(u, "pay_00000", fmt.Sprintf("re_%05d", i)), "refund", map[string]any{
			"id": fmt.Sprintf("re_%05d", i), "paymentId": "pay_00000", "amountCents": 100, "requestedBy": "admin-1"}))
	}
	w.blobs.objs[payments.CreditNoteObjectKey(u, "pay_00000", "re_00000")] = []byte("%PDF credit note")
	add("dispute", item(store.DisputeKey(u, "dp_1"), "dispute", map[string]any{"id": "dp_1", "amountCents": 500}))
	// rewards: account, ledger entries (an admin adjustment among them), redemptions.
	add("token-account", item(store.TokenAccountKey(u), "token-account", map[string]any{"balance": 100, "displayName": "Al"}))
	for i := 0; i < 60*scale; i++ {
		add("token-entry", item(store.TokenEntryKey(u, int64(i+1)), "token-entry", map[string]any{"seq": i + 1, "delta": 5, "actor": "admin-1"}))
	}
	add("redemption", item(store.RedemptionKey(u, "rdm_1"), "redemption", map[string]any{"rewardId": "mug", "decidedBy": "admin-1",
		"note": "internal note", "shipping": map[string]any{"line1": "1 Main St"}, "claim": "approve"}))
	// marketplace as a learner: enrolments, the review they wrote; as an instructor: profile,
	// balance, a course (reviewed by someone else), sales to others, ledger, payouts.
	for i := 0; i < 5*scale; i++ {
		c := fmt.Sprintf("crs_b%05d", i)
		add("enrollment", item(store.EnrollmentKey(u, c), "enrollment", map[string]any{"userId": u, "courseId": c, "status": "active"}))
	}
	add("review", item(store.CourseReviewKey("crs_b00000", u), "review", map[string]any{"courseId": "crs_b00000", "userId": u, "rating": 5, "text": "great"}))
	add("course-checkout", item(store.OpenCheckoutKey(u, "crs_b00001"), "course-checkout", map[string]any{"sessionId": "cs_1", "url": "https://checkout.stripe.com/c/pay/cs_1"}))
	add("instructor-profile", item(store.InstructorKey(u), "instructor", map[string]any{"email": u + "@example.com", "connectAccountId": "acct_1"}))
	add("instructor-balance", item(store.InstructorBalanceKey(u), "balance", map[string]any{"available": 700}))
	course := "crs_own_" + u
	g1, g1s := store.InstructorCoursesGSI1(u, at, course)
	add("course", item(store.CourseKey(course), "course", map[string]any{"id": course, "instructorId": u, "GSI1PK": g1, "GSI1SK": g1s, "title": "Go"}))
	put(t, s, item(store.CourseReviewKey(course, other), "review", map[string]any{"courseId": course, "userId": other, "text": "by " + other}))
	for i := 0; i < 8*scale; i++ {
		add("sale", item(store.SaleKey(u, fmt.Sprintf("sal_%05d", i)), "sale", map[string]any{"id": fmt.Sprintf("sal_%05d", i), "amountCents": 1000, "buyerId": other, "paymentId": "pay_of_" + other}))
	}
	for i := 0; i < 5*scale; i++ {
		add("ledger-entry", item(store.LedgerKey(u, at.Add(time.Duration(i)*time.Second), fmt.Sprintf("le_%05d", i)), "ledger", map[string]any{"id": fmt.Sprintf("le_%05d", i), "kind": "sale", "requestId": "req"}))
	}
	add("payout", item(store.PayoutKey(u, "2026-10"), "payout", map[string]any{"amountCents": 700}))
	// licensing: the seat and the directory entry.
	add("license-membership", item(store.SeatHolderKey(u), "license-membership", map[string]any{"licenseId": "lic_1", "seatId": "st_1"}))
	add("license-seat", item(store.LicenseSeatKey("lic_1", u), "license-seat", map[string]any{"userId": u, "email": u + "@example.com", "addedBy": "admin-1"}))
	add("user-by-email", item(store.UserByEmailKey(u+"@example.com"), "user-by-email", map[string]any{"userId": u, "email": u + "@example.com"}))
	// support: tickets, each with the person's message and an agent's reply.
	for i := 0; i < scale/2+1; i++ {
		id := fmt.Sprintf("tkt_%s_%03d", u, i)
		gp, gs := store.RequesterTicketsGSI1(u, at, id)
		add("ticket", item(store.TicketKey(id), "support-ticket", map[string]any{"id": id, "requesterId": u, "subject": "help",
			"GSI1PK": gp, "GSI1SK": gs, "assignee": "agent-7", "assigneeEmail": "agent7@liberation.example"}))
		add("ticket-message", item(store.TicketMessageKey(id, at, "m1"), "support-message", map[string]any{"authorId": u, "role": "requester", "body": "it broke"}))
		add("ticket-message", item(store.TicketMessageKey(id, at.Add(time.Second), "m2"), "support-message", map[string]any{"authorId": "agent-7", "role": "agent", "body": "fixed"}))
	}
	return want
}

// A person with 10,000 items across every area exports without a run doing all of it: the build
// pages (each area its own cursor), checkpoints and re-queues itself, survives a run interrupted
// midway, and the zip's export.json holds every item exactly once — and nothing of another user,
// nor the fields each area keeps out (other people's ids, admins' notes, bearer links). The
// receipt and credit-note PDFs are in the zip.
func TestExportOfTenThousandItemsAcrossEveryArea(t *testing.T) {
	w := newWorld(t)
	registerAreas(w)
	w.b.PageSize, w.b.PagesPerRun = 250, 8
	want := seedPerson(t, w, "alice", "bob", 100)
	total := 0
	for _, n := range want {
		total += n
	}
	// Top the ledger up to exactly 10,000 items.
	for i := 0; total < 10000; i++ {
		put(t, w.s, item(store.TokenEntryKey("alice", int64(100000+i)), "token-entry", map[string]any{"seq": 100000 + i}))
		want["token-entry"]++
		total++
	}
	seedPerson(t, w, "bob", "carol", 2)

	v := w.create(t, "alice", "alice@example.com")
	w.blobs.failAt = 20 // a part of the third run: interrupted midway
	runs := drain(t, w.b, w.q, 200)
	if w.blobs.failed != 1 || runs < 6 {
		t.Fatalf("%d runs, %d interruptions: the build did not page across messages", runs, w.blobs.failed)
	}
	e, err := w.repo.Get(context.Background(), "alice", v.ExportID)
	if err != nil || e.Status != privacy.StatusReady || e.Items != 10000 {
		t.Fatalf("export %+v %v", e, err)
	}
	doc, files := document(t, w.blobs.objs[e.ObjectKey])
	if doc.ItemCount != 10000 {
		t.Fatalf("document holds %d items, want 10000", doc.ItemCount)
	}
	got := map[string]int{}
	seen := map[string]bool{}
	for area, ax := range doc.Areas {
		for _, it := range ax.Items {
			got[it.Type]++
			b, _ := json.Marshal(it)
			if seen[area+string(b)] {
				t.Fatalf("%s item twice: %s", area, b)
			}
			seen[area+string(b)] = true
		}
	}
	for typ, n := range want {
		if got[typ] != n {
			t.Errorf("%s: %d items, want %d", typ, got[typ], n)
		}
	}
	for typ, n := range got {
		if want[typ] == 0 {
			t.Errorf("%d items of an unexpected type %s", n, typ)
		}
	}
	js := string(files[privacy.DocumentName])
	for _, never := range []string{"bob", "carol", "admin-1", "agent-7", "agent7@", "internal note", "checkout.stripe.com",
		"evt_", `"PK"`, `"GSI1PK"`, `"version"`, "lastEventId", "pay_of_"} {
		if strings.Contains(js, never) {
			t.Errorf("export.json holds %q", never)
		}
	}
	for _, must := range []string{"alice@example.com", "1 Main St", "it broke", "fixed", `"amountCents": 1999`, "great"} {
		if !strings.Contains(js, must) {
			t.Errorf("export.json lacks %q", must)
		}
	}
	for _, f := range []string{"files/pay_00000.pdf", "files/pay_00001.pdf", "files/pay_00002.pdf", "files/pay_00000/credit-notes/re_00000.pdf"} {
		if _, ok := files[f]; !ok {
			t.Errorf("zip lacks %s (has %d files)", f, len(files))
		}
	}
	if len(doc.Files) != 4 || len(files) != 5 {
		t.Errorf("files %v; want the 4 PDFs that exist and export.json", doc.Files)
	}
}

// put writes an item as a seed (outside any function: no IAM, no transaction).
func put(t testing.TB, s *store.Store, item map[string]any) {
	t.Helper()
	av, err := attributevalue.MarshalMap(item)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.DB.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: &s.Table, Item: av}); err != nil {
		t.Fatalf("seed %v: %v", item["SK"], err)
	}
}
