package privacy

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/audit"
	"github.com/liberation/monetization/shared/clock"
	"github.com/liberation/monetization/shared/httpapi"
	"github.com/liberation/monetization/shared/ids"
	"github.com/liberation/monetization/shared/manifest"
	"github.com/liberation/monetization/shared/queue"
)

// Requests opens, resumes and re-sends erasure requests: the logic DELETE /me and the admin route
// share.
type Requests struct {
	Clock clock.Clock
	Repo  ErasureRepo
	Queue queue.Sender
}

// Request opens the user's erasure request, or answers with the one they have: a running request
// is re-sent when it has not moved for StaleAfter (its message was lost), a held or failed one is
// resumed (a new pass: held from the start, failed from its checkpoint), a done one is answered as
// it is. by is RequestedBySelf or the admin's id; email the caller's verified address, if any.
func (q Requests) Request(ctx context.Context, userID, email, by, reason string) (Erasure, error) {
	now := q.Clock.Now().UTC()
	e := Erasure{ID: ids.New(ErasureIDPrefix, now), UserID: userID, Pseudonym: ids.New(PseudonymPrefix, now),
		RequestedBy: by, Reason: reason, Status: ErasureQueued, CreatedAt: now, UpdatedAt: now, Pass: 1}
	if email != "" {
		e.Emails = []string{strings.ToLower(email)}
	}
	// The request's audit record names the pseudonym: the person's own request has them as actor.
	actor := by
	if by == RequestedBySelf {
		actor = e.Subject().PseudonymTarget()
	}
	got, created, err := q.Repo.CreateErasure(ctx, e, audit.Entry{Actor: actor, Action: "erasure.request",
		Target: e.Subject().PseudonymTarget(), RequestID: e.ID, Details: map[string]string{"by": kindOf(by)}})
	if err != nil || created {
		if err == nil {
			err = q.send(ctx, got)
		}
		return got, err
	}
	switch {
	case got.Status == ErasureHeld || got.Status == ErasureFailed:
		if got.Status == ErasureHeld {
			got.Status = ErasureQueued // a new pass from the first area: the holds are found again
		} else {
			got.Status = ErasureRunning // from the checkpoint of the pass that failed
		}
		got.Pass++
		got.Attempts, got.Error, got.FinishedAt, got.UpdatedAt = 0, "", nil, now
		if email != "" && !slices.Contains(got.Emails, strings.ToLower(email)) {
			got.Emails = append(got.Emails, strings.ToLower(email))
		}
		if got, err = q.Repo.SaveErasure(ctx, got); err != nil {
			if IsLostRace(err) {
				return Erasure{}, apperr.New(apperr.Conflict, "the erasure is changing; try again")
			}
			return Erasure{}, err
		}
		return got, q.send(ctx, got)
	case !got.Finished() && now.Sub(got.UpdatedAt) >= StaleAfter:
		return got, q.send(ctx, got)
	}
	return got, nil
}

func (q Requests) send(ctx context.Context, e Erasure) error {
	m := EraseMessage{UserID: e.UserID, ErasureID: e.ID, Pass: e.Pass, Step: e.Step}
	return q.Queue.Send(ctx, manifest.ErasuresQueue, MessageErase, m.dedupeID(), m)
}

func kindOf(by string) string {
	if by == RequestedBySelf {
		return "self"
	}
	return "admin"
}

func wireDeleteMe(w wiring) (httpapi.Lambda, error) {
	if err := need(w, w.Queue != nil, "queue sender"); err != nil {
		return nil, err
	}
	return w.route(httpapi.Idempotent(w.Store, w.rt.Fn.Name, HandleDeleteMe(Requests{Clock: w.Clock, Repo: w.Repo, Queue: w.Queue})))
}

// HandleDeleteMe serves DELETE /me?confirm=ERASE: 202 with the caller's erasure request, new or the
// one they have (idempotent: a second DELETE answers with the same request). The confirmation is a
// query parameter: a DELETE's body has no defined meaning (RFC 9110) and proxies may drop it.
func HandleDeleteMe(q Requests) httpapi.Handler {
	return func(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
		if c := r.Query("confirm"); c != ConfirmErase {
			return httpapi.Response{}, apperr.New(apperr.Invalid, "confirm must be %q: erasure cannot be undone", ConfirmErase)
		}
		e, err := q.Request(ctx, r.Principal.UserID, r.Principal.Email, RequestedBySelf, "")
		if err != nil {
			return httpapi.Response{}, err
		}
		r.Log.Info("erasure requested", "erasureId", e.ID, "status", e.Status)
		return httpapi.JSON(http.StatusAccepted, erasureView(e)), nil
	}
}

