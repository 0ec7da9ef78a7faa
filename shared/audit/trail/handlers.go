package trail

import (
	"context"
	"time"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/audit"
	"github.com/liberation/monetization/shared/clock"
	"github.com/liberation/monetization/shared/httpapi"
	"github.com/liberation/monetization/shared/store"
)

func wireListAuditRecords(w wiring) (httpapi.Lambda, error) {
	return w.route(handleList(w.Clock, w.Store))
}

// listLimits: ?limit= of GET /admin/audit.
var listLimits = httpapi.Limits{Default: 100, Max: 500}

// MaxRange is the longest from–to span of one listing (the day partitions are read one by one
// when neither actor nor target is given).
const MaxRange = 92 * 24 * time.Hour

// DefaultRange is the span listed when from is absent: the week before to.
const DefaultRange = 7 * 24 * time.Hour

// Record is an audit record as GET /admin/audit shows it, with its place in its hash chain.
type Record struct {
	ID        string            `json:"id"`
	At        time.Time         `json:"at"`
	Actor     string            `json:"actor"`
	Action    string            `json:"action"`
	Target    string            `json:"target"`
	RequestID string            `json:"requestId"`
	Details   map[string]string `json:"details"`
	Chain     string            `json:"chain,omitempty"`
	Seq       int64             `json:"seq,omitempty"`
	Hash      string            `json:"hash,omitempty"`
}

func view(r audit.Record) Record {
	d := r.Details
	if d == nil {
		d = map[string]string{}
	}
	return Record{ID: r.ID, At: r.At, Actor: r.Actor, Action: r.Action, Target: r.Target, RequestID: r.RequestID,
		Details: d, Chain: r.Chain, Seq: r.Seq, Hash: r.Hash}
}

// handleList serves GET /admin/audit?actor=&target=&action=&from=&to=&cursor=&limit= (admins; the
// frame answers 403 to anyone else): the records at or after from and before to, oldest first.
// from and to are RFC 3339 times or days (yyyy-mm-dd: that day's start, UTC), to whole seconds; to
// defaults to now, from to a week before to; from must be before to, and the span at most 92 days
// (400 otherwise). The cursor is bound to the query.
func handleList(clk clock.Clock, s *store.Store) httpapi.Handler {
	return func(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
		q, err := ParseQuery(r.Event.QueryStringParameters, clk.Now())
		if err != nil {
			return httpapi.Response{}, err
		}
		return httpapi.ListPage(ctx, r, "records", listLimits, func(ctx context.Context, limit int32, cursor string) ([]audit.Record, string, error) {
			return Records(ctx, s, q, limit, cursor)
		}, view)
	}
}

// ParseQuery reads the listing's parameters (see handleList).
func ParseQuery(p map[string]string, now time.Time) (Query, error) {
	q := Query{Actor: p["actor"], Target: p["target"], Action: p["action"]}
	for name, v := range map[string]string{"actor": q.Actor, "target": q.Target, "action": q.Action} {
		if len(v) > 200 {
			return q, apperr.New(apperr.Invalid, "%s is longer than 200 characters", name)
		}
	}
	var err error
	// Without to: the end of the current UTC day (nothing is later than now), a bound that stays
	// the same from one page to the next, so the cursor's scope (which binds to) does too; "now"
	// would move between the pages of one listing and refuse its cursor.
	q.To = now.UTC().Truncate(24 * time.Hour).Add(24 * time.Hour)
	if s, ok := p["to"]; ok {
		if q.To, err = parseTime("to", s); err != nil {
			return q, err
		}
	}
	q.From = q.To.Add(-DefaultRange)
	if s, ok := p["from"]; ok {
		if q.From, err = parseTime("from", s); err != nil {
			return q, err
		}
	}
	switch {
	case !q.From.Before(q.To):
		return q, apperr.New(apperr.Invalid, "from must be before to")
	case q.To.Sub(q.From) > MaxRange:
		return q, apperr.New(apperr.Invalid, "from and to must be at most 92 days apart")
	case q.From.Year() < 2000 || q.To.Year() > 9999:
		return q, apperr.New(apperr.Invalid, "from and to must be between the years 2000 and 9999")
	}
	return q, nil
}

func parseTime(name, s string) (time.Time, error) {
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t.UTC(), nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, apperr.New(apperr.Invalid, "%s must be an RFC 3339 time or a day (yyyy-mm-dd)", name)
	}
	return t.UTC().Truncate(time.Second), nil
}
