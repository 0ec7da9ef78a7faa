package rewards

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/liberation/monetization/shared/audit"
	"github.com/liberation/monetization/shared/books/journal"
	"github.com/liberation/monetization/shared/clock"
	"github.com/liberation/monetization/shared/privacy"
	"github.com/liberation/monetization/shared/privacy/privacytest"
	"github.com/liberation/monetization/shared/rewards/leaderboard"
	"github.com/liberation/monetization/shared/rewards/rewardcatalog"
	"github.com/liberation/monetization/shared/store"
	"github.com/liberation/monetization/shared/store/storetest"
)

// The rewards eraser on the table (in process; moto with the integration tag), over a world built
// through the area's own code paths: grants (ledger movements with their earning guards, daily
// caps and audit records) in two weeks, profiles, follows both ways, and redemptions in every
// state — merchandise pending, approved and shipped, a coupon pending, a cancelled one, a
// fulfilled $5 credit (which posts rwd.credit in the journal) — for the subject and for others.

const (
	subj       = "usr_subject"
	subjName   = "Zelda Quartz"
	subjEmail  = "zelda.quartz@example.com"
	otherB     = "usr_bravo"
	otherC     = "usr_charlie"
	pseudonym  = "anon_01JERASE0000000000000000"
	eraseReqID = "per_01JERASE0000000000000000"
)

var erasedSubject = privacy.ErasureSubject{UserID: subj, Emails: []string{subjEmail}, Pseudonym: pseudonym, RequestID: eraseReqID}

type eraseWorld struct {
	t     *testing.T
	clk   *clock.Fake
	s     *store.Store
	d     *Deps
	n     int
	weeks []string // the board instances written
}

func newEraseWorld(t *testing.T) *eraseWorld {
	clk := clock.NewFake(time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)) // a Monday
	s := newTestStore(t, clk)
	w := &eraseWorld{t: t, clk: clk, s: s, d: (&Deps{Clock: clk, Store: s}).With(NewRepo(s))}
	ctx := context.Background()
	w.weeks = append(w.weeks, leaderboard.Key(leaderboard.Week, clk.Now()))
	// Week one: everyone earns; the subject is ahead of bravo and behind charlie.
	w.grant(subj, 900)
	w.grant(otherB, 400)
	w.grant(otherC, 1500)
	for u, name := range map[string]string{subj: subjName, otherB: "Bravo B", otherC: "Charlie C"} {
		w.profile(u, name)
	}
	clk.Advance(7 * 24 * time.Hour)
	w.weeks = append(w.weeks, leaderboard.Key(leaderboard.Week, clk.Now()))
	w.grant(subj, 20000)
	w.grant(otherB, 300)
	w.grant(otherC, 200)
	for _, f := range [][2]string{{subj, otherB}, {subj, otherC}, {otherB, subj}, {otherC, otherB}} {
		if _, err := w.d.social().Follow(ctx, f[0], f[1], clk.Now()); err != nil {
			t.Fatal(err)
		}
	}
	ship := &Address{Name: subjName, Line1: "1 Quartz Lane", City: "Springfield", PostalCode: "12345", Country: "US"}
	// The subject: a merchandise pack pending, one approved (awaiting shipment), one shipped, a
	// coupon pending, a cancelled one and a fulfilled credit.
	w.redeem(subj, rewardcatalog.Merchandise, ship)
	w.approve(w.redeem(subj, rewardcatalog.Merchandise, ship))
	w.fulfilManual(w.approve(w.redeem(subj, rewardcatalog.Merchandise, ship)))
	w.redeem(subj, rewardcatalog.CourseCoupon, nil)
	w.cancel(w.redeem(subj, rewardcatalog.CourseCoupon, nil))
	w.credit(w.redeem(subj, rewardcatalog.SubscriptionCredit, nil))
	// The others: a pending pack (with an address), a fulfilled credit.
	w.grant(otherB, 3000)
	w.redeem(otherB, rewardcatalog.Merchandise, &Address{Name: "Bravo B", Line1: "2 Other St", City: "Shelbyville", PostalCode: "54321", Country: "US"})
	w.credit(w.redeem(otherC, rewardcatalog.SubscriptionCredit, nil))
	clk.Advance(time.Hour)
	return w
}

