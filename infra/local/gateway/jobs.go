package gateway

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/liberation/monetization/infra/local/scheduler"
)

// jobsPrefix is the local-only endpoint that runs a schedule function now (make job NAME=...).
// It exists only in this gateway: nothing like it is deployed.
const jobsPrefix = "/_local/jobs/"

// JobResult is the body of a /_local/jobs response.
type JobResult struct {
	Function string          `json:"function"`
	Result   json.RawMessage `json:"result,omitempty"`
	Error    string          `json:"error,omitempty"`
	Ms       int64           `json:"ms"`
}

func (g *Gateway) serveJob(w http.ResponseWriter, r *http.Request, name string) {
	if r.Method != http.MethodPost {
		w.Header().Set("allow", http.MethodPost)
		message(w, http.StatusMethodNotAllowed, "use POST")
		return
	}
	f, ok := g.jobs[name]
	if !ok {
		message(w, http.StatusNotFound, "no schedule function named "+name)
		return
	}
	start := time.Now()
	out, err := scheduler.RunJob(r.Context(), f, start)
	res := JobResult{Function: name, Ms: time.Since(start).Milliseconds()}
	status := http.StatusOK
	if err != nil {
		res.Error, status = err.Error(), http.StatusInternalServerError
	} else if len(out) > 0 && json.Valid(out) {
		res.Result = out
	}
	w.Header().Set("content-type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(res)
}
