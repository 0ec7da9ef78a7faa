package rewards

import (
	"context"
	"testing"
	"time"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/httpapi"
	"github.com/liberation/monetization/shared/manifest"
)

func ptr[T any](v T) *T { return &v }

func (w *world) setProfile(t *testing.T, user, name string, optOut bool) ProfileView {
	t.Helper()
	var v ProfileView
	w.must(t, HandleUpdateProfile, "update-profile", req{user: user,
		body: ProfileRequest{DisplayName: ptr(name), LeaderboardOptOut: ptr(optOut)}}, 200, &v)
	return v
}

func TestProfile(t *testing.T) {
	w := newWorld()
	var v ProfileView
	w.must(t, HandleGetProfile, "get-profile", req{user: "ana"}, 200, &v)
	if v != (ProfileView{}) {
		t.Fatalf("default %+v", v)
	}
	if got := w.setProfile(t, "ana", "Ana L.", true); got != (ProfileView{DisplayName: "Ana L.", LeaderboardOptOut: true}) {
		t.Fatalf("set %+v", got)
	}
	before := w.account(t, "ana")
	w.setProfile(t, "ana", "Ana L.", true) // the same again: nothing written
	if after := w.account(t, "ana"); after.Version != before.Version || after.Seq != 0 {
		t.Fatalf("a no-op profile change wrote: %+v", after)
	}
	w.must(t, HandleGetProfile, "get-profile", req{user: "ana"}, 200, &v)
	if v.DisplayName != "Ana L." || !v.LeaderboardOptOut {
		t.Fatalf("read back %+v", v)
	}
	for name, body := range map[string]ProfileRequest{
		"no name":    {LeaderboardOptOut: ptr(false)},
		"no opt-out": {DisplayName: ptr("Ana")},
		"a URL":      {DisplayName: ptr("ana.example.com"), LeaderboardOptOut: ptr(false)},
		"an e-mail":  {DisplayName: ptr("ana@x"), LeaderboardOptOut: ptr(false)},
		"too short":  {DisplayName: ptr("A"), LeaderboardOptOut: ptr(false)},
		"spaces":     {DisplayName: ptr(" Ana"), LeaderboardOptOut: ptr(false)},
	} {
		if st, code := w.call(t, HandleUpdateProfile, "update-profile", req{user: "ana", body: body}, nil); st != 400 || code != apperr.Invalid {
			t.Errorf("%s: %d %s", name, st, code)
		}
	}
}

type friendsList struct {
	Friends []FriendView `json:"friends"`
	Count   int          `json:"count"`
	Max     int          `json:"max"`
}

func TestFriends(t *testing.T) {
	w := newWorld()
	var f FriendView
	w.must(t, HandleFollowUser, "follow-user", req{user: "ana", path: map[string]string{"userId": "ben"}}, 200, &f)
	if f.UserID != "ben" || !f.Since.Equal(monday) {
		t.Fatalf("follow %+v", f)
	}
	w.clk.Advance(time.Hour)
	w.must(t, HandleFollowUser, "follow-user", req{user: "ana", path: map[string]string{"userId": "ben"}}, 200, &f)
	if !f.Since.Equal(monday) {
		t.Fatalf("following again moved since: %+v", f)
	}
	w.must(t, HandleFollowUser, "follow-user", req{user: "ana", path: map[string]string{"userId": "cai"}}, 200, nil)
	var l friendsList
	w.must(t, HandleListFriends, "list-friends", req{user: "ana"}, 200, &l)
	if l.Count != 2 || l.Max != MaxFollowing || l.Friends[0].UserID != "ben" || l.Friends[1].UserID != "cai" {
		t.Fatalf("list %+v", l)
	}
	w.must(t, HandleUnfollowUser, "unfollow-user", req{user: "ana", path: map[string]string{"userId": "ben"}}, 200, nil)
	w.must(t, HandleUnfollowUser, "unfollow-user", req{user: "ana", path: map[string]string{"userId": "ben"}}, 200, nil)
	w.must(t, HandleListFriends, "list-friends", req{user: "ana"}, 200, &l)
	if l.Count != 1 || l.Friends[0].UserID != "cai" {
		t.Fatalf("after unfollow %+v", l)
	}
	for name, c := range map[string]struct {
		h    func(manifest.Function, *Deps) httpapi.Lambda
		fn   string
		id   string
		st   int
		code apperr.Code
	}{
		"follow self":   {HandleFollowUser, "follow-user", "ana", 422, apperr.Unprocessable},
		"unfollow self": {HandleUnfollowUser, "unfollow-user", "ana", 422, apperr.Unprocessable},
		"bad id":        {HandleFollowUser, "follow-user", "x#y", 400, apperr.Invalid},
		"empty id":      {HandleUnfollowUser, "unfollow-user", "", 400, apperr.Invalid},
	} {
		if st, code := w.call(t, c.h, c.fn, req{user: "ana", path: map[string]string{"userId": c.id}}, nil); st != c.st || code != c.code {
			t.Errorf("%s: %d %s", name, st, code)
		}
	}
	// At most MaxFollowing.
	for i := len(w.repo.follows["ana"]); i < MaxFollowing; i++ {
		if _, err := w.repo.Follow(context.Background(), "ana", "u"+itoa(int64(i)), monday); err != nil {
			t.Fatal(err)
		}
	}
	if st, code := w.call(t, HandleFollowUser, "follow-user", req{user: "ana", path: map[string]string{"userId": "one-more"}}, nil); st != 422 || code != apperr.Unprocessable {
		t.Fatalf("over the limit: %d %s", st, code)
	}
}

