//go:build integration

package e2e

import (
	"encoding/json"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/liberation/monetization/shared/httpapi"
	"github.com/liberation/monetization/shared/manifest"
	"github.com/liberation/monetization/shared/rewards"
)

// A per-user limit through the gateway (decision 0077): join-class allows 5 requests a minute per
// user; the 6th is a 429 rate_limited with Retry-After, and nothing else happens — not even with the
// right code; another user is not affected.
func TestJoinClassRateLimit(t *testing.T) {
	h := Start(t)
	perMinute := manifest.MustByName("join-class").RateLimit.PerMinute
	if s := time.Now().Second(); s > 60-10 { // keep the whole test inside one clock minute
		time.Sleep(time.Duration(61-s) * time.Second)
	}
	run := strconv.FormatInt(time.Now().UnixNano(), 36)
	teacher := h.Token(t, "rl-teacher-"+run, "", "instructor")
	guesser := h.Token(t, "rl-guesser-"+run, "")
	var class rewards.ClassView
	h.Call(t, http.MethodPost, "/classes", teacher, map[string]any{"name": "Rate limited"}, http.StatusCreated, &class)

	for i := range perMinute {
		h.Call(t, http.MethodPost, "/classes/join", guesser, map[string]any{"code": "2345-6789-ABCD" + string("EFGHJKMNPQRSTUVWXYZ"[i])}, http.StatusNotFound, nil)
	}
	status, body, hdr := h.Do(t, http.MethodPost, "/classes/join", guesser, map[string]any{"code": class.JoinCode})
	if status != http.StatusTooManyRequests {
		t.Fatalf("request %d in a minute: %d %s, want 429", perMinute+1, status, body)
	}
	ra, err := strconv.Atoi(hdr.Get("Retry-After"))
	if err != nil || ra < 1 || ra > 60 {
		t.Fatalf("Retry-After %q: want 1-60 seconds", hdr.Get("Retry-After"))
	}
	var eb httpapi.ErrorBody
	if err := json.Unmarshal(body, &eb); err != nil || eb.Error.Code != "rate_limited" || eb.Error.RequestID == "" {
		t.Fatalf("429 body: %s", body)
	}
	// Nothing happened: the guesser is not a member.
	h.Call(t, http.MethodGet, "/classes/"+class.ID, guesser, nil, http.StatusNotFound, nil)
	// Another user joins.
	h.Call(t, http.MethodPost, "/classes/join", h.Token(t, "rl-learner-"+run, ""), map[string]any{"code": class.JoinCode}, http.StatusOK, nil)
}
