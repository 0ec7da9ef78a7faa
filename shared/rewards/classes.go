package rewards

import (
	"context"
	"crypto/rand"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/liberation/monetization/shared/apperr"
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

func newJoinCode() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = joinCodeAlphabet[int(b[i])%len(joinCodeAlphabet)]
	}
	return string(b)
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

// HandleCreateClass serves POST /classes (instructors only: the frame answers 403 to others, from
// the manifest entry's Groups).
func HandleCreateClass(fn manifest.Function, d *Deps) httpapi.Lambda {
	return httpapi.Route(fn, httpapi.Idempotent(d.Store, fn.Name, func(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
		var q ClassRequest
		if err := r.Decode(&q); err != nil {
			return httpapi.Response{}, err
		}
		now := d.Clock.Now()
		for range 5 { // a join code collision (1 in 31^8 per class) just draws another code
			c := classItem{Type: "class", ID: ids.New("cls", now), Name: q.Name, OwnerID: r.Principal.UserID,
				JoinCode: newJoinCode(), CreatedAt: now}
			k, ck := store.ClassKey(c.ID), store.ClassCodeKey(c.JoinCode)
			c.PK, c.SK = k.PK, k.SK
			item, err := store.Marshal(c)
			if err != nil {
				return httpapi.Response{}, err
			}
			code, err := store.Marshal(classCodeItem{PK: ck.PK, SK: ck.SK, Type: "class-code", ClassID: c.ID})
			if err != nil {
				return httpapi.Response{}, err
			}
			err = d.Store.Transact(ctx, []types.TransactWriteItem{
				{Put: &types.Put{Item: item, ConditionExpression: aws.String("attribute_not_exists(PK)")}},
				{Put: &types.Put{Item: code, ConditionExpression: aws.String("attribute_not_exists(PK)")}},
			})
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
	}))
}

func (d *Deps) class(ctx context.Context, id string) (classItem, error) {
	var c classItem
	err := d.Store.GetConsistent(ctx, store.ClassKey(id), &c)
	if apperr.Is(err, apperr.NotFound) {
		return c, apperr.New(apperr.NotFound, "no such class")
	}
	return c, err
}

// classFor reads a class the caller may see: its owner or a member. To anyone else it is a 404.
func (d *Deps) classFor(ctx context.Context, classID, userID string) (classItem, *memberItem, error) {
	if !validClassID(classID) {
		return classItem{}, nil, apperr.New(apperr.Invalid, "classId is malformed")
	}
	c, err := d.class(ctx, classID)
	if err != nil || c.OwnerID == userID {
		return c, nil, err
	}
	var m memberItem
	err = d.Store.GetConsistent(ctx, store.ClassMemberKey(classID, userID), &m)
	if apperr.Is(err, apperr.NotFound) {
		return classItem{}, nil, apperr.New(apperr.NotFound, "no such class")
	}
	return c, &m, err
}

func (d *Deps) members(ctx context.Context, classID string) ([]memberItem, error) {
	k := store.ClassKey(classID)
	return store.QueryAll[memberItem](ctx, d.Store, &dynamodb.QueryInput{
		KeyConditionExpression: aws.String("PK = :pk AND begins_with(SK, :p)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": store.S(k.PK), ":p": store.S(store.ClassMemberPrefix),
		},
	})
}

// JoinRequest is the body of POST /classes/join.
type JoinRequest struct {
	Code string `json:"code"`
}

// Validate checks the code's shape.
func (q *JoinRequest) Validate() error {
	q.Code = NormalizeJoinCode(q.Code)
	if len(q.Code) != 8 || strings.Trim(q.Code, joinCodeAlphabet) != "" {
		return apperr.New(apperr.Invalid, "code must be the class's 8-character join code")
	}
	return nil
}

// HandleJoinClass serves POST /classes/join (joining twice changes nothing).
func HandleJoinClass(fn manifest.Function, d *Deps) httpapi.Lambda {
	return httpapi.Route(fn, func(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
		var q JoinRequest
		if err := r.Decode(&q); err != nil {
			return httpapi.Response{}, err
		}
		var code classCodeItem
		if err := d.Store.GetConsistent(ctx, store.ClassCodeKey(q.Code), &code); err != nil {
			if apperr.Is(err, apperr.NotFound) {
				return httpapi.Response{}, apperr.New(apperr.NotFound, "no class has this code")
			}
			return httpapi.Response{}, err
		}
		c, err := d.class(ctx, code.ClassID)
		if err != nil {
			return httpapi.Response{}, err
		}
		me := r.Principal.UserID
		if c.OwnerID == me {
			return httpapi.Response{}, apperr.New(apperr.Unprocessable, "you own this class")
		}
		now := d.Clock.Now()
		k := store.ClassMemberKey(c.ID, me)
		item, err := store.Marshal(memberItem{PK: k.PK, SK: k.SK, Type: "class-member", ClassID: c.ID, UserID: me, JoinedAt: now})
		if err != nil {
			return httpapi.Response{}, err
		}
		err = d.Store.Transact(ctx, []types.TransactWriteItem{
			{Put: &types.Put{Item: item, ConditionExpression: aws.String("attribute_not_exists(PK)")}},
			{Update: &types.Update{Key: store.ClassKey(c.ID).Item(), UpdateExpression: aws.String("ADD memberCount :one"),
				ConditionExpression:       aws.String("attribute_exists(PK) AND memberCount < :max"),
				ExpressionAttributeValues: map[string]types.AttributeValue{":one": store.N(1), ":max": store.N(MaxClassMembers)}}},
		})
		switch failed := store.FailedItems(err); {
		case len(failed) > 0 && failed[0] == 0: // already a member
			var m memberItem
			if err := d.Store.GetConsistent(ctx, k, &m); err == nil {
				now = m.JoinedAt
			}
		case len(failed) > 0:
			return httpapi.Response{}, apperr.New(apperr.Unprocessable, "the class is full (%d members)", MaxClassMembers)
		case err != nil:
			return httpapi.Response{}, err
		default:
			c.MemberCount++
		}
		joined := now.UTC()
		return httpapi.OK(ClassView{ID: c.ID, Name: c.Name, MemberCount: c.MemberCount, CreatedAt: c.CreatedAt.UTC(), Membership: &joined}), nil
	})
}

// HandleRemoveClassMember serves DELETE /classes/{classId}/members/{userId}: the owner removes a
// member, or a member leaves. Removing someone who is not a member changes nothing.
func HandleRemoveClassMember(fn manifest.Function, d *Deps) httpapi.Lambda {
	return httpapi.Route(fn, func(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
		classID, target := r.PathParam("classId"), r.PathParam("userId")
		if !validID(target) {
			return httpapi.Response{}, apperr.New(apperr.Invalid, "userId is malformed")
		}
		me := r.Principal.UserID
		c, _, err := d.classFor(ctx, classID, me)
		if err != nil {
			return httpapi.Response{}, err
		}
		if c.OwnerID != me && target != me {
			return httpapi.Response{}, apperr.New(apperr.NotFound, "no such member") // members cannot remove others
		}
		err = d.Store.Transact(ctx, []types.TransactWriteItem{
			{Delete: &types.Delete{Key: store.ClassMemberKey(classID, target).Item(), ConditionExpression: aws.String("attribute_exists(PK)")}},
			{Update: &types.Update{Key: store.ClassKey(classID).Item(), UpdateExpression: aws.String("ADD memberCount :minus"),
				ExpressionAttributeValues: map[string]types.AttributeValue{":minus": store.N(-1)}}},
		})
		removed := err == nil
		if err != nil && !store.IsConditionFailed(err) {
			return httpapi.Response{}, err
		}
		return httpapi.OK(map[string]any{"classId": classID, "userId": target, "removed": removed}), nil
	})
}

// HandleGetClass serves GET /classes/{classId}: the owner also gets the join code and the members.
func HandleGetClass(fn manifest.Function, d *Deps) httpapi.Lambda {
	return httpapi.Route(fn, func(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
		c, m, err := d.classFor(ctx, r.PathParam("classId"), r.Principal.UserID)
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
		ms, err := d.members(ctx, c.ID)
		if err != nil {
			return httpapi.Response{}, err
		}
		ids := make([]string, len(ms))
		for i, x := range ms {
			ids[i] = x.UserID
		}
		names, err := d.DisplayNames(ctx, ids)
		if err != nil {
			return httpapi.Response{}, err
		}
		for _, x := range ms {
			v.Members = append(v.Members, MemberView{UserID: x.UserID, DisplayName: displayName(names[x.UserID]),
				JoinedAt: x.JoinedAt.UTC()})
		}
		return httpapi.OK(v), nil
	})
}

// DisplayNames reads the display names of users (one read per user; unset names are absent).
func (d *Deps) DisplayNames(ctx context.Context, userIDs []string) (map[string]string, error) {
	keys := make([]store.Key, len(userIDs))
	for i, u := range userIDs {
		keys[i] = store.TokenAccountKey(u)
	}
	items, err := store.BatchGet[accountItem](ctx, d.Store, keys)
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(items))
	for _, it := range items {
		out[it.UserID] = it.DisplayName
	}
	return out, nil
}
