package rewards

import (
	"context"
	"crypto/rand"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/clock"
	"github.com/liberation/monetization/shared/httpapi"
	"github.com/liberation/monetization/shared/ids"
	"github.com/liberation/monetization/shared/manifest"
	"github.com/liberation/monetization/shared/store"
)

// Classes: an instructor's group of learners with its own leaderboard. Learners join with the
// class's code; the owner removes members (or a member leaves). Only members and the owner see the
// class and its board; to anyone else it does not exist (404).

// MaxClassMembers bounds a class (its board reads one score item per member).
const MaxClassMembers = 300

var errClassFull = apperr.New(apperr.Unprocessable, "the class is full (%d members)", MaxClassMembers)

type classItem struct {
	PK          string    `dynamodbav:"PK"`
	SK          string    `dynamodbav:"SK"`
	Type        string    `dynamodbav:"type"`
	ID          string    `dynamodbav:"id"`
	Name        string    `dynamodbav:"name"`
	OwnerID     string    `dynamodbav:"ownerId"`
	JoinCode    string    `dynamodbav:"joinCode"`
	MemberCount int64     `dynamodbav:"memberCount"`
	CreatedAt   time.Time `dynamodbav:"createdAt"`
}

type classCodeItem struct {
	PK      string `dynamodbav:"PK"`
	SK      string `dynamodbav:"SK"`
	Type    string `dynamodbav:"type"`
	ClassID string `dynamodbav:"classId"`
}

type memberItem struct {
	PK       string    `dynamodbav:"PK"`
	SK       string    `dynamodbav:"SK"`
	Type     string    `dynamodbav:"type"`
	ClassID  string    `dynamodbav:"classId"`
	UserID   string    `dynamodbav:"userId"`
	JoinedAt time.Time `dynamodbav:"joinedAt"`
}

// ClassView is a class as its owner or a member sees it.
type ClassView struct {
	ID          string       `json:"id"`
	Name        string       `json:"name"`
	MemberCount int64        `json:"memberCount"`
	Owner       bool         `json:"owner"`              // the caller owns it
	JoinCode    string       `json:"joinCode,omitempty"` // owner only
	Members     []MemberView `json:"members,omitempty"`  // owner only
	CreatedAt   time.Time    `json:"createdAt"`
	Membership  *time.Time   `json:"joinedAt,omitempty"` // a member's own join time
}

// MemberView is a member as the owner sees them.
type MemberView struct {
	UserID      string    `json:"userId"`
	DisplayName string    `json:"displayName"`
	JoinedAt    time.Time `json:"joinedAt"`
}

// validClassID: "cls_" + a ULID.
func validClassID(s string) bool { return ids.Valid("cls", s) }

// joinCodeAlphabet avoids look-alike characters (no 0/O, 1/I/L).
const joinCodeAlphabet = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"

// JoinCodeLen is the length of a new join code: 13 symbols of 31 are 13 × log2(31) ≈ 64.4 bits,
// so guessing one class's code takes 2^63 tries on average (docs/decisions/0077).
// LegacyJoinCodeLen is the 8-symbol code of classes created before (≈ 39.6 bits): they still join,
// behind join-class's per-user rate limit.
const (
	JoinCodeLen       = 13
	LegacyJoinCodeLen = 8
)

func newJoinCode() string {
	c, err := drawJoinCode(rand.Reader)
	if err != nil {
		panic("crypto/rand failed: " + err.Error()) // crypto/rand does not fail on supported platforms
	}
	return c
}

// joinCodeUnbiased is the largest multiple of the alphabet's size that fits in a byte (248 = 8 × 31):
// bytes from it up are rejected, so every symbol comes from exactly 8 byte values.
const joinCodeUnbiased = 256 / len(joinCodeAlphabet) * len(joinCodeAlphabet)

