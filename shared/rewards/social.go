package rewards

import (
	"context"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/clock"
	"github.com/liberation/monetization/shared/httpapi"
	"github.com/liberation/monetization/shared/manifest"
)

// ----- the leaderboard profile -----

// ProfileView is the caller's leaderboard profile.
type ProfileView struct {
	DisplayName       string `json:"displayName"` // "" until set: boards show "Anonymous learner"
	LeaderboardOptOut bool   `json:"leaderboardOptOut"`
}

// ProfileRequest is the body of PUT /me/profile.
type ProfileRequest struct {
	DisplayName       *string `json:"displayName"`
	LeaderboardOptOut *bool   `json:"leaderboardOptOut"`
}

// domainLike finds a host name inside a display name ("lin.example.com", "example.io").
var domainLike = regexp.MustCompile(`(?i)[\p{L}\p{N}-]+\.[\p{L}]{2,}`)

// ValidDisplayName says why a display name is refused, or "" when it is acceptable: 2 to 32
// characters of letters, digits, spaces and - _ . ' with no e-mail address or web address in it
// (the public board must not carry contact details or links).
func ValidDisplayName(s string) string {
	n := utf8.RuneCountInString(s)
	if n < 2 || n > 32 {
		return "displayName must be 2 to 32 characters"
	}
	if s != strings.TrimSpace(s) || strings.Contains(s, "  ") {
		return "displayName must not start or end with spaces, or have two in a row"
	}
	for _, r := range s {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) && !strings.ContainsRune(" -_.'", r) {
			return "displayName may contain letters, digits, spaces and - _ . ' only (no e-mail addresses or URLs)"
		}
	}
	if domainLike.MatchString(s) {
		return "displayName must not contain an e-mail address or a web address"
	}
	return ""
}

// Validate checks the request: both fields are required (PUT replaces the profile).
func (q *ProfileRequest) Validate() error {
	switch {
	case q.DisplayName == nil:
		return apperr.New(apperr.Invalid, "displayName is required")
	case q.LeaderboardOptOut == nil:
		return apperr.New(apperr.Invalid, "leaderboardOptOut is required")
	}
	if why := ValidDisplayName(*q.DisplayName); why != "" {
		return apperr.New(apperr.Invalid, "%s", why)
	}
	return nil
}

func wireGetProfile(w wiring) (httpapi.Lambda, error) { return HandleGetProfile(w.rt.Fn, w.d), nil }

// HandleGetProfile serves GET /me/profile.
func HandleGetProfile(fn manifest.Function, d *Deps) httpapi.Lambda {
	return httpapi.Route(fn, getProfile(d.ledger()))
}

func getProfile(l Ledger) httpapi.Handler {
	return func(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
		a, err := l.Account(ctx, r.Principal.UserID)
		if err != nil {
			return httpapi.Response{}, err
		}
		return httpapi.OK(ProfileView{DisplayName: a.DisplayName, LeaderboardOptOut: a.OptOut}), nil
	}
}

func wireUpdateProfile(w wiring) (httpapi.Lambda, error) {
	return HandleUpdateProfile(w.rt.Fn, w.d), nil
}

// HandleUpdateProfile serves PUT /me/profile. The display name and the opt-out move the player's
// score items on or off the global board (and its histogram) in the same transaction as the
// account, so the board never shows a stale name or an opted-out learner.
func HandleUpdateProfile(fn manifest.Function, d *Deps) httpapi.Lambda {
	return httpapi.Route(fn, updateProfile(d.poster()))
}

func updateProfile(p poster) httpapi.Handler {
	return func(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
		var q ProfileRequest
		if err := r.Decode(&q); err != nil {
			return httpapi.Response{}, err
		}
		a, _, err := p.Post(ctx, r.Principal.UserID, func(_ context.Context, a Account) (Plan, error) {
			if a.DisplayName == *q.DisplayName && a.OptOut == *q.LeaderboardOptOut && a.Version > 0 {
				return Plan{}, ErrNoop
			}
			return Plan{Change: Change{Kind: KindProfile, DisplayName: q.DisplayName, OptOut: q.LeaderboardOptOut}}, nil
		})
		if err == ErrNoop {
			err = nil
		}
		if err != nil {
			return httpapi.Response{}, err
		}
		return httpapi.OK(ProfileView{DisplayName: a.DisplayName, LeaderboardOptOut: a.OptOut}), nil
	}
}