// grant is an admin adjustment as adjustTokens posts it (guard, audit record) plus a daily cap
// counter, as a capped earning writes one.
func (w *eraseWorld) grant(user string, amount int64) {
	w.t.Helper()
	w.n++
	source := fmt.Sprintf("adj:root:key-%d", w.n)
	gk := store.TokenEarnKey(user, RuleAdminAdjustment, source)
	_, _, err := w.d.Post(context.Background(), user, func(_ context.Context, a Account) (Plan, error) {
		now := w.clk.Now()
		day := Day(now)
		capRead, capFound, err := w.d.guards().Cap(context.Background(), user, "lesson.completed", day)
		if err != nil {
			return Plan{}, err
		}
		guard := earnItem{PK: gk.PK, SK: gk.SK, Type: "token-earning", UserID: user, Rule: RuleAdminAdjustment, SourceID: source,
			State: EarnEarned, Tokens: amount, EntrySeq: a.Seq + 1, At: now, UpdatedAt: now}
		rec := audit.Entry{Actor: "root", Action: "tokens.adjust", Target: "user:" + user, RequestID: "req",
			Details: map[string]string{"amount": itoa(amount)}}
		return Plan{Change: Change{Kind: KindAdjust, Rule: RuleAdminAdjustment, Reason: "a grant", SourceID: source, Actor: "root",
			Delta: amount, Earned: amount},
			Extras: []Extra{{Write: Write{Guard: &GuardWrite{Item: guard}}}, {Write: Write{Audit: &rec}},
				{Write: Write{Cap: &CapWrite{UserID: user, Rule: "lesson.completed", Day: day, Exists: capFound, Read: capRead, Earned: capRead + 1}}}}}, nil
	})
	if err != nil {
		w.t.Fatalf("grant %s: %v", user, err)
	}
	w.clk.Advance(time.Minute)
}

func (w *eraseWorld) profile(user, name string) {
	w.t.Helper()
	out := false
	if _, _, err := w.d.Post(context.Background(), user, func(context.Context, Account) (Plan, error) {
		return Plan{Change: Change{Kind: KindProfile, DisplayName: &name, OptOut: &out}}, nil
	}); err != nil {
		w.t.Fatal(err)
	}
}

func (w *eraseWorld) redeem(user, reward string, ship *Address) Redemption {
	w.t.Helper()
	email := user + "@example.com"
	if user == subj {
		email = subjEmail
	}
	red, err := w.d.CreateRedemption(context.Background(), user, email, RedemptionRequest{RewardID: reward, Shipping: ship}, "req")
	if err != nil {
		w.t.Fatalf("redeem %s: %v", reward, err)
	}
	w.clk.Advance(time.Minute)
	return red
}

func (w *eraseWorld) approve(red Redemption) Redemption {
	w.t.Helper()
	n, err := w.d.Transition(context.Background(), red, ActApprove, "root", "req", nil)
	if err != nil {
		w.t.Fatal(err)
	}
	return n
}

func (w *eraseWorld) fulfilManual(red Redemption) {
	w.t.Helper()
	if _, err := w.d.Transition(context.Background(), red, ActFulfil, "root", "req", func(n *Redemption) { n.Note = "tracking 1Z999 for " + subjName }); err != nil {
		w.t.Fatal(err)
	}
}

func (w *eraseWorld) cancel(red Redemption) {
	w.t.Helper()
	if _, err := w.d.Transition(context.Background(), red, ActCancel, red.UserID, "req", nil); err != nil {
		w.t.Fatal(err)
	}
}

// credit approves a credit (the claim) and fulfils it as the redeem route does after Stripe
// credited the customer: rwd.credit is posted in the same transaction.
func (w *eraseWorld) credit(red Redemption) {
	w.t.Helper()
	ctx := context.Background()
	c, err := w.d.Claim(ctx, red, ActApprove, "root", "req", time.Minute, nil)
	if err != nil {
		w.t.Fatal(err)
	}
	w.n++
	if _, err := w.d.Transition(ctx, c, ActFulfil, "root", "req", stripeCredited(fmt.Sprintf("cbtxn_%d", w.n))); err != nil {
		w.t.Fatal(err)
	}
}