// drawJoinCode draws JoinCodeLen symbols from src, uniformly, by rejection sampling (src stands for
// crypto/rand; tests feed it bytes that expose a modulo bias). It reads one byte at a time, so it
// consumes exactly the bytes it judges. A byte is rejected with probability 8/256; a source that
// keeps giving rejected bytes ends in an error after 64 of them, never in a loop.
func drawJoinCode(src io.Reader) (string, error) {
	b := make([]byte, 0, JoinCodeLen)
	var one [1]byte
	for rejected := 0; len(b) < JoinCodeLen; {
		if _, err := io.ReadFull(src, one[:]); err != nil {
			return "", err
		}
		if int(one[0]) >= joinCodeUnbiased {
			if rejected++; rejected == 64 {
				return "", errors.New("join code: the random source gave only rejected bytes")
			}
			continue
		}
		b = append(b, joinCodeAlphabet[int(one[0])%len(joinCodeAlphabet)])
	}
	return string(b), nil
}

// NormalizeJoinCode accepts codes as people type them: lower case, with spaces or dashes.
func NormalizeJoinCode(s string) string {
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' {
			return -1
		}
		return r
	}, strings.ToUpper(strings.TrimSpace(s)))
}

// ClassRequest is the body of POST /classes.
type ClassRequest struct {
	Name string `json:"name"`
}

// Validate checks the class name.
func (q *ClassRequest) Validate() error {
	if err := CheckText("name", q.Name, 2, 64); err != nil {
		return err
	}
	q.Name = strings.TrimSpace(q.Name)
	return nil
}

func wireCreateClass(w wiring) (httpapi.Lambda, error) { return HandleCreateClass(w.rt.Fn, w.d), nil }

// HandleCreateClass serves POST /classes (instructors only: the frame answers 403 to others, from
// the manifest entry's Groups).
func HandleCreateClass(fn manifest.Function, d *Deps) httpapi.Lambda {
	return httpapi.Route(fn, httpapi.Idempotent(d.claims(), fn.Name, createClass(d.Clock, d.social())))
}

func createClass(clk clock.Clock, s Social) httpapi.Handler {
	return func(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
		var q ClassRequest
		if err := r.Decode(&q); err != nil {
			return httpapi.Response{}, err
		}
		now := clk.Now()
		for range 5 { // a join code collision (1 in 31^13 per class) just draws another code
			c := classItem{Type: "class", ID: ids.New("cls", now), Name: q.Name, OwnerID: r.Principal.UserID,
				JoinCode: newJoinCode(), CreatedAt: now}
			err := s.CreateClass(ctx, c)
			if store.IsConditionFailed(err) {
				continue
			}
			if err != nil {
				return httpapi.Response{}, err
			}
			return httpapi.JSON(http.StatusCreated, ClassView{ID: c.ID, Name: c.Name, Owner: true, JoinCode: c.JoinCode,
				CreatedAt: now.UTC(), Members: []MemberView{}}), nil
		}
		return httpapi.Response{}, apperr.New(apperr.Conflict, "could not draw a free join code; retry")
	}
}

// classFor reads a class the caller may see: its owner or a member. To anyone else it is a 404.
func classFor(ctx context.Context, s Social, classID, userID string) (classItem, *memberItem, error) {
	if !validClassID(classID) {
		return classItem{}, nil, apperr.New(apperr.Invalid, "classId is malformed")
	}
	c, err := s.Class(ctx, classID)
	if err != nil || c.OwnerID == userID {
		return c, nil, err
	}
	m, err := s.Member(ctx, classID, userID)
	if err == nil && m == nil {
		return classItem{}, nil, apperr.New(apperr.NotFound, "no such class")
	}
	return c, m, err
}

// JoinRequest is the body of POST /classes/join.
type JoinRequest struct {
	Code string `json:"code"`
}

// Validate checks the code's shape.
func (q *JoinRequest) Validate() error {
	q.Code = NormalizeJoinCode(q.Code)
	if (len(q.Code) != JoinCodeLen && len(q.Code) != LegacyJoinCodeLen) || strings.Trim(q.Code, joinCodeAlphabet) != "" {
		return apperr.New(apperr.Invalid, "code must be the class's join code (%d characters; %d for older classes)",
			JoinCodeLen, LegacyJoinCodeLen)
	}
	return nil
}

func wireJoinClass(w wiring) (httpapi.Lambda, error) { return HandleJoinClass(w.rt.Fn, w.d), nil }

// HandleJoinClass serves POST /classes/join (joining twice changes nothing).
func HandleJoinClass(fn manifest.Function, d *Deps) httpapi.Lambda {
	return httpapi.Route(fn, joinClass(d.Clock, d.social()))
}