func wireAdminEraseUser(w wiring) (httpapi.Lambda, error) {
	if err := need(w, w.Queue != nil, "queue sender"); err != nil {
		return nil, err
	}
	return w.route(httpapi.Idempotent(w.Store, w.rt.Fn.Name, HandleAdminErase(Requests{Clock: w.Clock, Repo: w.Repo, Queue: w.Queue})))
}

// AdminEraseBody is the admin route's body: where the request came from ("e-mail of 2 Dec from
// the user's registered address, ticket tkt_…").
type AdminEraseBody struct {
	Reason string `json:"reason"`
}

// maxUserID bounds a user id taken from the path (the IdP's subject ids are 36 characters).
const maxUserID = 128

// HandleAdminErase serves POST /admin/users/{userId}/erase: the same request as DELETE /me, made
// by an admin for a request received by e-mail or post.
func HandleAdminErase(q Requests) httpapi.Handler {
	return func(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
		user := r.PathParam("userId")
		if user == "" || len(user) > maxUserID || strings.ContainsFunc(user, func(r rune) bool { return r == '#' || r == '/' || r < 0x20 }) {
			return httpapi.Response{}, apperr.New(apperr.Invalid, "userId is malformed")
		}
		var body AdminEraseBody
		if err := r.Decode(&body); err != nil {
			return httpapi.Response{}, err
		}
		reason, err := httpapi.OneLine("reason", body.Reason, 500)
		if err != nil {
			return httpapi.Response{}, err
		}
		e, err := q.Request(ctx, user, "", r.Principal.UserID, reason)
		if err != nil {
			return httpapi.Response{}, err
		}
		r.Log.Info("erasure requested by an admin", "erasureId", e.ID, "status", e.Status)
		return httpapi.JSON(http.StatusAccepted, erasureView(e)), nil
	}
}

func wireListPrivacyRequests(w wiring) (httpapi.Lambda, error) {
	return w.route(HandleListRequests(w.Repo))
}

// RequestLister reads the privacy requests, newest first.
type RequestLister interface {
	Requests(ctx context.Context, limit int32, cursor string) ([]requestRow, string, error)
}

// RequestView is one export or erasure in the admins' list.
type RequestView struct {
	Kind        string     `json:"kind"` // "export" or "erasure"
	ID          string     `json:"id"`
	UserID      string     `json:"userId"`
	Status      string     `json:"status"`
	RequestedBy string     `json:"requestedBy"`
	CreatedAt   time.Time  `json:"createdAt"`
	UpdatedAt   time.Time  `json:"updatedAt"`
	FinishedAt  *time.Time `json:"finishedAt,omitempty"`
	Pseudonym   string     `json:"pseudonym,omitempty"`
	Holds       []Hold     `json:"holds,omitempty"`
	Error       string     `json:"error,omitempty"`
}

// HandleListRequests serves GET /admin/privacy-requests (?limit=, ?cursor=).
func HandleListRequests(repo RequestLister) httpapi.Handler {
	return func(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
		return httpapi.ListPage(ctx, r, "requests", httpapi.Limits{Default: 50, Max: 100}, repo.Requests, requestView)
	}
}

func requestView(row requestRow) RequestView {
	v := RequestView{Kind: "erasure", ID: row.ID, UserID: row.UserID, Status: row.Status, RequestedBy: row.RequestedBy,
		CreatedAt: row.CreatedAt, UpdatedAt: row.UpdatedAt, FinishedAt: row.FinishedAt, Pseudonym: row.Pseudonym,
		Holds: row.Holds, Error: row.Error}
	if row.Type == "personal-export" {
		v.Kind, v.RequestedBy, v.FinishedAt = "export", RequestedBySelf, row.ReadyAt
	}
	return v
}