func (w *world) createClass(t *testing.T, owner, name string) ClassView {
	t.Helper()
	var c ClassView
	w.must(t, HandleCreateClass, "create-class", req{user: owner, group: manifest.GroupInstructor, body: ClassRequest{Name: name}}, 201, &c)
	return c
}

func TestClasses(t *testing.T) {
	w := newWorld()
	c := w.createClass(t, "teo", "  Algebra I  ")
	if c.Name != "Algebra I" || !c.Owner || len(c.JoinCode) != JoinCodeLen || !validClassID(c.ID) || len(c.Members) != 0 {
		t.Fatalf("created %+v", c)
	}
	if st, code := w.call(t, HandleCreateClass, "create-class", req{user: "ana", body: ClassRequest{Name: "Mine"}}, nil); st != 403 || code != apperr.Forbidden {
		t.Fatalf("a learner creates a class: %d %s", st, code)
	}
	if st, code := w.call(t, HandleCreateClass, "create-class", req{user: "teo", group: manifest.GroupInstructor, body: ClassRequest{Name: "x"}}, nil); st != 400 || code != apperr.Invalid {
		t.Fatalf("a one-letter name: %d %s", st, code)
	}
	w.setProfile(t, "ana", "Ana", false)
	// Codes are typed loosely.
	loose := c.JoinCode[:4] + "-" + c.JoinCode[4:]
	var joined ClassView
	w.must(t, HandleJoinClass, "join-class", req{user: "ana", body: JoinRequest{Code: " " + loose + " "}}, 200, &joined)
	if joined.ID != c.ID || joined.MemberCount != 1 || joined.Membership == nil || !joined.Membership.Equal(monday) || joined.JoinCode != "" {
		t.Fatalf("joined %+v", joined)
	}
	w.clk.Advance(time.Hour)
	w.must(t, HandleJoinClass, "join-class", req{user: "ana", body: JoinRequest{Code: c.JoinCode}}, 200, &joined)
	if joined.MemberCount != 1 || !joined.Membership.Equal(monday) {
		t.Fatalf("joined twice %+v", joined)
	}
	w.must(t, HandleJoinClass, "join-class", req{user: "ben", body: JoinRequest{Code: c.JoinCode}}, 200, &joined)
	if joined.MemberCount != 2 {
		t.Fatalf("ben joined %+v", joined)
	}
	for name, c := range map[string]struct {
		q    req
		st   int
		code apperr.Code
	}{
		"owner joins":  {req{user: "teo", body: JoinRequest{Code: c.JoinCode}}, 422, apperr.Unprocessable},
		"unknown code": {req{user: "cai", body: JoinRequest{Code: "22222222"}}, 404, apperr.NotFound},
		"bad code":     {req{user: "cai", body: JoinRequest{Code: "0OIL"}}, 400, apperr.Invalid},
	} {
		if st, code := w.call(t, HandleJoinClass, "join-class", c.q, nil); st != c.st || code != c.code {
			t.Errorf("%s: %d %s", name, st, code)
		}
	}
	// The owner sees the code and the members; a member sees their membership; others nothing.
	var owner, member ClassView
	w.must(t, HandleGetClass, "get-class", req{user: "teo", path: map[string]string{"classId": c.ID}}, 200, &owner)
	if !owner.Owner || owner.JoinCode != c.JoinCode || owner.MemberCount != 2 || len(owner.Members) != 2 ||
		owner.Members[0].DisplayName != "Ana" || owner.Members[1].DisplayName != AnonymousName {
		t.Fatalf("owner's view %+v", owner)
	}
	w.must(t, HandleGetClass, "get-class", req{user: "ben", path: map[string]string{"classId": c.ID}}, 200, &member)
	if member.Owner || member.JoinCode != "" || member.Members != nil || member.Membership == nil {
		t.Fatalf("member's view %+v", member)
	}
	if st, code := w.call(t, HandleGetClass, "get-class", req{user: "cai", path: map[string]string{"classId": c.ID}}, nil); st != 404 || code != apperr.NotFound {
		t.Fatalf("a stranger: %d %s", st, code)
	}
	if st, code := w.call(t, HandleGetClass, "get-class", req{user: "cai", path: map[string]string{"classId": "nope"}}, nil); st != 400 || code != apperr.Invalid {
		t.Fatalf("a malformed id: %d %s", st, code)
	}
	// Members cannot remove others; they can leave; the owner removes anyone.
	rm := func(by, target string) (int, apperr.Code, map[string]any) {
		var out map[string]any
		st, code := w.call(t, HandleRemoveClassMember, "remove-class-member", req{user: by, path: map[string]string{"classId": c.ID, "userId": target}}, &out)
		return st, code, out
	}
	if st, code, _ := rm("ben", "ana"); st != 404 || code != apperr.NotFound {
		t.Fatalf("a member removes another: %d %s", st, code)
	}
	if st, code, _ := rm("teo", "a#b"); st != 400 || code != apperr.Invalid {
		t.Fatalf("a malformed user: %d %s", st, code)
	}
	if _, _, out := rm("ben", "ben"); out["removed"] != true {
		t.Fatalf("leave %+v", out)
	}
	if _, _, out := rm("teo", "ana"); out["removed"] != true {
		t.Fatalf("removed %+v", out)
	}
	if _, _, out := rm("teo", "ana"); out["removed"] != false {
		t.Fatalf("removed twice %+v", out)
	}
	var emptied ClassView
	w.must(t, HandleGetClass, "get-class", req{user: "teo", path: map[string]string{"classId": c.ID}}, 200, &emptied)
	if emptied.MemberCount != 0 || len(emptied.Members) != 0 {
		t.Fatalf("after removals %+v", emptied)
	}
	// A full class refuses.
	for i := 0; i < MaxClassMembers; i++ {
		if _, _, err := w.repo.Join(context.Background(), memberItem{ClassID: c.ID, UserID: "m" + itoa(int64(i))}); err != nil {
			t.Fatal(err)
		}
	}
	if st, code := w.call(t, HandleJoinClass, "join-class", req{user: "cai", body: JoinRequest{Code: c.JoinCode}}, nil); st != 422 || code != apperr.Unprocessable {
		t.Fatalf("a full class: %d %s", st, code)
	}
}

func TestJoinCodes(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 50; i++ {
		c := newJoinCode()
		q := JoinRequest{Code: c}
		if err := q.Validate(); err != nil || q.Code != c {
			t.Fatalf("%q: %v", c, err)
		}
		seen[c] = true
	}
	if len(seen) < 45 {
		t.Fatalf("codes repeat: %d distinct of 50", len(seen))
	}
	if got := NormalizeJoinCode(" ab-cd ef23 "); got != "ABCDEF23" { // legacy 8-symbol codes as typed
		t.Fatal(got)
	}
}
