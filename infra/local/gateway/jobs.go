package gateway

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/liberation/monetization/infra/local/scheduler"
	"github.com/liberation/monetization/shared/apperr"
)

// jobsRoot is the local-only endpoint that runs a schedule function now (make job NAME=...):
// POST /_local/jobs/{name}; GET /_local/jobs lists the jobs. It exists only in this gateway:
// nothing like it is deployed.
const jobsRoot = "/_local/jobs"

// JobResult is the body of a successful POST /_local/jobs/{name}: Result is exactly the JSON the
// job function returned (its report), absent when it returns nothing. A failed run answers 500 in
// the error shape, with the job's error as the message (this endpoint is for the developer).
type JobResult struct {
	Function string          `json:"function"`
	Result   json.RawMessage `json:"result,omitempty"`
	Ms       int64           `json:"ms"`
}

// JobList is the body of GET /_local/jobs.
type JobList struct {
	Jobs []string `json:"jobs"`
}

// JobNames lists the schedule functions the gateway runs, sorted.
func (g *Gateway) JobNames() []string {
	names := make([]string, 0, len(g.jobs))
	for n := range g.jobs {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func (g *Gateway) serveJob(w http.ResponseWriter, r *http.Request, name string) {
	reqID := apigwRequestID()
	w.Header().Set("apigw-requestid", reqID)
	if name == "" {
		if r.Method != http.MethodGet {
			w.Header().Set("allow", http.MethodGet)
			writeError(w, apperr.New(apperr.MethodNotAllowed, "use GET to list the jobs"), reqID)
			return
		}
		writeJSON(w, http.StatusOK, JobList{Jobs: g.JobNames()})
		return
	}
	f, ok := g.jobs[name]
	if !ok {
		writeError(w, apperr.New(apperr.NotFound, "no schedule function named %q; the jobs are: %s",
			name, strings.Join(g.JobNames(), ", ")), reqID)
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("allow", http.MethodPost)
		writeError(w, apperr.New(apperr.MethodNotAllowed, "use POST to run %s", name), reqID)
		return
	}
	// An optional JSON object of strings goes into the event's detail (`make job NAME=reconcile
	// DAY=2026-12-05`).
	var extra map[string]string
	if body, _ := io.ReadAll(io.LimitReader(r.Body, 4096)); len(bytes.TrimSpace(body)) > 0 {
		if err := json.Unmarshal(body, &extra); err != nil {
			writeError(w, apperr.New(apperr.Invalid, "the body must be a JSON object of strings (fields of the event's detail): %v", err), reqID)
			return
		}
	}
	start := time.Now()
	out, err := scheduler.RunJobWith(r.Context(), f, start, extra)
	if err != nil {
		writeError(w, apperr.New(apperr.Internal, "%s failed: %v", name, err), reqID)
		return
	}
	res := JobResult{Function: name, Ms: time.Since(start).Milliseconds()}
	if out = bytes.TrimSpace(out); len(out) > 0 && !bytes.Equal(out, []byte("null")) && json.Valid(out) {
		res.Result = out
	}
	writeJSON(w, http.StatusOK, res)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("content-type", "application/json")
	w.Header().Set("cache-control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