func joinClass(clk clock.Clock, s Social) httpapi.Handler {
	return func(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
		var q JoinRequest
		if err := r.Decode(&q); err != nil {
			return httpapi.Response{}, err
		}
		classID, err := s.ClassOfCode(ctx, q.Code)
		if err != nil {
			return httpapi.Response{}, err
		}
		c, err := s.Class(ctx, classID)
		if err != nil {
			return httpapi.Response{}, err
		}
		me := r.Principal.UserID
		if c.OwnerID == me {
			return httpapi.Response{}, apperr.New(apperr.Unprocessable, "you own this class")
		}
		added, m, err := s.Join(ctx, memberItem{ClassID: c.ID, UserID: me, JoinedAt: clk.Now()})
		if err != nil {
			return httpapi.Response{}, err
		}
		if added {
			c.MemberCount++
		}
		now := m.JoinedAt
		joined := now.UTC()
		return httpapi.OK(ClassView{ID: c.ID, Name: c.Name, MemberCount: c.MemberCount, CreatedAt: c.CreatedAt.UTC(), Membership: &joined}), nil
	}
}

func wireRemoveClassMember(w wiring) (httpapi.Lambda, error) {
	return HandleRemoveClassMember(w.rt.Fn, w.d), nil
}

// HandleRemoveClassMember serves DELETE /classes/{classId}/members/{userId}: the owner removes a
// member, or a member leaves. Removing someone who is not a member changes nothing.
func HandleRemoveClassMember(fn manifest.Function, d *Deps) httpapi.Lambda {
	return httpapi.Route(fn, removeClassMember(d.social()))
}

func removeClassMember(s Social) httpapi.Handler {
	return func(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
		classID, target := r.PathParam("classId"), r.PathParam("userId")
		if !validID(target) {
			return httpapi.Response{}, apperr.New(apperr.Invalid, "userId is malformed")
		}
		me := r.Principal.UserID
		c, _, err := classFor(ctx, s, classID, me)
		if err != nil {
			return httpapi.Response{}, err
		}
		if c.OwnerID != me && target != me {
			return httpapi.Response{}, apperr.New(apperr.NotFound, "no such member") // members cannot remove others
		}
		removed, err := s.Leave(ctx, classID, target)
		if err != nil {
			return httpapi.Response{}, err
		}
		return httpapi.OK(map[string]any{"classId": classID, "userId": target, "removed": removed}), nil
	}
}

func wireGetClass(w wiring) (httpapi.Lambda, error) { return HandleGetClass(w.rt.Fn, w.d), nil }

// HandleGetClass serves GET /classes/{classId}: the owner also gets the join code and the members.
func HandleGetClass(fn manifest.Function, d *Deps) httpapi.Lambda {
	return httpapi.Route(fn, getClass(d.social()))
}

func getClass(s Social) httpapi.Handler {
	return func(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
		c, m, err := classFor(ctx, s, r.PathParam("classId"), r.Principal.UserID)
		if err != nil {
			return httpapi.Response{}, err
		}
		v := ClassView{ID: c.ID, Name: c.Name, MemberCount: c.MemberCount, CreatedAt: c.CreatedAt.UTC()}
		if m != nil {
			joined := m.JoinedAt.UTC()
			v.Membership = &joined
			return httpapi.OK(v), nil
		}
		v.Owner, v.JoinCode, v.Members = true, c.JoinCode, []MemberView{}
		ms, err := s.Members(ctx, c.ID)
		if err != nil {
			return httpapi.Response{}, err
		}
		ids := make([]string, len(ms))
		for i, x := range ms {
			ids[i] = x.UserID
		}
		names, err := s.DisplayNames(ctx, ids)
		if err != nil {
			return httpapi.Response{}, err
		}
		for _, x := range ms {
			v.Members = append(v.Members, MemberView{UserID: x.UserID, DisplayName: displayName(names[x.UserID]),
				JoinedAt: x.JoinedAt.UTC()})
		}
		return httpapi.OK(v), nil
	}
}

// DisplayNames reads the display names of users (one read per user; unset names are absent).
func (d *Deps) DisplayNames(ctx context.Context, userIDs []string) (map[string]string, error) {
	return d.social().DisplayNames(ctx, userIDs)
}
