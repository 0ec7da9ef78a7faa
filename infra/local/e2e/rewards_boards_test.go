//go:build integration

package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/liberation/monetization/infra/local/localtest"
	"github.com/liberation/monetization/shared/rewards"
)

// The three boards through the gateway: the public global board carries display names, ranks and
// scores only and no opted-out learner; the friends board is the caller and whom they follow; a
// class board exists only for its members and owner; the week rollover resets only the weekly board.
func TestRewardsLeaderboards(t *testing.T) {
	h := Start(t, WithSetup(func(_ testing.TB, env *localtest.Env) { env.WithFakeClock() }))
	clk := h.Env.Clock
	clk.Set(time.Date(2026, 3, 4, 12, 0, 0, 0, time.UTC)) // a Wednesday
	admin := h.Token(t, "root", "ops@example.com", "admin")
	type player struct {
		id, name string
		optOut   bool
		tokens   int64
	}
	players := []player{
		{rwUser("ana"), "Ana L.", false, 300},
		{rwUser("ben"), "Ben", false, 200},
		{rwUser("cai"), "Cai Zhang", true, 250}, // opted out
		{rwUser("dee"), "Dee", false, 200},      // ties with Ben, reached it later
		{rwUser("eve"), "", false, 50},          // no display name
	}
	toks := map[string]string{}
	for _, p := range players {
		toks[p.id] = h.Token(t, p.id, p.id+"@example.com")
		if p.name != "" {
			var prof rewards.ProfileView
			h.Call(t, http.MethodPut, "/me/profile", toks[p.id], map[string]any{"displayName": p.name, "leaderboardOptOut": p.optOut}, http.StatusOK, &prof)
			if prof.DisplayName != p.name || prof.LeaderboardOptOut != p.optOut {
				t.Fatalf("profile %+v", prof)
			}
		}
		rwGrant(t, h, admin, p.id, p.tokens)
		clk.Advance(time.Second)
	}
	// Profile validation: e-mail addresses and URLs are refused, naming the field.
	for _, bad := range []string{"ana@example.com", "visit ana.dev", "x"} {
		b := h.Call(t, http.MethodPut, "/me/profile", toks[players[0].id], map[string]any{"displayName": bad, "leaderboardOptOut": false}, http.StatusBadRequest, nil)
		if !strings.Contains(string(b), "displayName") {
			t.Fatalf("%q: %s", bad, b)
		}
	}

	// Public: no token, names ranks and scores only.
	status, raw, headers := h.Do(t, http.MethodGet, "/leaderboards/global?period=week", "", nil)
	if status != http.StatusOK || headers.Get("cache-control") != "public, max-age=30" {
		t.Fatalf("public board: %d %s %v", status, raw, headers)
	}
	var board struct {
		Entries []map[string]any `json:"entries"`
	}
	if err := json.Unmarshal(raw, &board); err != nil {
		t.Fatal(err)
	}
	var rows []string
	for _, e := range board.Entries {
		if len(e) != 3 || e["rank"] == nil || e["displayName"] == nil || e["score"] == nil {
			t.Fatalf("a public row carries more than rank, displayName and score: %v", e)
		}
		rows = append(rows, fmt.Sprintf("%v:%v:%v", e["rank"], e["displayName"], e["score"]))
	}
	if fmt.Sprint(rows) != "[1:Ana L.:300 2:Ben:200 2:Dee:200 4:Anonymous learner:50]" {
		t.Fatalf("public board: %v", rows)
	}
	for _, p := range players {
		if strings.Contains(string(raw), p.id) || strings.Contains(string(raw), "@example.com") || strings.Contains(string(raw), "Cai") {
			t.Fatalf("the public board leaks %s: %s", p.id, raw)
		}
	}
	// My rank: exact; the opted-out learner has a score but no rank.
	var me rewards.RankView
	rwGet(t, h, "/leaderboards/global/me", toks[players[3].id], http.StatusOK, &me)
	if me.Rank == nil || *me.Rank != 2 || me.Score != 200 || me.Players != 4 || me.Percentile != 50 { // Eve below, Ben tied: (1 + ½) / 3
		t.Fatalf("dee's rank: %+v", me)
	}
	me = rewards.RankView{}
	rwGet(t, h, "/leaderboards/global/me", toks[players[2].id], http.StatusOK, &me)
	if me.Rank != nil || !me.OptedOut || me.Score != 250 {
		t.Fatalf("opted-out rank: %+v", me)
	}

	// Friends: Ben follows Ana and the opted-out Cai; his board is Ana and himself.
	ben := toks[players[1].id]
	for _, p := range []player{players[0], players[2]} {
		h.Call(t, http.MethodPut, "/me/friends/"+p.id, ben, nil, http.StatusOK, nil)
	}
	h.Call(t, http.MethodPut, "/me/friends/"+players[0].id, ben, nil, http.StatusOK, nil) // again: no change
	h.Call(t, http.MethodPut, "/me/friends/"+players[1].id, ben, nil, http.StatusUnprocessableEntity, nil)
	var friends struct {
		Friends []rewards.FriendView `json:"friends"`
		Count   int                  `json:"count"`
	}
	rwGet(t, h, "/me/friends", ben, http.StatusOK, &friends)
	if friends.Count != 2 {
		t.Fatalf("friends: %+v", friends)
	}
	var fb rewards.BoardView
	rwGet(t, h, "/leaderboards/friends?period=all", ben, http.StatusOK, &fb)
	if got := boardRows(fb); got != "[1:Ana L.:300: 2:Ben:200:you]" {
		t.Fatalf("ben's friends board: %s", got)
	}
	h.Call(t, http.MethodDelete, "/me/friends/"+players[0].id, ben, nil, http.StatusOK, nil)
	fb = rewards.BoardView{}
	rwGet(t, h, "/leaderboards/friends", ben, http.StatusOK, &fb)
	if got := boardRows(fb); got != "[1:Ben:200:you]" {
		t.Fatalf("after unfollowing: %s", got)
	}

	// Classes: only instructors create; members and the owner see the board, others get 404.
	teacher := h.Token(t, rwUser("teacher"), "t@example.com", "instructor")
	h.Call(t, http.MethodPost, "/classes", toks[players[0].id], map[string]any{"name": "Spanish A1"}, http.StatusForbidden, nil)
	var class rewards.ClassView
	h.Call(t, http.MethodPost, "/classes", teacher, map[string]any{"name": "Spanish A1"}, http.StatusCreated, &class)
	for _, p := range []player{players[0], players[3]} {
		h.Call(t, http.MethodPost, "/classes/join", toks[p.id], map[string]any{"code": strings.ToLower(class.JoinCode)}, http.StatusOK, nil)
	}
	var cb rewards.ClassBoardView
	rwGet(t, h, "/leaderboards/classes/"+class.ID, teacher, http.StatusOK, &cb)
	if got := boardRows(cb.BoardView); got != "[1:Ana L.:300: 2:Dee:200:]" || cb.ClassName != "Spanish A1" {
		t.Fatalf("class board for the owner: %s", got)
	}
	rwGet(t, h, "/leaderboards/classes/"+class.ID, toks[players[3].id], http.StatusOK, nil)
	rwGet(t, h, "/leaderboards/classes/"+class.ID, ben, http.StatusNotFound, nil) // not a member
	rwGet(t, h, "/classes/"+class.ID, ben, http.StatusNotFound, nil)
	h.Call(t, http.MethodDelete, "/classes/"+class.ID+"/members/"+players[3].id, toks[players[0].id], nil, http.StatusNotFound, nil) // members cannot remove others
	h.Call(t, http.MethodDelete, "/classes/"+class.ID+"/members/"+players[3].id, teacher, nil, http.StatusOK, nil)
	rwGet(t, h, "/leaderboards/classes/"+class.ID, toks[players[3].id], http.StatusNotFound, nil) // removed
	var owner rewards.ClassView
	rwGet(t, h, "/classes/"+class.ID, teacher, http.StatusOK, &owner)
	if owner.MemberCount != 1 || len(owner.Members) != 1 || owner.Members[0].DisplayName != "Ana L." || owner.JoinCode != class.JoinCode {
		t.Fatalf("class for the owner: %+v", owner)
	}

	// Next Monday 00:00 UTC: the weekly board starts empty, the all-time board keeps everyone.
	clk.Set(time.Date(2026, 3, 9, 0, 0, 0, 0, time.UTC))
	var week, all rewards.BoardView
	rwGet(t, h, "/leaderboards/global?period=week", "", http.StatusOK, &week)
	rwGet(t, h, "/leaderboards/global?period=all", "", http.StatusOK, &all)
	if len(week.Entries) != 0 || week.Week != "2026-W11" || len(all.Entries) != 4 || all.Entries[0].Score != 300 {
		t.Fatalf("after the rollover: week %+v, all %+v", week, all)
	}
	rwGrant(t, h, admin, players[4].id, 5)
	week = rewards.BoardView{}
	rwGet(t, h, "/leaderboards/global", "", http.StatusOK, &week)
	if got := boardRows(week); got != "[1:Anonymous learner:5:]" {
		t.Fatalf("new week: %s", got)
	}
	if b := rwBalance(t, h, toks[players[4].id]); b.EarnedThisWeek != 5 || b.LifetimeEarned != 55 {
		t.Fatalf("eve after the rollover: %+v", b)
	}
}

func boardRows(b rewards.BoardView) string {
	var out []string
	for _, e := range b.Entries {
		you := ""
		if e.You {
			you = "you"
		}
		out = append(out, fmt.Sprintf("%d:%s:%d:%s", e.Rank, e.DisplayName, e.Score, you))
	}
	return fmt.Sprint(out)
}
