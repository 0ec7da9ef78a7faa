package rewards

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/liberation/monetization/shared/clock"
	"github.com/liberation/monetization/shared/ids"
	"github.com/liberation/monetization/shared/rewards/leaderboard"
	"github.com/liberation/monetization/shared/rewards/rewardcatalog"
	"github.com/liberation/monetization/shared/store"
)

type fixedClock struct{ t time.Time }

func (c fixedClock) Now() time.Time { return c.t }

var _ clock.Clock = fixedClock{}

// testRepoContract checks the semantics the area's rules rely on. It runs on memRepo here and on
// dynamoRepo over moto in repo_integration_test.go, so the fake the unit tests use cannot drift.
func testRepoContract(t *testing.T, r Repo) {
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Second)
	run := ids.ULID(now)
	d := (&Deps{Clock: fixedClock{now}}).With(r)
	ana := "ana-" + run

	t.Run("EarnOnceAndStaleAccountWritesNothing", func(t *testing.T) {
		e := Earning{UserID: ana, Rule: RuleCourseCompleted, SourceID: "crs_1", OccurredAt: now}
		if out, _, err := d.Earn(ctx, e); err != nil || out != OutEarned {
			t.Fatalf("earn: %s %v", out, err)
		}
		if out, _, err := d.Earn(ctx, e); err != nil || out != OutDuplicate {
			t.Fatalf("replay: %s %v", out, err)
		}
		a, _ := r.Account(ctx, ana)
		stale := a
		stale.Version--
		n, en, _ := stale.Apply(Change{Kind: KindAdjust, Delta: 5, Earned: 5}, now)
		if err := r.Commit(ctx, Movement{From: stale, To: n, Entry: en, At: now}); !store.IsConditionFailed(err) {
			t.Fatalf("a movement over a stale version: %v", err)
		}
		if got, _ := r.Account(ctx, ana); got != a {
			t.Fatalf("written anyway: %+v", got)
		}
		if list, _, _ := r.Entries(ctx, ana, 10, ""); len(list) != 1 || list[0].Seq != 1 {
			t.Fatalf("entries %+v", list)
		}
	})

	t.Run("FailedWriteIsNamed", func(t *testing.T) {
		a, _ := r.Account(ctx, ana)
		g, _, _ := r.Guard(ctx, ana, RuleCourseCompleted, "crs_1")
		n, en, _ := a.Apply(Change{Kind: KindAdjust, Delta: 5, Earned: 5}, now)
		err := r.Commit(ctx, Movement{From: a, To: n, Entry: en, At: now, Writes: []Write{
			{Audit: nil, Cap: &CapWrite{UserID: ana, Rule: RuleLessonCompleted, Day: Day(now), Earned: 1}},
			{Guard: &GuardWrite{Item: g}}, // created as if absent: it exists
		}})
		var wf *WriteFailed
		if !errors.As(err, &wf) || len(wf.Writes) != 1 || wf.Writes[0] != 1 {
			t.Fatalf("a guard created twice: %v", err)
		}
		if got, _ := r.Account(ctx, ana); got != a {
			t.Fatalf("written anyway: %+v", got)
		}
		if _, found, _ := r.Cap(ctx, ana, RuleLessonCompleted, Day(now)); found {
			t.Fatal("the cap was written beside a failed write")
		}
	})

	t.Run("PendingIsDueThenReleased", func(t *testing.T) {
		p := Earning{UserID: ana, Rule: RuleCoursePurchased, SourceID: "pur_" + run, OccurredAt: now.Add(-40 * 24 * time.Hour),
			ReleaseAt: now.Add(-time.Hour), AmountCents: 4900}
		if out, _, err := d.Earn(ctx, p); err != nil || out != OutPending {
			t.Fatalf("purchase: %s %v", out, err)
		}
		due, _, err := r.DueEarnings(ctx, now, nil, 100)
		if err != nil || !hasGuard(due, p.SourceID) {
			t.Fatalf("due: %+v %v", due, err)
		}
		if due, _, _ := r.DueEarnings(ctx, now.Add(-2*time.Hour), nil, 100); hasGuard(due, p.SourceID) {
			t.Fatal("listed before its release time")
		}
		if out, _, err := d.Release(ctx, ana, p.Rule, p.SourceID); err != nil || out != OutReleased {
			t.Fatalf("release: %s %v", out, err)
		}
		if due, _, _ := r.DueEarnings(ctx, now, nil, 100); hasGuard(due, p.SourceID) {
			t.Fatal("a released earning is still due")
		}
		g, _, _ := r.Guard(ctx, ana, p.Rule, p.SourceID)
		if err := r.WriteGuard(ctx, GuardWrite{Item: g, Read: earnState{Exists: true, Version: g.Version - 1}}); !store.IsConditionFailed(err) {
			t.Fatalf("a guard over a stale version: %v", err)
		}
	})

	t.Run("RedemptionOverItsVersion", func(t *testing.T) {
		if _, _, err := d.Post(ctx, ana, func(context.Context, Account) (Plan, error) {
			return Plan{Change: Change{Kind: KindAdjust, Delta: 1000, Earned: 1000}}, nil
		}); err != nil {
			t.Fatal(err)
		}
		red, err := d.CreateRedemption(ctx, ana, "", RedemptionRequest{RewardID: rewardcatalog.CourseCoupon}, "req")
		if err != nil {
			t.Fatal(err)
		}
		if owner, err := r.RedemptionOwner(ctx, red.ID); err != nil || owner != ana {
			t.Fatalf("owner %q %v", owner, err)
		}
		if _, err := d.UpdateRedemption(ctx, red, func(n *Redemption) { n.Note = "x" }); err != nil {
			t.Fatal(err)
		}
		if _, err := d.UpdateRedemption(ctx, red, func(n *Redemption) { n.Note = "y" }); err == nil {
			t.Fatal("an update over a stale version")
		}
		list, _, err := r.RedemptionsByStatus(ctx, Pending, 100, "")
		if err != nil || !hasRedemption(list, red.ID) {
			t.Fatalf("by status: %v", err)
		}
		mine, _, _ := r.UserRedemptions(ctx, ana, 10, "")
		if len(mine) != 1 || mine[0].Note != "x" {
			t.Fatalf("mine %+v", mine)
		}
	})

	t.Run("BoardsFollowTheAccount", func(t *testing.T) {
		board := leaderboard.Key(leaderboard.All, now)
		a, _ := r.Account(ctx, ana)
		top, _, err := d.GlobalTop(ctx, board, 100)
		if err != nil || !ranked(top, ana, a.LifetimeEarned) {
			t.Fatalf("top %+v %v", top, err)
		}
		if h, _ := r.Histogram(ctx, board); h.Total() < 1 {
			t.Fatalf("histogram %v", h)
		}
		if ahead, exact, _, err := d.PlayersAhead(ctx, board, a.LifetimeEarned+1_000_000); err != nil || !exact || ahead != 0 {
			t.Fatalf("ahead %d %v %v", ahead, exact, err)
		}
		if s, _ := r.Scores(ctx, board, []string{ana, "nobody-" + run}); len(s) != 1 || s[ana].Score != a.LifetimeEarned {
			t.Fatalf("scores %+v", s)
		}
	})
}

func hasGuard(gs []earnItem, source string) bool {
	for _, g := range gs {
		if g.SourceID == source {
			return true
		}
	}
	return false
}

func hasRedemption(rs []Redemption, id string) bool {
	for _, r := range rs {
		if r.ID == id {
			return true
		}
	}
	return false
}

func ranked(rows []leaderboard.Ranked, user string, score int64) bool {
	for _, r := range rows {
		if r.UserID == user && r.Score == score {
			return true
		}
	}
	return false
}

// The in-memory repository keeps the contract.
func TestMemRepoContract(t *testing.T) { testRepoContract(t, newMemRepo()) }
