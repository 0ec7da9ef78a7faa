package privacy

import (
	"context"
	"net/http"
	"time"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/blob"
	"github.com/liberation/monetization/shared/clock"
	"github.com/liberation/monetization/shared/httpapi"
	"github.com/liberation/monetization/shared/ids"
	"github.com/liberation/monetization/shared/manifest"
	"github.com/liberation/monetization/shared/queue"
)

func wireCreatePersonalExport(w wiring) (httpapi.Lambda, error) {
	if err := need(w, w.Queue != nil, "queue sender"); err != nil {
		return nil, err
	}
	return w.route(httpapi.Idempotent(w.Store, w.rt.Fn.Name, HandleCreate(w.Clock, w.Repo, w.Queue)))
}

// Exports is what the create route needs of the export items.
type Exports interface {
	Create(ctx context.Context, e Export) (Export, bool, error)
}

// HandleCreate serves POST /me/export: a new export, queued (202), or — while one of the caller's
// exports is being built — that export (202 too: one at a time). The message is sent on every
// answer that finds the export unfinished and not moved for StaleAfter, so a message lost after
// the write (or dead-lettered) is sent again by the user's next request.
func HandleCreate(clk clock.Clock, repo Exports, q queue.Sender) httpapi.Handler {
	return func(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
		now := clk.Now().UTC()
		e := Export{ID: ids.New(IDPrefix, now), UserID: r.Principal.UserID, Email: r.Principal.Email,
			Status: StatusQueued, CreatedAt: now, UpdatedAt: now}
		got, created, err := repo.Create(ctx, e)
		if err != nil {
			return httpapi.Response{}, err
		}
		if created || (!got.Finished() && now.Sub(got.UpdatedAt) >= StaleAfter) {
			m := Message{UserID: got.UserID, ExportID: got.ID, Step: got.Step}
			if err := q.Send(ctx, manifest.ExportsQueue, MessageBuild, m.dedupeID(), m); err != nil {
				return httpapi.Response{}, err
			}
		}
		r.Log.Info("personal export requested", "exportId", got.ID, "new", created)
		return httpapi.JSON(http.StatusAccepted, view(got, now, "")), nil
	}
}

func wireGetPersonalExport(w wiring) (httpapi.Lambda, error) {
	if err := need(w, w.Blobs != nil, "blob store"); err != nil {
		return nil, err
	}
	return w.route(HandleGet(w.Clock, w.Repo, w.Blobs))
}

// ExportReader is what the get route needs of the export items.
type ExportReader interface {
	Get(ctx context.Context, userID, exportID string) (Export, error)
}

// Linker presigns the download link.
type Linker interface {
	PresignGet(ctx context.Context, o blob.Object, ttl time.Duration) (string, error)
}

// HandleGet serves GET /me/exports/{exportId}: the caller's export, with a link while it is ready
// (valid until the 24 h of the e-mailed one end). Another user's id, like an unknown or malformed
// one, is a 404: the export is read under the caller's own partition.
func HandleGet(clk clock.Clock, repo ExportReader, links Linker) httpapi.Handler {
	return func(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
		id := r.PathParam("exportId")
		if !ids.Valid(IDPrefix, id) {
			return httpapi.Response{}, apperr.New(apperr.NotFound, "export not found")
		}
		e, err := repo.Get(ctx, r.Principal.UserID, id)
		if apperr.Is(err, apperr.NotFound) {
			return httpapi.Response{}, apperr.New(apperr.NotFound, "export not found")
		}
		if err != nil {
			return httpapi.Response{}, err
		}
		now := clk.Now().UTC()
		url := ""
		if e.StatusAt(now) == StatusReady {
			if url, err = links.PresignGet(ctx, ZipObject(e), e.LinkExpiresAt.Sub(now)); err != nil {
				return httpapi.Response{}, err
			}
		}
		return httpapi.OK(view(e, now, url)), nil
	}
}

func view(e Export, now time.Time, url string) View {
	v := View{ExportID: e.ID, Status: e.StatusAt(now), CreatedAt: e.CreatedAt, UpdatedAt: e.UpdatedAt,
		Items: e.Items, ReadyAt: e.ReadyAt}
	if url != "" {
		v.URL, v.URLExpiresAt = url, e.LinkExpiresAt
	}
	return v
}