// approvedCredit leaves a credit approved with its Stripe step failed (the claim ended): the
// redeem routes must finish it (a hold for the erasure).
func (w *eraseWorld) approvedCredit(user string) Redemption {
	w.t.Helper()
	ctx := context.Background()
	c, err := w.d.Claim(ctx, w.redeem(user, rewardcatalog.SubscriptionCredit, nil), ActApprove, "root", "req", time.Minute, nil)
	if err != nil {
		w.t.Fatal(err)
	}
	n, err := w.d.UpdateRedemption(ctx, c, func(n *Redemption) {
		n.FulfilmentError, n.FulfilmentAttempts = "stripe did not answer", 1
		n.EndClaim(w.clk.Now())
	})
	if err != nil {
		w.t.Fatal(err)
	}
	return n
}

// ----- reading the table -----

// restore makes the table exactly snap again.
func restore(t *testing.T, s *store.Store, snap map[string]map[string]types.AttributeValue) {
	t.Helper()
	ctx := context.Background()
	for k, it := range privacytest.Items(t, s) {
		if _, ok := snap[k]; ok {
			continue
		}
		if err := s.Transact(ctx, []types.TransactWriteItem{{Delete: &types.Delete{Key: map[string]types.AttributeValue{"PK": it["PK"], "SK": it["SK"]}}}}); err != nil {
			t.Fatal(err)
		}
	}
	for _, it := range snap {
		if _, err := s.DB.PutItem(ctx, &dynamodb.PutItemInput{TableName: &s.Table, Item: it}); err != nil {
			t.Fatal(err)
		}
	}
}

// aggregate reports the items every user's movements add to (histograms, metrics, the audit
// trail, the journal): checked by the invariants, not item by item.
func aggregate(key string) bool {
	for _, p := range []string{"LBHIST", "TOKMETRICS", "AUDIT", "JRNL", "JOURNAL", "BOOKS", "LEDGER#", "DAYCTR"} {
		if strings.HasPrefix(key, p) {
			return true
		}
	}
	return false
}

// ----- invariants -----

type rewardsInvariants struct {
	Accounts    map[string][3]int64 // balance, held, available
	Outstanding int64               // Σ of the gauges
	Boards      map[string][]leaderboard.Ranked
	Histograms  map[string]leaderboard.Histogram
	Trial       journal.TrialBalance
}

