package rewards

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/audit"
	"github.com/liberation/monetization/shared/clock"
	"github.com/liberation/monetization/shared/ids"
	"github.com/liberation/monetization/shared/rewards/leaderboard"
	"github.com/liberation/monetization/shared/rewards/rewardcatalog"
	"github.com/liberation/monetization/shared/rewards/tokenmetrics"
	"github.com/liberation/monetization/shared/store"
)

type fixedClock struct{ t time.Time }

func (c fixedClock) Now() time.Time { return c.t }

var _ clock.Clock = fixedClock{}

// testRepoContract checks the semantics the area's rules rely on. It runs on memRepo and on
// dynamoRepo (in process without the integration tag, on moto with it: newTestStore), so the fake
// the unit tests use cannot drift. The table may be shared: it checks only its own items.
func testRepoContract(t *testing.T, r Repo) {
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Second)
	run := ids.ULID(now)
	d := (&Deps{Clock: fixedClock{now}}).With(r)
	ana := "ana-" + run

	t.Run("EarnOnceAndStaleAccountWritesNothing", func(t *testing.T) {
		e := Earning{UserID: ana, Rule: RuleCourseCompleted, SourceID: "crs_1", OccurredAt: now}
		if out, _, err := d.earner().Earn(ctx, e); err != nil || out != OutEarned {
			t.Fatalf("earn: %s %v", out, err)
		}
		if out, _, err := d.earner().Earn(ctx, e); err != nil || out != OutDuplicate {
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
		if out, _, err := d.earner().Earn(ctx, p); err != nil || out != OutPending {
			t.Fatalf("purchase: %s %v", out, err)
		}
		due, _, err := r.DueEarnings(ctx, now, nil, 100)
		if err != nil || !hasGuard(due, p.SourceID) {
			t.Fatalf("due: %+v %v", due, err)
		}
		if due, _, _ := r.DueEarnings(ctx, now.Add(-2*time.Hour), nil, 100); hasGuard(due, p.SourceID) {
			t.Fatal("listed before its release time")
		}
		if out, _, err := d.earner().Release(ctx, ana, p.Rule, p.SourceID); err != nil || out != OutReleased {
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
		top, _, err := d.leaderboards().GlobalTop(ctx, board, 100)
		if err != nil || !ranked(top, ana, a.LifetimeEarned) {
			t.Fatalf("top %+v %v", top, err)
		}
		if h, _ := r.Histogram(ctx, board); h.Total() < 1 {
			t.Fatalf("histogram %v", h)
		}
		if ahead, exact, _, err := d.leaderboards().PlayersAhead(ctx, board, a.LifetimeEarned+1_000_000); err != nil || !exact || ahead != 0 {
			t.Fatalf("ahead %d %v %v", ahead, exact, err)
		}
		if s, _ := r.Scores(ctx, board, []string{ana, "nobody-" + run}); len(s) != 1 || s[ana].Score != a.LifetimeEarned {
			t.Fatalf("scores %+v", s)
		}
	})

	grant := func(t *testing.T, user string, n int64) Account {
		t.Helper()
		a, _, err := d.Post(ctx, user, func(context.Context, Account) (Plan, error) {
			return Plan{Change: Change{Kind: KindAdjust, Delta: n, Earned: n}}, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return a
	}

	t.Run("CapsOverTheValueRead", func(t *testing.T) {
		cy, day := "cy-"+run, Day(now)
		commit := func(c CapWrite) error {
			c.UserID, c.Rule, c.Day = cy, RuleLessonCompleted, day
			a, _ := r.Account(ctx, cy)
			n, en, _ := a.Apply(Change{Kind: KindAdjust, Delta: 1, Earned: 1}, now)
			return r.Commit(ctx, Movement{From: a, To: n, Entry: en, At: now, Writes: []Write{{Cap: &c}}})
		}
		failed := func(err error) bool {
			var wf *WriteFailed
			return errors.As(err, &wf) && len(wf.Writes) == 1 && wf.Writes[0] == 0 && store.IsConditionFailed(err)
		}
		if _, found, err := r.Cap(ctx, cy, RuleLessonCompleted, day); err != nil || found {
			t.Fatalf("a cap never written: %v %v", found, err)
		}
		if err := commit(CapWrite{Earned: 10}); err != nil {
			t.Fatal(err)
		}
		if err := commit(CapWrite{Earned: 20}); !failed(err) {
			t.Fatalf("a cap created twice: %v", err)
		}
		if err := commit(CapWrite{Exists: true, Read: 5, Earned: 20}); !failed(err) {
			t.Fatalf("a cap over a stale value: %v", err)
		}
		if err := commit(CapWrite{Exists: true, Read: 10, Earned: 20}); err != nil {
			t.Fatal(err)
		}
		if v, found, err := r.Cap(ctx, cy, RuleLessonCompleted, day); err != nil || !found || v != 20 {
			t.Fatalf("cap %d %v %v", v, found, err)
		}
		if v, found, _ := r.Cap(ctx, cy, RuleLessonCompleted, Day(now.AddDate(0, 0, 1))); found || v != 0 {
			t.Fatalf("another day's cap %d %v", v, found)
		}
		// Only the movements whose cap write held are in the ledger.
		if a, _ := r.Account(ctx, cy); a.Seq != 2 || a.Balance != 2 {
			t.Fatalf("account %+v", a)
		}
	})

	t.Run("ProfileMovesNoEntry", func(t *testing.T) {
		a, _ := r.Account(ctx, ana)
		name := "Ana " + run
		n, en, err := a.Apply(Change{Kind: KindProfile, DisplayName: &name}, now)
		if err != nil || en.Seq != 0 {
			t.Fatalf("profile change %+v %v", en, err)
		}
		before, _, _ := r.Entries(ctx, ana, 100, "")
		if err := r.Commit(ctx, Movement{From: a, To: n, Entry: en, At: now}); err != nil {
			t.Fatal(err)
		}
		got, _ := r.Account(ctx, ana)
		if got.DisplayName != name || got.Seq != a.Seq || got.Version != a.Version+1 {
			t.Fatalf("account %+v", got)
		}
		if after, _, _ := r.Entries(ctx, ana, 100, ""); len(after) != len(before) {
			t.Fatalf("an entry for a profile change: %d → %d", len(before), len(after))
		}
		names, err := r.DisplayNames(ctx, []string{ana, "nobody-" + run})
		if err != nil || len(names) != 1 || names[ana] != name {
			t.Fatalf("display names %v %v", names, err)
		}
		board := leaderboard.Key(leaderboard.All, now)
		if s, _ := r.Scores(ctx, board, []string{ana}); s[ana].DisplayName != name {
			t.Fatalf("the board kept the old name: %+v", s[ana])
		}
	})

	t.Run("EntriesNewestFirstByPages", func(t *testing.T) {
		fay := "fay-" + run
		for i := range 3 {
			grant(t, fay, int64(10*(i+1)))
		}
		var seqs []int64
		cursor := ""
		for range 5 {
			page, next, err := r.Entries(ctx, fay, 2, cursor)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range page {
				seqs = append(seqs, e.Seq)
				if e.UserID != fay || e.Delta != 10*e.Seq || e.BalanceAfter != 10*e.Seq*(e.Seq+1)/2 {
					t.Fatalf("entry %+v", e)
				}
			}
			if cursor = next; cursor == "" {
				break
			}
		}
		if !slices.Equal(seqs, []int64{3, 2, 1}) {
			t.Fatalf("entries by pages: %v", seqs)
		}
		if list, next, err := r.Entries(ctx, "nobody-"+run, 10, ""); err != nil || len(list) != 0 || next != "" {
			t.Fatalf("no ledger: %v %q %v", list, next, err)
		}
	})

	t.Run("DueEarningsWalkOnAfterARelease", func(t *testing.T) {
		eve := "eve-" + run
		var want []string
		for i := range 3 {
			src := fmt.Sprintf("pur_%s_%d", run, i)
			p := Earning{UserID: eve, Rule: RuleCoursePurchased, SourceID: src, OccurredAt: now.Add(-40 * 24 * time.Hour),
				ReleaseAt: now.Add(time.Duration(i-5) * time.Minute), AmountCents: 4900}
			if out, _, err := d.earner().Earn(ctx, p); err != nil || out != OutPending {
				t.Fatalf("purchase %d: %s %v", i, out, err)
			}
			want = append(want, src)
		}
		// Pages of one, in release order; the first is released between pages (it leaves the
		// index) and the walk goes on after it.
		var seen []string
		var after *earnItem
		for range 10 {
			due, more, err := r.DueEarnings(ctx, now, after, 1)
			if err != nil || len(due) > 1 {
				t.Fatalf("due %+v %v", due, err)
			}
			if len(due) == 1 {
				g := due[0]
				after = &g
				if g.UserID == eve {
					seen = append(seen, g.SourceID)
				}
				if len(seen) == 1 && g.UserID == eve {
					if out, _, err := d.earner().Release(ctx, eve, g.Rule, g.SourceID); err != nil || out != OutReleased {
						t.Fatalf("release: %s %v", out, err)
					}
				}
			}
			if !more {
				break
			}
		}
		if !slices.Equal(seen, want) {
			t.Fatalf("walked %v, want %v", seen, want)
		}
		if a, _ := r.Account(ctx, eve); a.Pending != 100 || a.Balance != 50 {
			t.Fatalf("account %+v", a)
		}
	})

	t.Run("ShardPagesBestFirst", func(t *testing.T) {
		// Three players of one shard, on this test's own weekly board.
		shard := leaderboard.ShardOf("gus-" + run)
		var users []string
		for i := 0; len(users) < 3; i++ {
			if u := fmt.Sprintf("gus-%s-%d", run, i); leaderboard.ShardOf(u) == shard {
				users = append(users, u)
			}
		}
		for i, u := range users {
			grant(t, u, int64(100_000+i*10))
		}
		board := leaderboard.Key(leaderboard.All, now)
		var rows []leaderboard.Row
		var start Position
		for range 5 {
			page, next, err := r.ShardPage(ctx, board, shard, 2, start)
			if err != nil || len(page) > 2 {
				t.Fatalf("page %+v %v", page, err)
			}
			rows = append(rows, page...)
			if start = next; start == nil {
				break
			}
		}
		var mine []string
		for i, row := range rows {
			if i > 0 && !leaderboard.Less(rows[i-1], row) {
				t.Fatalf("not best first: %+v", rows)
			}
			if slices.Contains(users, row.UserID) {
				mine = append(mine, row.UserID)
			}
		}
		if !slices.Equal(mine, []string{users[2], users[1], users[0]}) {
			t.Fatalf("shard %d: %+v", shard, rows)
		}
		// Counting those at or above a floor, a page of one at a time.
		total, start := 0, Position(nil)
		for range 10 {
			n, next, err := r.CountAbove(ctx, board, shard, 100_010, 1, start)
			if err != nil || n > 1 {
				t.Fatalf("count %d %v", n, err)
			}
			total += n
			if start = next; start == nil {
				break
			}
		}
		if total != 2 {
			t.Fatalf("%d at or above 100010, want 2", total)
		}
		if n, next, err := r.CountAbove(ctx, board, shard, 100_021, 100, nil); err != nil || n != 0 || next != nil {
			t.Fatalf("above everyone: %d %v %v", n, next, err)
		}
		// The histogram sums every shard of the board.
		if h, err := r.Histogram(ctx, board); err != nil || h.Total() < 4 {
			t.Fatalf("histogram %v %v", h, err)
		}
	})

	t.Run("RedemptionsListedAndSaved", func(t *testing.T) {
		hal := "hal-" + run
		grant(t, hal, 5000)
		var made []Redemption
		for range 2 {
			red, err := d.CreateRedemption(ctx, hal, hal+"@example.com", RedemptionRequest{RewardID: rewardcatalog.CourseCoupon}, "req")
			if err != nil {
				t.Fatal(err)
			}
			made = append(made, red)
		}
		if _, err := r.Redemption(ctx, "other-"+run, made[0].ID); !apperr.Is(err, apperr.NotFound) {
			t.Fatalf("another user's redemption: %v", err)
		}
		if _, err := r.Redemption(ctx, hal, "rdm_"+run); !apperr.Is(err, apperr.NotFound) {
			t.Fatalf("an unknown redemption: %v", err)
		}
		if _, err := r.RedemptionOwner(ctx, "rdm_"+run); !apperr.Is(err, apperr.NotFound) {
			t.Fatalf("an unknown redemption's owner: %v", err)
		}
		got, err := r.Redemption(ctx, hal, made[0].ID)
		if err != nil || got.Email != hal+"@example.com" || got.Status != Pending || got.Version != 1 || got.Cost != made[0].Cost {
			t.Fatalf("read back %+v %v", got, err)
		}
		// Newest first, by pages.
		var ids []string
		cursor := ""
		for range 5 {
			page, next, err := r.UserRedemptions(ctx, hal, 1, cursor)
			if err != nil || len(page) > 1 {
				t.Fatalf("page %+v %v", page, err)
			}
			for _, x := range page {
				ids = append(ids, x.ID)
			}
			if cursor = next; cursor == "" {
				break
			}
		}
		newest := []string{made[0].ID, made[1].ID}
		slices.Sort(newest)
		slices.Reverse(newest)
		if !slices.Equal(ids, newest) {
			t.Fatalf("mine by pages %v, want %v", ids, newest)
		}
		// Saved alone over its version (with an audit record), it moves to its new status' list.
		n := got
		n.Status, n.UpdatedAt, n.Version, n.DecidedBy = Approved, now.Add(time.Second), 2, "root"
		au := audit.Entry{Actor: "root", Action: "redemption.approve", Target: "redemption:" + n.ID, RequestID: "req"}
		if err := r.SaveRedemption(ctx, RedemptionWrite{Redemption: n, Read: 1}, &au); err != nil {
			t.Fatal(err)
		}
		if err := r.SaveRedemption(ctx, RedemptionWrite{Redemption: n, Read: 1}, nil); !store.IsConditionFailed(err) {
			t.Fatalf("a save over a stale version: %v", err)
		}
		if x, _ := r.Redemption(ctx, hal, n.ID); x.Status != Approved || x.Version != 2 || x.DecidedBy != "root" {
			t.Fatalf("saved %+v", x)
		}
		approved, _, err := r.RedemptionsByStatus(ctx, Approved, 100, "")
		if err != nil || !hasRedemption(approved, n.ID) {
			t.Fatalf("approved list %+v %v", approved, err)
		}
		var pending []string
		cursor = ""
		for range 10 {
			page, next, err := r.RedemptionsByStatus(ctx, Pending, 1, cursor)
			if err != nil {
				t.Fatal(err)
			}
			for _, x := range page {
				if x.UserID == hal {
					pending = append(pending, x.ID)
				}
			}
			if cursor = next; cursor == "" {
				break
			}
		}
		if !slices.Equal(pending, []string{made[1].ID}) {
			t.Fatalf("pending by pages %v", pending)
		}
	})

	t.Run("MetricsCountTheMovements", func(t *testing.T) {
		before, err := tokenmetrics.ReadFrom(ctx, r, now, 1)
		if err != nil {
			t.Fatal(err)
		}
		mo := "mo-" + run
		grant(t, mo, 600)
		grant(t, mo, -10)
		red, err := d.CreateRedemption(ctx, mo, "", RedemptionRequest{RewardID: rewardcatalog.CourseCoupon}, "req")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := d.Transition(ctx, red, ActReject, "root", "req", nil); err != nil {
			t.Fatal(err)
		}
		after, err := tokenmetrics.ReadFrom(ctx, r, now, 1)
		if err != nil {
			t.Fatal(err)
		}
		// 600 issued, 10 deducted, 500 held for a new redemption and released again.
		got := tokenmetrics.Metrics{Issued: after.Issued - before.Issued, Deducted: after.Deducted - before.Deducted,
			Held: after.Held - before.Held, Outstanding: after.Outstanding - before.Outstanding,
			OutstandingHeld: after.OutstandingHeld - before.OutstandingHeld, Redeemed: after.Redeemed - before.Redeemed}
		if want := (tokenmetrics.Metrics{Issued: 600, Deducted: 10, Held: 500, Outstanding: 590}); got != want {
			t.Fatalf("metrics moved %+v, want %+v", got, want)
		}
		if after.From != Day(now) || after.To != Day(now) || after.OutstandingAvail != after.Outstanding-after.OutstandingHeld {
			t.Fatalf("metrics %+v", after)
		}
	})

	t.Run("FollowOnceWithinTheLimit", func(t *testing.T) {
		ivy := "ivy-" + run
		since, err := r.Follow(ctx, ivy, "jon", now)
		if err != nil || !since.Equal(now) {
			t.Fatalf("follow %v %v", since, err)
		}
		if since, err := r.Follow(ctx, ivy, "jon", now.Add(time.Hour)); err != nil || !since.Equal(now) {
			t.Fatalf("following again keeps the first time: %v %v", since, err)
		}
		if list, err := r.Following(ctx, ivy); err != nil || len(list) != 1 || list[0].FollowedID != "jon" || !list[0].Since.Equal(now) {
			t.Fatalf("following %+v %v", list, err)
		}
		if err := r.Unfollow(ctx, ivy, "jon"); err != nil {
			t.Fatal(err)
		}
		if err := r.Unfollow(ctx, ivy, "jon"); err != nil {
			t.Fatalf("unfollowing someone not followed: %v", err)
		}
		if list, _ := r.Following(ctx, ivy); len(list) != 0 {
			t.Fatalf("still following %+v", list)
		}
		// The limit counts who is followed now: an unfollow makes room again.
		for i := range MaxFollowing {
			if _, err := r.Follow(ctx, ivy, fmt.Sprintf("f%03d", i), now); err != nil {
				t.Fatalf("follow %d: %v", i, err)
			}
		}
		if _, err := r.Follow(ctx, ivy, "one-more", now); err != errFollowingFull {
			t.Fatalf("past the limit: %v", err)
		}
		if since, err := r.Follow(ctx, ivy, "f007", now.Add(time.Hour)); err != nil || !since.Equal(now) {
			t.Fatalf("following again at the limit: %v %v", since, err)
		}
		if err := r.Unfollow(ctx, ivy, "f000"); err != nil {
			t.Fatal(err)
		}
		if _, err := r.Follow(ctx, ivy, "one-more", now); err != nil {
			t.Fatalf("after an unfollow: %v", err)
		}
		if list, _ := r.Following(ctx, ivy); len(list) != MaxFollowing {
			t.Fatalf("following %d", len(list))
		}
	})

	t.Run("ClassesCodesAndMembers", func(t *testing.T) {
		owner := "kim-" + run
		c := classItem{Type: "class", ID: ids.New("cls", now), Name: "Algebra", OwnerID: owner, JoinCode: "C" + run[len(run)-7:], CreatedAt: now}
		if err := r.CreateClass(ctx, c); err != nil {
			t.Fatal(err)
		}
		other := c
		other.ID = ids.New("cls", now.Add(time.Second))
		if err := r.CreateClass(ctx, other); !store.IsConditionFailed(err) {
			t.Fatalf("a taken join code: %v", err)
		}
		if _, err := r.Class(ctx, other.ID); !apperr.Is(err, apperr.NotFound) {
			t.Fatalf("the class with a taken code was stored: %v", err)
		}
		if id, err := r.ClassOfCode(ctx, c.JoinCode); err != nil || id != c.ID {
			t.Fatalf("code %q %v", id, err)
		}
		if _, err := r.ClassOfCode(ctx, "ZZZZZZZZ"); !apperr.Is(err, apperr.NotFound) {
			t.Fatalf("an unknown code: %v", err)
		}
		if m, err := r.Member(ctx, c.ID, "lee"); err != nil || m != nil {
			t.Fatalf("not a member yet: %+v %v", m, err)
		}
		if joined, m, err := r.Join(ctx, memberItem{ClassID: c.ID, UserID: "lee", JoinedAt: now}); err != nil || !joined || m.UserID != "lee" {
			t.Fatalf("join %v %+v %v", joined, m, err)
		}
		joined, cur, err := r.Join(ctx, memberItem{ClassID: c.ID, UserID: "lee", JoinedAt: now.Add(time.Hour)})
		if err != nil || joined || !cur.JoinedAt.Equal(now) {
			t.Fatalf("joining twice: %v %+v %v", joined, cur, err)
		}
		if m, err := r.Member(ctx, c.ID, "lee"); err != nil || m == nil || !m.JoinedAt.Equal(now) {
			t.Fatalf("member %+v %v", m, err)
		}
		got, err := r.Class(ctx, c.ID)
		if err != nil || got.Name != "Algebra" || got.OwnerID != owner || got.JoinCode != c.JoinCode || got.MemberCount != 1 {
			t.Fatalf("class %+v %v", got, err)
		}
		if removed, err := r.Leave(ctx, c.ID, "lee"); err != nil || !removed {
			t.Fatalf("leave %v %v", removed, err)
		}
		if removed, err := r.Leave(ctx, c.ID, "lee"); err != nil || removed {
			t.Fatalf("leaving twice %v %v", removed, err)
		}
		if got, _ := r.Class(ctx, c.ID); got.MemberCount != 0 {
			t.Fatalf("count after leaving %d", got.MemberCount)
		}
		// Full at MaxClassMembers.
		for i := range MaxClassMembers {
			if joined, _, err := r.Join(ctx, memberItem{ClassID: c.ID, UserID: fmt.Sprintf("m%03d", i), JoinedAt: now}); err != nil || !joined {
				t.Fatalf("join %d: %v %v", i, joined, err)
			}
		}
		if _, _, err := r.Join(ctx, memberItem{ClassID: c.ID, UserID: "late", JoinedAt: now}); err != errClassFull {
			t.Fatalf("a full class: %v", err)
		}
		members, err := r.Members(ctx, c.ID)
		if err != nil || len(members) != MaxClassMembers || members[0].UserID != "m000" || members[0].ClassID != c.ID {
			t.Fatalf("members %d %v", len(members), err)
		}
		if got, _ := r.Class(ctx, c.ID); got.MemberCount != MaxClassMembers {
			t.Fatalf("count %d", got.MemberCount)
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

// The DynamoDB repository keeps the contract the in-memory one keeps: on minidyn in `go test`, on
// moto with the integration tag (backend_*_test.go).
func TestDynamoRepoContract(t *testing.T) { testRepoContract(t, NewRepo(newTestStore(t, nil))) }
