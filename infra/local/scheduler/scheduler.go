package scheduler

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/liberation/monetization/infra/local/invoke"
)

// Event is the payload a schedule delivers: the manifest's ScheduleInput (the same template the
// deployed schedule uses) with Scheduler's context attributes filled in.
func Event(f *invoke.Function, at time.Time) []byte {
	r := strings.NewReplacer(
		"<aws.scheduler.execution-id>", invoke.RequestID(),
		"<aws.scheduler.scheduled-time>", at.UTC().Format(time.RFC3339),
		"<aws.scheduler.schedule-arn>", "arn:aws:scheduler:"+invoke.Region+":"+invoke.AccountID+":schedule/default/"+f.Name,
	)
	return []byte(r.Replace(f.ScheduleInput()))
}

// RunJob invokes a schedule function once, as if its schedule fired at at.
func RunJob(ctx context.Context, f *invoke.Function, at time.Time) (json.RawMessage, error) {
	return f.Invoke(ctx, Event(f, at))
}

// RunJobWith is RunJob with extra fields in the event's detail (e.g. {"day": "2026-12-05"} for
// reconcile — what an operator puts in a one-off invocation's detail in AWS). "job" stays the
// function's own.
func RunJobWith(ctx context.Context, f *invoke.Function, at time.Time, extra map[string]string) (json.RawMessage, error) {
	ev, err := WithDetail(Event(f, at), extra)
	if err != nil {
		return nil, err
	}
	return f.Invoke(ctx, ev)
}

// WithDetail adds extra's fields to a scheduled event's detail, keeping its "job".
func WithDetail(event []byte, extra map[string]string) ([]byte, error) {
	if len(extra) == 0 {
		return event, nil
	}
	var ev map[string]json.RawMessage
	if err := json.Unmarshal(event, &ev); err != nil {
		return nil, err
	}
	detail := map[string]any{}
	if err := json.Unmarshal(ev["detail"], &detail); err != nil {
		return nil, err
	}
	for k, v := range extra {
		if k != "job" {
			detail[k] = v
		}
	}
	raw, err := json.Marshal(detail)
	if err != nil {
		return nil, err
	}
	ev["detail"] = raw
	return json.Marshal(ev)
}

// Job is a schedule function with its parsed expression.
type Job struct {
	Fn       *invoke.Function
	Schedule Schedule
}

// Jobs parses every function's expression.
func Jobs(fns []*invoke.Function) ([]Job, error) {
	out := make([]Job, 0, len(fns))
	for _, f := range fns {
		s, err := Parse(f.Trigger.Expression)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f.Name, err)
		}
		out = append(out, Job{Fn: f, Schedule: s})
	}
	return out, nil
}

// Run fires each job at its next time until ctx ends, logging one line per run to log. Jobs run one
// at a time (they are idempotent and short locally); a run that overlaps the next fire time simply
// delays it. Times are computed from the wall clock, so a laptop waking from sleep runs a missed
// job once, not once per missed slot (Scheduler's flexible window makes late runs normal too).
func Run(ctx context.Context, jobs []Job, log io.Writer) {
	if len(jobs) == 0 {
		return
	}
	next := make([]time.Time, len(jobs))
	now := time.Now()
	for i, j := range jobs {
		next[i] = j.Schedule.Next(now)
	}
	for {
		i := earliest(next)
		if next[i].IsZero() {
			return // no job ever fires again
		}
		timer := time.NewTimer(time.Until(next[i]))
		select {
		case <-ctx.Done():
			timer.Stop()
			return
		case <-timer.C:
		}
		start := time.Now()
		_, err := RunJob(ctx, jobs[i].Fn, next[i])
		status := "ok"
		if err != nil {
			status = "error: " + err.Error()
		}
		fmt.Fprintf(log, "schedule %s (%s) %s %dms\n", jobs[i].Fn.Name, jobs[i].Fn.Trigger.Expression, status, time.Since(start).Milliseconds())
		next[i] = jobs[i].Schedule.Next(time.Now())
	}
}

func earliest(ts []time.Time) int {
	best := 0
	for i, t := range ts {
		if !t.IsZero() && (ts[best].IsZero() || t.Before(ts[best])) {
			best = i
		}
	}
	return best
}
