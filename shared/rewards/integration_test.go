//go:build integration

package rewards

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/liberation/monetization/infra/local/localtest"
	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/clock"
	"github.com/liberation/monetization/shared/facts"
	"github.com/liberation/monetization/shared/manifest"
	"github.com/liberation/monetization/shared/queue"
	"github.com/liberation/monetization/shared/rewards/leaderboard"
	"github.com/liberation/monetization/shared/rewards/tokenmetrics"
	"github.com/liberation/monetization/shared/store"
)

func TestMain(m *testing.M) { localtest.Main(m) }

// newDeps gives a test the area's Deps on a fresh table, with a settable clock set to a Monday.
func newDeps(t *testing.T) (*Deps, *clock.Fake) {
	t.Helper()
	env := localtest.New(t)
	clk := env.WithFakeClock()
	clk.Set(time.Date(2026, 2, 2, 9, 0, 0, 0, time.UTC))
	d := NewDeps(env.RuntimeFor(t, manifest.MustByName("apply-learning-events")))
	return d, clk
}

func mustAccount(t *testing.T, d *Deps, user string) Account {
	t.Helper()
	a, err := d.Account(context.Background(), user)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// allEntries reads a user's whole ledger in sequence order.
func allEntries(t *testing.T, d *Deps, user string) []Entry {
	t.Helper()
	k := store.TokenAccountKey(user)
	items, err := store.QueryAll[entryItem](context.Background(), d.Store, &dynamodb.QueryInput{
		KeyConditionExpression: aws.String("PK = :pk AND begins_with(SK, :p)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": store.S(k.PK),
			":p": store.S(store.TokenEntryPrefix)},
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		t.Fatal(err)
	}
	out := make([]Entry, len(items))
	for i, it := range items {
		out[i] = it.entry()
	}
	return out
}

func learning(typ, user, course, lesson, id string, at time.Time) queue.Message {
	p, _ := json.Marshal(LearningEvent{EventID: id, Time: at, Source: LearningSource,
		Detail: LearningDetail{UserID: user, CourseID: course, LessonID: lesson}})
	return queue.Message{Type: typ, DedupeID: id, Payload: p}
}

func fact(t *testing.T, typ string, payload any) queue.Message {
	t.Helper()
	p, err := json.Marshal(payload)
	if err != nil {
		t.Fatal(err)
	}
	return queue.Message{Type: typ, DedupeID: "x", Payload: p}
}

func TestLearningEventEarnsOnceAndDailyCapStopsAtFifty(t *testing.T) {
	d, clk := newDeps(t)
	ctx := context.Background()
	now := clk.Now()
	msg := learning(EventLessonCompleted, "ana", "crs_1", "les_1", "evt-1", now)
	for range 3 {
		if err := d.earner().ApplyLearningEvent(ctx, msg); err != nil {
			t.Fatal(err)
		}
	}
	if a := mustAccount(t, d, "ana"); a.Balance != 5 || a.Seq != 1 {
		t.Fatalf("after 3 deliveries: %+v", a)
	}
	// The same lesson under another event id earns nothing either (once per lesson).
	if err := d.earner().ApplyLearningEvent(ctx, learning(EventLessonCompleted, "ana", "crs_1", "les_1", "evt-1b", now)); err != nil {
		t.Fatal(err)
	}
	for i := 2; i <= 12; i++ {
		if err := d.earner().ApplyLearningEvent(ctx, learning(EventLessonCompleted, "ana", "crs_1", fmt.Sprintf("les_%d", i), fmt.Sprintf("evt-%d", i), now)); err != nil {
			t.Fatal(err)
		}
	}
	a := mustAccount(t, d, "ana")
	if a.Balance != 50 || a.Seq != 10 || a.EarnedThisWeek(now) != 50 {
		t.Fatalf("12 lessons in a day: %+v", a)
	}
	// The next UTC day has a fresh cap.
	tomorrow := time.Date(2026, 2, 3, 0, 0, 1, 0, time.UTC)
	clk.Set(tomorrow)
	if err := d.earner().ApplyLearningEvent(ctx, learning(EventLessonCompleted, "ana", "crs_1", "les_13", "evt-13", tomorrow)); err != nil {
		t.Fatal(err)
	}
	// A course completion is not capped, and counts once per course.
	for range 2 {
		if err := d.earner().ApplyLearningEvent(ctx, learning(EventCourseCompleted, "ana", "crs_1", "", "evt-c", tomorrow)); err != nil {
			t.Fatal(err)
		}
	}
	if a := mustAccount(t, d, "ana"); a.Balance != 155 || a.Seq != 12 {
		t.Fatalf("next day: %+v", a)
	}
	// Malformed events are dropped, not retried, and change nothing.
	for _, bad := range []queue.Message{
		learning(EventLessonCompleted, "ana", "crs_1", "", "evt-x", tomorrow),
		learning(EventLessonCompleted, "", "crs_1", "les_99", "evt-y", tomorrow),
		{Type: EventCourseCompleted, DedupeID: "z", Payload: json.RawMessage(`{"detail":"nope"}`)},
	} {
		if err := d.earner().ApplyLearningEvent(ctx, bad); err != nil {
			t.Fatalf("malformed event must be dropped: %v", err)
		}
	}
	if err := Verify(mustAccount(t, d, "ana"), allEntries(t, d, "ana")); err != nil {
		t.Fatal(err)
	}
}

func TestPurchaseTokensArePendingUntilTheWindowEnds(t *testing.T) {
	d, clk := newDeps(t)
	ctx := context.Background()
	t0 := clk.Now()
	buy := func(user, id string) {
		t.Helper()
		if err := d.earner().ApplyFact(ctx, fact(t, facts.CoursePurchased, facts.CoursePurchasedFact{UserID: user, CourseID: "crs_1",
			PurchaseID: id, AmountCents: 4900, Currency: "usd", PurchasedAt: t0, RefundWindowEndsAt: t0.Add(RefundWindow)})); err != nil {
			t.Fatal(err)
		}
	}
	refund := func(user, id string, at time.Time) {
		t.Helper()
		if err := d.earner().ApplyFact(ctx, fact(t, facts.CourseRefunded, facts.CourseRefundedFact{UserID: user, CourseID: "crs_1",
			PurchaseID: id, RefundID: "re_" + id, AmountCents: 4900, Full: true, RefundedAt: at})); err != nil {
			t.Fatal(err)
		}
	}
	buy("ben", "pur_keep")
	buy("ben", "pur_keep") // redelivered
	buy("ben", "pur_refund")
	refund("ben", "pur_refund", t0.Add(24*time.Hour))
	refund("ben", "pur_refund", t0.Add(24*time.Hour)) // redelivered
	refund("ben", "pur_early", t0)                    // the refund arrives before its purchase …
	buy("ben", "pur_early")                           // … which then earns nothing
	if err := d.earner().ApplyFact(ctx, fact(t, facts.CoursePurchased, facts.CoursePurchasedFact{UserID: "ben", CourseID: "crs_free",
		PurchaseID: "pur_free", AmountCents: 0, PurchasedAt: t0})); err != nil {
		t.Fatal(err)
	}
	a := mustAccount(t, d, "ben")
	if a.Pending != 50 || a.Balance != 0 || a.LifetimeEarned != 0 {
		t.Fatalf("inside the window: %+v", a)
	}
	// The job before the window ends releases nothing; after, the kept purchase only; again, nothing.
	clk.Set(t0.Add(RefundWindow - time.Minute))
	if rep, err := RunReleasePendingTokens(ctx, d); err != nil || rep.Released != 0 {
		t.Fatalf("early run: %+v %v", rep, err)
	}
	clk.Set(t0.Add(RefundWindow + time.Hour))
	rep, err := RunReleasePendingTokens(ctx, d)
	if err != nil || rep.Released != 1 || rep.Due != 1 {
		t.Fatalf("run: %+v %v", rep, err)
	}
	if rep, err := RunReleasePendingTokens(ctx, d); err != nil || rep.Due != 0 {
		t.Fatalf("second run: %+v %v", rep, err)
	}
	a = mustAccount(t, d, "ben")
	if a.Pending != 0 || a.Balance != 50 || a.Available != 50 || a.LifetimeEarned != 50 {
		t.Fatalf("after the window: %+v", a)
	}
	// A refund dated after the window changes nothing; one dated inside it but learnt late takes
	// the tokens back.
	refund("ben", "pur_keep", t0.Add(RefundWindow+time.Minute))
	if a := mustAccount(t, d, "ben"); a.Balance != 50 {
		t.Fatalf("refund after the window: %+v", a)
	}
	refund("ben", "pur_keep", t0.Add(RefundWindow-time.Minute))
	a = mustAccount(t, d, "ben")
	if a.Balance != 0 || a.LifetimeEarned != 0 {
		t.Fatalf("late refund inside the window: %+v", a)
	}
	entries := allEntries(t, d, "ben")
	var kinds []Kind
	for _, e := range entries {
		kinds = append(kinds, e.Kind)
	}
	if fmt.Sprint(kinds) != "[pending pending cancel release clawback]" {
		t.Fatalf("ledger kinds %v", kinds)
	}
	if err := Verify(a, entries); err != nil {
		t.Fatal(err)
	}
}

func TestRenewalAndReviewFacts(t *testing.T) {
	d, clk := newDeps(t)
	ctx := context.Background()
	for _, m := range []queue.Message{
		fact(t, facts.SubscriptionRenewed, facts.SubscriptionRenewedFact{UserID: "cai", Tier: "pro", InvoiceID: "in_1", PaidAt: clk.Now()}),
		fact(t, facts.SubscriptionRenewed, facts.SubscriptionRenewedFact{UserID: "cai", Tier: "pro", InvoiceID: "in_1", PaidAt: clk.Now()}),
		fact(t, facts.SubscriptionRenewed, facts.SubscriptionRenewedFact{UserID: "cai", Tier: "enterprise", InvoiceID: "in_2", PaidAt: clk.Now()}),
		fact(t, facts.SubscriptionRenewed, facts.SubscriptionRenewedFact{UserID: "cai", Tier: "free", InvoiceID: "in_3", PaidAt: clk.Now()}),
		fact(t, facts.ReviewPublished, facts.ReviewPublishedFact{UserID: "cai", CourseID: "crs_1", ReviewID: "rev_1"}),
		fact(t, facts.ReviewPublished, facts.ReviewPublishedFact{UserID: "cai", CourseID: "crs_1", ReviewID: "rev_2"}), // same course
		{Type: facts.ReviewPublished, DedupeID: "bad", Payload: json.RawMessage(`{"userId":"cai"}`)},
	} {
		if err := d.earner().ApplyFact(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	if a := mustAccount(t, d, "cai"); a.Balance != 80 || a.Seq != 3 {
		t.Fatalf("20 + 50 + 10: %+v", a)
	}
}

func TestHoldsNeverTakeAvailableBelowZero(t *testing.T) {
	d, _ := newDeps(t)
	ctx := context.Background()
	grant(t, d, "dee", 1200)
	red, err := d.CreateRedemption(ctx, "dee", "dee@example.com", RedemptionRequest{RewardID: "subscription-credit-5"}, "req-1")
	if err != nil {
		t.Fatal(err)
	}
	_, err = d.CreateRedemption(ctx, "dee", "dee@example.com", RedemptionRequest{RewardID: "course-coupon-20"}, "req-2")
	if !errors.Is(err, ErrInsufficient) || apperr.PublicMessage(err) != "not enough tokens: 200 available, 500 needed" {
		t.Fatalf("second hold: %v", err)
	}
	list, _, err := d.workflow().ListRedemptions(ctx, "dee", 10, "")
	if err != nil || len(list) != 1 || list[0].ID != red.ID || list[0].Status != Pending {
		t.Fatalf("nothing of the refused hold may be stored: %+v %v", list, err)
	}
	// Cancel releases; a second cancel is a 409; another user's redemption is not found.
	got, _ := d.GetRedemption(ctx, "dee", red.ID)
	if _, err := d.Transition(ctx, got, ActCancel, "dee", "req-3", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Transition(ctx, got, ActCancel, "dee", "req-4", nil); apperr.CodeOf(err) != apperr.Conflict {
		t.Fatalf("second cancel of a stale read: %v", err)
	}
	if _, err := d.GetRedemption(ctx, "eve", red.ID); apperr.CodeOf(err) != apperr.NotFound {
		t.Fatalf("another user's redemption: %v", err)
	}
	a := mustAccount(t, d, "dee")
	if a.Held != 0 || a.Available != 1200 {
		t.Fatalf("after cancel: %+v", a)
	}
	if err := Verify(a, allEntries(t, d, "dee")); err != nil {
		t.Fatal(err)
	}
}

func grant(t *testing.T, d *Deps, user string, n int64) {
	t.Helper()
	_, _, err := d.Post(context.Background(), user, func(context.Context, Account) (Plan, error) {
		return Plan{Change: Change{Kind: KindAdjust, Rule: RuleAdminAdjustment, Reason: "test", Delta: n, Earned: n}}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// Many concurrent holds against one account: exactly as many as the balance covers succeed, the
// rest are refused with ErrInsufficient, and the ledger adds up.
func TestConcurrentHoldsAreExact(t *testing.T) {
	d, _ := newDeps(t)
	grant(t, d, "fay", 1500) // covers 3 coupons
	const n = 16
	errs := make(chan error, n)
	for range n {
		go func() {
			_, err := d.CreateRedemption(context.Background(), "fay", "", RedemptionRequest{RewardID: "course-coupon-20"}, "r")
			errs <- err
		}()
	}
	held, refused := 0, 0
	for range n {
		switch err := <-errs; {
		case err == nil:
			held++
		case errors.Is(err, ErrInsufficient):
			refused++
		default:
			t.Errorf("unexpected: %v", err)
		}
	}
	a := mustAccount(t, d, "fay")
	if held != 3 || refused != n-3 || a.Held != 1500 || a.Available != 0 || a.Balance != 1500 {
		t.Fatalf("held %d, refused %d, account %+v", held, refused, a)
	}
	if err := Verify(a, allEntries(t, d, "fay")); err != nil {
		t.Fatal(err)
	}
}

// The ledger invariant on DynamoDB: after a seeded run of earnings (with replays and caps), holds,
// cancellations, rejections, fulfilments, releases, refunds and adjustments, every account equals
// the sum of its entries, and the token metrics equal the sums over all accounts.
func TestSeededRunOnDynamoDB(t *testing.T) {
	d, clk := newDeps(t)
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(11, 29))
	users := []string{"u1", "u2", "u3"}
	t0 := clk.Now()
	var purchases []facts.CoursePurchasedFact
	var reds []Redemption
	for step := 0; step < 150; step++ {
		clk.Advance(time.Duration(rng.IntN(120)) * time.Minute)
		u := users[rng.IntN(len(users))]
		var err error
		switch op := rng.IntN(10); {
		case op < 4:
			err = d.earner().ApplyLearningEvent(ctx, learning(EventLessonCompleted, u, "crs", fmt.Sprintf("l%d", rng.IntN(40)), "e", clk.Now()))
		case op < 5:
			p := facts.CoursePurchasedFact{UserID: u, CourseID: "crs", PurchaseID: fmt.Sprintf("p%d", step), AmountCents: 999,
				PurchasedAt: clk.Now(), RefundWindowEndsAt: clk.Now().Add(72 * time.Hour)}
			purchases = append(purchases, p)
			err = d.earner().ApplyFact(ctx, fact(t, facts.CoursePurchased, p))
		case op < 6 && len(purchases) > 0:
			p := purchases[rng.IntN(len(purchases))]
			err = d.earner().ApplyFact(ctx, fact(t, facts.CourseRefunded, facts.CourseRefundedFact{UserID: p.UserID, PurchaseID: p.PurchaseID,
				RefundID: fmt.Sprintf("r%d", rng.IntN(3)), AmountCents: int64(1 + rng.IntN(999)), PurchaseAmountCents: 999,
				Dispute: rng.IntN(8) == 0, RefundedAt: p.PurchasedAt.Add(time.Duration(rng.IntN(100)) * time.Hour)}))
		case op < 7:
			var red Redemption
			red, err = d.CreateRedemption(ctx, u, "", RedemptionRequest{RewardID: "course-coupon-20"}, "r")
			if errors.Is(err, ErrInsufficient) {
				err = nil
			} else if err == nil {
				reds = append(reds, red)
			}
		case op < 8 && len(reds) > 0:
			i := rng.IntN(len(reds))
			cur, gErr := d.GetRedemption(ctx, reds[i].UserID, reds[i].ID)
			if gErr != nil {
				t.Fatal(gErr)
			}
			act := []Action{ActApprove, ActFulfil, ActReject, ActCancel}[rng.IntN(4)]
			if act == ActFulfil || act == ActReject && cur.Status == Approved {
				// A coupon moves so only by the holder of a claim (redeem calls Stripe in between).
				cur, err = d.Claim(ctx, cur, act, "admin", "r", time.Minute, nil)
			}
			if err == nil {
				_, err = d.Transition(ctx, cur, act, "admin", "r", nil)
			}
			if apperr.CodeOf(err) == apperr.Conflict {
				err = nil
			}
		case op < 9:
			_, err = RunReleasePendingTokens(ctx, d)
		default:
			grant(t, d, u, int64(100+rng.IntN(300)))
		}
		if err != nil {
			t.Fatalf("step %d: %v", step, err)
		}
	}
	var sum TokenMetrics
	kinds := map[Kind]int{}
	for _, u := range users {
		a := mustAccount(t, d, u)
		entries := allEntries(t, d, u)
		for _, e := range entries {
			kinds[e.Kind]++
		}
		if err := Verify(a, entries); err != nil {
			t.Fatalf("%s: %v", u, err)
		}
		if len(entries) < 10 {
			t.Fatalf("%s: only %d entries: the run exercised too little", u, len(entries))
		}
		sum.Outstanding += a.Balance
		sum.OutstandingHeld += a.Held
		sum.PendingNow += a.Pending
	}
	if kinds[KindCancel] == 0 || kinds[KindHold] == 0 || kinds[KindRelease] == 0 {
		t.Fatalf("the run exercised too little: %v", kinds)
	}
	m, err := tokenmetrics.ReadFrom(ctx, d.metrics(), d.Clock.Now(), int(clk.Now().Sub(t0).Hours()/24)+2)
	if err != nil {
		t.Fatal(err)
	}
	if m.Outstanding != sum.Outstanding || m.OutstandingHeld != sum.OutstandingHeld || m.PendingNow != sum.PendingNow ||
		m.Issued-m.Redeemed-m.Deducted != m.Outstanding {
		t.Fatalf("metrics %+v, accounts %+v", m, sum)
	}
}

func TestBoardsRankOptOutAndWeekRollover(t *testing.T) {
	d, clk := newDeps(t)
	ctx := context.Background()
	monday := clk.Now()
	earn := func(user string, n int64) {
		t.Helper()
		grant(t, d, user, n)
		clk.Advance(time.Second)
	}
	setProfile := func(user, name string, out bool) {
		t.Helper()
		_, _, err := d.Post(ctx, user, func(context.Context, Account) (Plan, error) {
			return Plan{Change: Change{Kind: KindProfile, DisplayName: &name, OptOut: &out}}, nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	// 40 players so that shards hold several each; scores with ties.
	for i := 0; i < 40; i++ {
		earn(fmt.Sprintf("p%02d", i), int64(10*(i%7)+10))
	}
	setProfile("p06", "Top Six", false)
	setProfile("p13", "Opted Out", true) // p13 scores 70 like p06, p20, p27, p34
	board := leaderboard.Key(leaderboard.Week, clk.Now())
	top, stats, err := d.leaderboards().GlobalTop(ctx, board, 7)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range top {
		got = append(got, fmt.Sprintf("%d:%s:%d", r.Rank, r.UserID, r.Score))
	}
	// Score 70: p06, p20, p27, p34 (p13 opted out) in order of reach; then 60: p05, p12, p19.
	if fmt.Sprint(got) != "[1:p06:70 1:p20:70 1:p27:70 1:p34:70 5:p05:60 5:p12:60 5:p19:60]" {
		t.Fatalf("top 7: %v", got)
	}
	if top[0].DisplayName != "Top Six" || stats.ItemsRead > 7+leaderboard.Shards*4 {
		t.Fatalf("name %q, items read %d", top[0].DisplayName, stats.ItemsRead)
	}
	// Ranks and the histogram leave the opted-out player out.
	ahead, exact, _, err := d.leaderboards().PlayersAhead(ctx, board, 60)
	if err != nil || !exact || ahead != 4 {
		t.Fatalf("ahead of 60: %d %v %v", ahead, exact, err)
	}
	h, err := d.leaderboards().Histogram(ctx, board)
	if err != nil || h.Total() != 39 {
		t.Fatalf("histogram total %d %v", h.Total(), err)
	}
	// Opting back in restores p13 at its old score.
	setProfile("p13", "Back Again", false)
	if h, _ := d.leaderboards().Histogram(ctx, board); h.Total() != 40 {
		t.Fatalf("after opting in: %d", h.Total())
	}
	// Next Monday: the weekly board is empty, the all-time one is not.
	clk.Set(monday.AddDate(0, 0, 7))
	week, _, err := d.leaderboards().GlobalTop(ctx, leaderboard.Key(leaderboard.Week, clk.Now()), 100)
	if err != nil || len(week) != 0 {
		t.Fatalf("new week: %v %v", week, err)
	}
	all, _, err := d.leaderboards().GlobalTop(ctx, leaderboard.Key(leaderboard.All, clk.Now()), 100)
	if err != nil || len(all) != 40 || all[39].Score != 10 {
		t.Fatalf("all-time after the rollover: %d rows %v", len(all), err)
	}
	earn("p00", 5)
	week, _, _ = d.leaderboards().GlobalTop(ctx, leaderboard.Key(leaderboard.Week, clk.Now()), 100)
	if len(week) != 1 || week[0].UserID != "p00" || week[0].Score != 5 {
		t.Fatalf("new week after one earning: %+v", week)
	}
	if a := mustAccount(t, d, "p00"); a.EarnedThisWeek(clk.Now()) != 5 || a.LifetimeEarned != 15 {
		t.Fatalf("account after the rollover: %+v", a)
	}
}

// doubleTx applies every TransactWriteItems twice and answers the second attempt, as the SDK does
// when the first answer is lost (a timeout) and it retries: the retry fails the conditions its own
// first attempt satisfied.
type doubleTx struct{ store.DynamoAPI }

func (d doubleTx) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, opts ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	if _, err := d.DynamoAPI.TransactWriteItems(ctx, in, opts...); err != nil {
		return nil, err
	}
	return d.DynamoAPI.TransactWriteItems(ctx, in, opts...)
}

// A movement whose answer was lost is recognised as committed: one hold, one redemption, no 409.
func TestLostAnswerOfACommittedMoveIsRecognised(t *testing.T) {
	d, _ := newDeps(t)
	grant(t, d, "gus", 1000)
	st := *d.Store
	st.DB = doubleTx{d.Store.DB}
	lossy := *d
	lossy.Store = &st
	ctx := context.Background()
	red, err := lossy.CreateRedemption(ctx, "gus", "", RedemptionRequest{RewardID: "course-coupon-20"}, "r")
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	if _, err := lossy.Transition(ctx, red, ActApprove, "admin", "r", nil); err != nil {
		t.Fatalf("approve: %v", err)
	}
	a := mustAccount(t, d, "gus")
	if a.Held != 500 || a.Available != 500 || a.Seq != 2 {
		t.Fatalf("account %+v", a)
	}
	got, _ := d.GetRedemption(ctx, "gus", red.ID)
	list, _, _ := d.workflow().ListRedemptions(ctx, "gus", 10, "")
	if got.Status != Approved || len(list) != 1 {
		t.Fatalf("redemption %+v, %d stored", got, len(list))
	}
	if err := Verify(a, allEntries(t, d, "gus")); err != nil {
		t.Fatal(err)
	}
}