// ----- friends (whom the caller follows) -----

// MaxFollowing is how many people one learner may follow.
const MaxFollowing = 500

type followItem struct {
	PK         string    `dynamodbav:"PK"`
	SK         string    `dynamodbav:"SK"`
	Type       string    `dynamodbav:"type"`
	UserID     string    `dynamodbav:"userId"`
	FollowedID string    `dynamodbav:"followedId"`
	Since      time.Time `dynamodbav:"since"`
}

// FriendView is one person the caller follows.
type FriendView struct {
	UserID string    `json:"userId"`
	Since  time.Time `json:"since"`
}

func friendParam(r *httpapi.Request) (string, error) {
	id := r.PathParam("userId")
	if !validID(id) {
		return "", apperr.New(apperr.Invalid, "userId is malformed")
	}
	if id == r.Principal.UserID {
		return "", apperr.New(apperr.Unprocessable, "you are always on your own friends board")
	}
	return id, nil
}

func wireFollowUser(w wiring) (httpapi.Lambda, error) { return HandleFollowUser(w.rt.Fn, w.d), nil }

// HandleFollowUser serves PUT /me/friends/{userId} (idempotent: following again changes nothing).
func HandleFollowUser(fn manifest.Function, d *Deps) httpapi.Lambda {
	return httpapi.Route(fn, followUser(d.Clock, d.social()))
}

func followUser(clk clock.Clock, s Social) httpapi.Handler {
	return func(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
		id, err := friendParam(r)
		if err != nil {
			return httpapi.Response{}, err
		}
		since, err := s.Follow(ctx, r.Principal.UserID, id, clk.Now())
		if err != nil {
			return httpapi.Response{}, err
		}
		return httpapi.OK(FriendView{UserID: id, Since: since}), nil
	}
}

var errFollowingFull = apperr.New(apperr.Unprocessable, "you already follow %d people, the most allowed", MaxFollowing)

func wireUnfollowUser(w wiring) (httpapi.Lambda, error) { return HandleUnfollowUser(w.rt.Fn, w.d), nil }

// HandleUnfollowUser serves DELETE /me/friends/{userId} (idempotent).
func HandleUnfollowUser(fn manifest.Function, d *Deps) httpapi.Lambda {
	return httpapi.Route(fn, unfollowUser(d.social()))
}

func unfollowUser(s Social) httpapi.Handler {
	return func(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
		id, err := friendParam(r)
		if err != nil {
			return httpapi.Response{}, err
		}
		if err := s.Unfollow(ctx, r.Principal.UserID, id); err != nil {
			return httpapi.Response{}, err
		}
		return httpapi.OK(map[string]any{"userId": id, "following": false}), nil
	}
}

// Following lists whom userID follows (at most MaxFollowing: one bounded Query).
func (bs boards) Following(ctx context.Context, userID string) ([]followItem, error) {
	return bs.s.Following(ctx, userID)
}

func wireListFriends(w wiring) (httpapi.Lambda, error) { return HandleListFriends(w.rt.Fn, w.d), nil }

// HandleListFriends serves GET /me/friends.
func HandleListFriends(fn manifest.Function, d *Deps) httpapi.Lambda {
	return httpapi.Route(fn, listFriends(d.social()))
}

func listFriends(s Social) httpapi.Handler {
	return func(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
		list, err := s.Following(ctx, r.Principal.UserID)
		if err != nil {
			return httpapi.Response{}, err
		}
		out := make([]FriendView, len(list))
		for i, f := range list {
			out[i] = FriendView{UserID: f.FollowedID, Since: f.Since.UTC()}
		}
		return httpapi.OK(map[string]any{"friends": out, "count": len(out), "max": MaxFollowing}), nil
	}
}
