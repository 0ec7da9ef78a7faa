package rewards

import (
	"fmt"
	"testing"
	"time"

	"github.com/liberation/monetization/shared/apperr"
)

func rowsOf(v BoardView) string {
	s := ""
	for _, r := range v.Entries {
		s += fmt.Sprintf("%d:%s:%d", r.Rank, r.DisplayName, r.Score)
		if r.You {
			s += ":you"
		}
		s += " "
	}
	return s
}

// ana 300 named, ben 200 opted out, cai 100 unnamed, dee nothing; ana follows ben and cai, ben
// follows ana.
func boardWorld(t *testing.T) *world {
	w := newWorld()
	w.setProfile(t, "ana", "Ana", false)
	w.setProfile(t, "ben", "Ben", true)
	w.grantTo(t, "ana", 300)
	w.grantTo(t, "ben", 200)
	w.grantTo(t, "cai", 100)
	for _, f := range [][2]string{{"ana", "ben"}, {"ana", "cai"}, {"ben", "ana"}} {
		w.must(t, HandleFollowUser, "follow-user", req{user: f[0], path: map[string]string{"userId": f[1]}}, 200, nil)
	}
	return w
}

func TestGlobalBoardAndRanks(t *testing.T) {
	w := boardWorld(t)
	for _, p := range []string{"", "week", "all"} {
		var v BoardView
		q := map[string]string{}
		if p != "" {
			q["period"] = p
		}
		w.must(t, HandleGetGlobalLeaderboard, "get-global-leaderboard", req{query: q}, 200, &v)
		if got := rowsOf(v); got != "1:Ana:300 2:"+AnonymousName+":100 " || v.Board != "global" {
			t.Fatalf("period %q: %s", p, got)
		}
		if (p == "all") != (v.Week == "" && v.Resets == nil) {
			t.Fatalf("period %q: week %q resets %v", p, v.Week, v.Resets)
		}
	}
	var top1 BoardView
	w.must(t, HandleGetGlobalLeaderboard, "get-global-leaderboard", req{query: map[string]string{"limit": "1"}}, 200, &top1)
	if rowsOf(top1) != "1:Ana:300 " {
		t.Fatalf("top 1: %s", rowsOf(top1))
	}
	for _, q := range []map[string]string{{"period": ""}, {"period": "year"}, {"limit": "101"}} {
		if st, code := w.call(t, HandleGetGlobalLeaderboard, "get-global-leaderboard", req{query: q}, nil); st != 400 || code != apperr.Invalid {
			t.Errorf("%v: %d %s", q, st, code)
		}
		if st, code := w.call(t, HandleGetMyGlobalRank, "get-my-global-rank", req{user: "ana", query: q}, nil); q["limit"] == "" && (st != 400 || code != apperr.Invalid) {
			t.Errorf("me %v: %d %s", q, st, code)
		}
	}
	for _, c := range []struct {
		user    string
		rank    int // 0: none
		score   int64
		optOut  bool
		percent bool // above the bottom
	}{
		{"ana", 1, 300, false, true},
		{"cai", 2, 100, false, false},
		{"ben", 0, 200, true, false},
		{"dee", 0, 0, false, false},
	} {
		var r RankView
		w.must(t, HandleGetMyGlobalRank, "get-my-global-rank", req{user: c.user}, 200, &r)
		rank := 0
		if r.Rank != nil {
			rank = *r.Rank
		}
		if rank != c.rank || r.Score != c.score || r.OptedOut != c.optOut || r.Players != 2 || (r.Percentile > 0) != c.percent || r.Week != "2026-W06" {
			t.Errorf("%s: %+v (rank %d)", c.user, r, rank)
		}
	}
	// A new week starts empty; the all-time board keeps everyone.
	w.clk.Advance(7 * 24 * time.Hour)
	var week, all BoardView
	w.must(t, HandleGetGlobalLeaderboard, "get-global-leaderboard", req{}, 200, &week)
	w.must(t, HandleGetGlobalLeaderboard, "get-global-leaderboard", req{query: map[string]string{"period": "all"}}, 200, &all)
	if len(week.Entries) != 0 || week.Week != "2026-W07" || rowsOf(all) != "1:Ana:300 2:"+AnonymousName+":100 " {
		t.Fatalf("next week: %s / %s", rowsOf(week), rowsOf(all))
	}
	var r RankView
	w.must(t, HandleGetMyGlobalRank, "get-my-global-rank", req{user: "ana", query: map[string]string{"period": "all"}}, 200, &r)
	if r.Rank == nil || *r.Rank != 1 || r.Week != "" || r.Score != 300 {
		t.Fatalf("all-time rank %+v", r)
	}
}

func TestFriendsAndClassBoards(t *testing.T) {
	w := boardWorld(t)
	for _, c := range []struct{ user, want string }{
		{"ana", "1:Ana:300:you 2:" + AnonymousName + ":100 "}, // ben opted out
		{"ben", "1:Ana:300 2:Ben:200:you "},                   // the viewer always sees themself
		{"dee", ""},                                           // follows nobody, scored nothing
	} {
		var v BoardView
		w.must(t, HandleGetFriendsLeaderboard, "get-friends-leaderboard", req{user: c.user}, 200, &v)
		if got := rowsOf(v); got != c.want || v.Board != "friends" {
			t.Errorf("%s: %q, want %q", c.user, got, c.want)
		}
	}
	if st, code := w.call(t, HandleGetFriendsLeaderboard, "get-friends-leaderboard", req{user: "ana", query: map[string]string{"period": "day"}}, nil); st != 400 || code != apperr.Invalid {
		t.Fatalf("bad period: %d %s", st, code)
	}
	cl := w.createClass(t, "teo", "Physics")
	for _, u := range []string{"ana", "ben", "dee"} {
		w.must(t, HandleJoinClass, "join-class", req{user: u, body: JoinRequest{Code: cl.JoinCode}}, 200, nil)
	}
	path := map[string]string{"classId": cl.ID}
	for _, c := range []struct{ user, want string }{
		{"teo", "1:Ana:300 "},
		{"ben", "1:Ana:300 2:Ben:200:you "},
		{"dee", "1:Ana:300 "},
	} {
		var v ClassBoardView
		w.must(t, HandleGetClassLeaderboard, "get-class-leaderboard", req{user: c.user, path: path, query: map[string]string{"period": "all"}}, 200, &v)
		if got := rowsOf(v.BoardView); got != c.want || v.ClassID != cl.ID || v.ClassName != "Physics" || v.Board != "class" {
			t.Errorf("%s: %q, want %q (%+v)", c.user, got, c.want, v)
		}
	}
	for _, c := range []struct {
		q    req
		st   int
		code apperr.Code
	}{
		{req{user: "cai", path: path}, 404, apperr.NotFound},
		{req{user: "ana", path: map[string]string{"classId": "x"}}, 400, apperr.Invalid},
		{req{user: "ana", path: path, query: map[string]string{"period": ""}}, 400, apperr.Invalid},
	} {
		if st, code := w.call(t, HandleGetClassLeaderboard, "get-class-leaderboard", c.q, nil); st != c.st || code != c.code {
			t.Errorf("%+v: %d %s", c.q, st, code)
		}
	}
}