func (w *eraseWorld) invariants() rewardsInvariants {
	t, ctx := w.t, context.Background()
	t.Helper()
	inv := rewardsInvariants{Accounts: map[string][3]int64{}, Boards: map[string][]leaderboard.Ranked{}, Histograms: map[string]leaderboard.Histogram{}}
	var sum int64
	for _, u := range []string{subj, otherB, otherC} {
		a, err := w.d.Account(ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		var entries []Entry
		for cursor := ""; ; {
			page, next, err := w.d.history().Entries(ctx, u, 100, cursor)
			if err != nil {
				t.Fatal(err)
			}
			entries = append(entries, page...)
			if cursor = next; next == "" {
				break
			}
		}
		sort.Slice(entries, func(i, j int) bool { return entries[i].Seq < entries[j].Seq })
		// balance = Σ entries (and every running sum) for every account.
		if err := Verify(a, entries); err != nil {
			t.Errorf("%s: %v", u, err)
		}
		inv.Accounts[u] = [3]int64{a.Balance, a.Held, a.Available}
		sum += a.Balance
	}
	gauges, err := w.d.metrics().Gauges(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range gauges {
		inv.Outstanding += g.Outstanding
	}
	if inv.Outstanding != sum {
		t.Errorf("token gauges say %d outstanding, the accounts %d", inv.Outstanding, sum)
	}
	for _, b := range append(append([]string(nil), w.weeks...), leaderboard.Key(leaderboard.All, w.clk.Now())) {
		top, _, err := w.d.GlobalTop(ctx, b, 50)
		if err != nil {
			t.Fatal(err)
		}
		inv.Boards[b] = top
		h, err := w.d.leaderboards().Histogram(ctx, b)
		if err != nil {
			t.Fatal(err)
		}
		inv.Histograms[b] = h
	}
	tb, err := journal.Repo{S: w.s}.TrialBalance(ctx, w.clk.Now().Add(24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range tb.Currencies {
		if !c.Balanced {
			t.Errorf("trial balance of %s does not balance: %+v", c.Currency, c)
		}
	}
	inv.Trial = tb
	return inv
}

// ----- running the eraser -----

func (w *eraseWorld) eraser(s *store.Store) privacy.Eraser {
	return PersonalDataEraser(privacy.Reader{S: s}, (&Deps{Clock: w.clk, Store: s}).With(NewRepo(s)))
}

// TestEraseRewardsKeepsEveryInvariant erases the subject: the accounts' ledgers, the token gauges,
// the journal's trial balance and the others' places on every board are as before (the boards and
// histograms without the subject), every other user's item is byte-identical, the subject's name,
// e-mail and address are nowhere in the table, and what is kept is tied to the pseudonym. A second
// run changes nothing.
func TestEraseRewardsKeepsEveryInvariant(t *testing.T) {
	w := newEraseWorld(t)
	ctx := context.Background()
	before := w.invariants()
	snap := privacytest.Items(t, w.s)
	subjBefore, _ := w.d.Account(ctx, subj)
	if subjBefore.Held != 2*2000+500 || subjBefore.Available <= 0 {
		t.Fatalf("the world is not what the test expects: %+v", subjBefore)
	}

	changed, holds, _, err := privacytest.Run(ctx, w.eraser(w.s), erasedSubject, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(holds) != 0 || changed == 0 {
		t.Fatalf("changed %d, holds %+v", changed, holds)
	}
	after := w.invariants()
	erased := privacytest.Items(t, w.s)

	// The subject's tokens: open redemptions declined (their holds released), everything forfeited.
	a, _ := w.d.Account(ctx, subj)
	if a.Balance != 0 || a.Held != 0 || a.Available != 0 || a.DisplayName != "" || !a.OptOut || a.ErasedAs != pseudonym {
		t.Errorf("subject's account after erasure: %+v", a)
	}
	last, _, _ := w.d.history().Entries(ctx, subj, 1, "")
	if len(last) != 1 || last[0].Kind != KindForfeit || last[0].Delta != -(subjBefore.Available+subjBefore.Held) || last[0].Actor != privacy.ActorErasure {
		t.Errorf("last entry %+v, want a forfeit of %d", last, subjBefore.Available+subjBefore.Held)
	}
	for _, u := range []string{otherB, otherC} {
		if after.Accounts[u] != before.Accounts[u] {
			t.Errorf("%s's account moved: %v → %v", u, before.Accounts[u], after.Accounts[u])
		}
	}
	if after.Outstanding != before.Outstanding-subjBefore.Balance {
		t.Errorf("outstanding %d → %d, the subject held %d", before.Outstanding, after.Outstanding, subjBefore.Balance)
	}
	if !reflect.DeepEqual(after.Trial, before.Trial) {
		t.Errorf("trial balance changed:\n%+v\n%+v", before.Trial, after.Trial)
	}
	// Boards: the others in the order they had, ranked among themselves; histograms without the
	// subject (who was on every board).
	for b, top := range before.Boards {
		var rows []leaderboard.Row
		var subjScore int64 = -1
		for _, r := range top {
			if r.UserID == subj {
				subjScore = r.Score
				continue
			}
			rows = append(rows, r.Row)
		}
		if subjScore < 0 {
			t.Errorf("board %s: the subject was not on it before erasure", b)
		}
		want := leaderboard.Rank(rows)
		if !reflect.DeepEqual(stripKeys(after.Boards[b]), stripKeys(want)) {
			t.Errorf("board %s after erasure:\n%+v\nwant\n%+v", b, after.Boards[b], want)
		}
		h := leaderboard.Histogram{}
		for k, v := range before.Histograms[b] {
			h[k] = v
		}
		h[leaderboard.Bucket(subjScore)]--
		if !sameHistogram(after.Histograms[b], h) {
			t.Errorf("histogram %s: %v, want %v", b, after.Histograms[b], h)
		}
	}
	// Every other user's item byte-identical; nothing of the subject's left in the table.
	mine := store.UserPK(subj) + "|"
	for k, it := range snap {
		if strings.HasPrefix(k, mine) || aggregate(k) {
			continue
		}
		if !reflect.DeepEqual(erased[k], it) {
			t.Errorf("%s changed or went:\n%v\n%v", k, it, erased[k])
		}
	}
	for k, it := range erased {
		if _, was := snap[k]; !was && !strings.HasPrefix(k, mine) && !aggregate(k) {
			t.Errorf("erasure wrote %s outside the subject's partition: %v", k, it)
		}
		var m map[string]any
		_ = attributevalue.UnmarshalMap(it, &m)
		text := fmt.Sprint(m)
		for _, p := range []string{subjName, "Zelda", subjEmail, "Quartz Lane"} {
			if strings.Contains(text, p) {
				t.Errorf("%s still holds %q: %s", k, p, text)
			}
		}
		if strings.HasPrefix(k, mine) {
			checkErasedItem(t, k, m)
		}
		if strings.HasPrefix(k, "AUDIT") && m["actor"] == privacy.ActorErasure {
			if m["target"] != erasedSubject.PseudonymTarget() || m["requestId"] != eraseReqID || strings.Contains(text, subj) {
				t.Errorf("erasure's audit record %s: %s", k, text)
			}
		}
	}

	// Idempotent: a second run changes nothing, the table is identical.
	changed, holds, _, err = privacytest.Run(ctx, w.eraser(w.s), erasedSubject, "")
	if err != nil || changed != 0 || len(holds) != 0 {
		t.Fatalf("second run: changed %d, holds %v, err %v", changed, holds, err)
	}
	if again := privacytest.Items(t, w.s); !reflect.DeepEqual(again, erased) {
		t.Error("the second run changed the table")
	}
}

// checkErasedItem: what is left in the subject's partition is kept for the pseudonym (accounts,
// entries, guards, redemptions); scores, caps, follows and their count are gone.
func checkErasedItem(t *testing.T, k string, m map[string]any) {
	t.Helper()
	switch m["type"] {
	case "token-account", "token-entry", "token-earning":
		if m["erasedAs"] != pseudonym {
			t.Errorf("%s kept without erasedAs: %v", k, m)
		}
	case "redemption":
		if m["erasedAs"] != pseudonym || m["shipping"] != nil || m["note"] != nil || m["email"] != erasedSubject.PseudonymEmail() {
			t.Errorf("redemption %s: %v", k, m)
		}
		if s := m["status"]; s == string(Pending) || s == string(Approved) {
			t.Errorf("redemption %s still %s", k, s)
		}
	default:
		t.Errorf("%s (%v) is left in the subject's partition", k, m["type"])
	}
}

func stripKeys(rows []leaderboard.Ranked) []leaderboard.Ranked {
	out := make([]leaderboard.Ranked, len(rows))
	for i, r := range rows {
		r.SortKey = ""
		out[i] = r
	}
	return out
}

func sameHistogram(a, b leaderboard.Histogram) bool {
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	for k, v := range b {
		if a[k] != v {
			return false
		}
	}
	return true
}

// comparable is the table with what differs between two correct runs left out: the random write
// ids, the ids of the entries the erasure writes, and the audit trail (random record ids, hash
// chain), compared as the multiset of what its records say.
func comparable(t *testing.T, s *store.Store) (map[string]map[string]any, []string) {
	t.Helper()
	out := map[string]map[string]any{}
	var auditSays []string
	for k, it := range privacytest.Items(t, s) {
		var m map[string]any
		if err := attributevalue.UnmarshalMap(it, &m); err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(k, "AUDIT") {
			if m["actor"] != nil {
				auditSays = append(auditSays, fmt.Sprint(m["actor"], m["action"], m["target"], m["requestId"], m["details"]))
			}
			continue
		}
		delete(m, "writeId")
		if m["type"] == "token-entry" {
			delete(m, "id")
		}
		out[k] = m
	}
	sort.Strings(auditSays)
	return out, auditSays
}

// TestEraseRewardsResumesAfterAFailure fails the erasure at its n-th write (for several n), resumes
// from the last cursor it returned, and ends in the state an uninterrupted run reaches.
func TestEraseRewardsResumesAfterAFailure(t *testing.T) {
	w := newEraseWorld(t)
	ctx := context.Background()
	snap := privacytest.Items(t, w.s)
	if _, _, _, err := privacytest.Run(ctx, w.eraser(w.s), erasedSubject, ""); err != nil {
		t.Fatal(err)
	}
	want, wantAudit := comparable(t, w.s)
	failAts := []int64{1, 2, 4, 7, 9, 13, 18}
	if testing.Short() {
		failAts = []int64{2, 9}
	}
	for _, n := range failAts {
		restore(t, w.s, snap)
		broken := *w.s
		broken.DB = &storetest.FailingWrites{DynamoAPI: w.s.DB, FailAt: n}
		_, _, last, err := privacytest.Run(ctx, w.eraser(&broken), erasedSubject, "")
		if !errors.Is(err, storetest.ErrInjected) {
			t.Fatalf("fail at write %d: err %v (the erasure has fewer writes?)", n, err)
		}
		if _, _, _, err := privacytest.Run(ctx, w.eraser(w.s), erasedSubject, last); err != nil {
			t.Fatalf("resume after write %d from %q: %v", n, last, err)
		}
		got, gotAudit := comparable(t, w.s)
		if !reflect.DeepEqual(got, want) {
			for k := range want {
				if !reflect.DeepEqual(got[k], want[k]) {
					t.Errorf("fail at write %d: %s is\n%v\nwant\n%v", n, k, got[k], want[k])
				}
			}
			for k := range got {
				if _, ok := want[k]; !ok {
					t.Errorf("fail at write %d: %s should not exist", n, k)
				}
			}
		}
		if !reflect.DeepEqual(gotAudit, wantAudit) {
			t.Errorf("fail at write %d: audit records\n%v\nwant\n%v", n, gotAudit, wantAudit)
		}
	}
}

// TestEraseRewardsHoldsAnApprovedCreditAtStripe: an approved credit (its Stripe step failed) is
// left as it is with a hold, the rest is erased and the available tokens forfeited; once an admin
// rejected it (revoked at Stripe), a re-run erases it and forfeits the tokens it gave back.
func TestEraseRewardsHoldsAnApprovedCreditAtStripe(t *testing.T) {
	w := newEraseWorld(t)
	ctx := context.Background()
	held := w.approvedCredit(subj)
	heldKey := store.RedemptionKey(subj, held.ID)
	rawBefore := privacytest.Items(t, w.s)[heldKey.PK+"|"+heldKey.SK]

	_, holds, _, err := privacytest.Run(ctx, w.eraser(w.s), erasedSubject, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(holds) != 1 || holds[0].Reason != HoldRedemptionAtStripe || holds[0].Ref != "redemption:"+held.ID {
		t.Fatalf("holds %+v", holds)
	}
	if raw := privacytest.Items(t, w.s)[heldKey.PK+"|"+heldKey.SK]; !reflect.DeepEqual(raw, rawBefore) {
		t.Errorf("the held redemption changed:\n%v\n%v", rawBefore, raw)
	}
	a, _ := w.d.Account(ctx, subj)
	if a.Held != held.Cost || a.Available != 0 || a.Balance != held.Cost {
		t.Errorf("account with a held credit: %+v", a)
	}
	// The hold ends: the admin revokes at Stripe and rejects.
	c, err := w.d.Claim(ctx, held, ActReject, "root", "req", time.Minute, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.d.Transition(ctx, c, ActReject, "root", "req", nil); err != nil {
		t.Fatal(err)
	}
	// The re-run changes two records: the redemption and the account (forfeiting the tokens the
	// rejection gave back). The entries written meanwhile (the admin's unhold, the forfeiture) were
	// tied to the pseudonym when written: the account was erased.
	changed, holds, _, err := privacytest.Run(ctx, w.eraser(w.s), erasedSubject, "")
	if err != nil || len(holds) != 0 || changed != 2 {
		t.Fatalf("re-run: changed %d, holds %v, err %v", changed, holds, err)
	}
	a, _ = w.d.Account(ctx, subj)
	r, _ := w.d.GetRedemption(ctx, subj, held.ID)
	if a.Balance != 0 || a.Held != 0 || r.ErasedAs != pseudonym || r.Status != Rejected {
		t.Errorf("after the hold ended: account %+v, redemption %+v", a, r)
	}
	w.invariants() // the ledgers still verify
	for _, e := range mustEntries(t, w.d, subj) {
		if e.ErasedAs != pseudonym {
			t.Errorf("entry %d of the erased account is not tied to the pseudonym", e.Seq)
		}
	}
}

func mustEntries(t *testing.T, d *Deps, user string) []Entry {
	t.Helper()
	var out []Entry
	for cursor := ""; ; {
		page, next, err := d.history().Entries(context.Background(), user, 100, cursor)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, page...)
		if cursor = next; next == "" {
			sort.Slice(out, func(i, j int) bool { return out[i].Seq < out[j].Seq })
			return out
		}
	}
}

// TestErasedAccountForfeitsPendingTokensAtRelease: a purchase's pending tokens stay pending through
// the erasure (a refund may still cancel them) and are forfeited, not released, when the window
// ends: the ledger verifies, the account ends at zero, the gauges and day counters agree.
func TestErasedAccountForfeitsPendingTokensAtRelease(t *testing.T) {
	w := newEraseWorld(t)
	ctx := context.Background()
	release := w.clk.Now().Add(14 * 24 * time.Hour)
	out, _, err := w.d.earner().Earn(ctx, Earning{UserID: subj, Rule: RuleCoursePurchased, SourceID: "ch_erase_1",
		ReleaseAt: release, AmountCents: 4000, Actor: "system:facts"})
	if err != nil || out != OutPending {
		t.Fatalf("earn: %v %v", out, err)
	}
	if _, _, _, err := privacytest.Run(ctx, w.eraser(w.s), erasedSubject, ""); err != nil {
		t.Fatal(err)
	}
	a, _ := w.d.Account(ctx, subj)
	if a.Balance != 0 || a.Pending != 50 {
		t.Fatalf("after erasure: %+v", a)
	}
	w.clk.Set(release.Add(time.Hour))
	rep, err := RunReleasePendingTokens(ctx, w.d)
	if err != nil || rep.Released != 1 {
		t.Fatalf("release: %+v %v", rep, err)
	}
	a, _ = w.d.Account(ctx, subj)
	entries := mustEntries(t, w.d, subj)
	last := entries[len(entries)-1]
	if a.Balance != 0 || a.Pending != 0 || a.Available != 0 || last.Kind != KindForfeit || last.PendingDelta != -50 ||
		last.Delta != 0 || last.ErasedAs != pseudonym {
		t.Fatalf("after the release: account %+v, last entry %+v", a, last)
	}
	w.invariants() // every ledger verifies; the gauges are Σ balances
	gauges, _ := w.d.metrics().Gauges(ctx)
	var pending int64
	for _, g := range gauges {
		pending += g.Pending
	}
	var pendingAll int64
	for _, u := range []string{subj, otherB, otherC} {
		acct, _ := w.d.Account(ctx, u)
		pendingAll += acct.Pending
	}
	if pending != pendingAll {
		t.Errorf("pending gauge %d, accounts %d", pending, pendingAll)
	}
	// Erasing again changes nothing (the release's entry was tied when written).
	if changed, _, _, err := privacytest.Run(ctx, w.eraser(w.s), erasedSubject, ""); err != nil || changed != 0 {
		t.Errorf("re-run: changed %d, %v", changed, err)
	}
}
