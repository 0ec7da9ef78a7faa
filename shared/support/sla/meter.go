package sla

import "time"

// Meter is a ticket's pausable SLA clock. Elapsed counts working time (in the policy's clock) while
// the ticket waits on support: it runs while open, pauses while pending (waiting on the customer)
// and stops when solved. The first-reply target freezes when an agent first replies.
type Meter struct {
	// ElapsedSeconds is the working time accumulated before RunningSince.
	ElapsedSeconds int64 `dynamodbav:"elapsedSeconds" json:"elapsedSeconds"`
	// RunningSince is when the clock last started; nil while paused or stopped.
	RunningSince *time.Time `dynamodbav:"runningSince,omitempty" json:"runningSince,omitempty"`
	// FirstReplySeconds is the elapsed time at the first agent reply; nil until then.
	FirstReplySeconds *int64 `dynamodbav:"firstReplySeconds,omitempty" json:"firstReplySeconds,omitempty"`
	// Solved: the resolution target is complete (the ticket is solved).
	Solved bool `dynamodbav:"solved,omitempty" json:"solved,omitempty"`
}

// Start returns a running meter at now.
func Start(now time.Time) Meter {
	t := now.UTC()
	return Meter{RunningSince: &t}
}

// Elapsed is the working time at now.
func (m Meter) Elapsed(c Clock, now time.Time) time.Duration {
	e := time.Duration(m.ElapsedSeconds) * time.Second
	if m.RunningSince != nil {
		e += c.Between(*m.RunningSince, now)
	}
	return e
}

// Running reports whether the clock runs.
func (m Meter) Running() bool { return m.RunningSince != nil }

// Pause stops the clock at now, keeping what elapsed (pending, solved).
func (m Meter) Pause(c Clock, now time.Time) Meter {
	if m.RunningSince != nil {
		m.ElapsedSeconds = int64(m.Elapsed(c, now) / time.Second)
		m.RunningSince = nil
	}
	return m
}

// Resume starts the clock again at now (a pending or solved ticket back to open).
func (m Meter) Resume(now time.Time) Meter {
	if m.RunningSince == nil {
		t := now.UTC()
		m.RunningSince = &t
	}
	m.Solved = false
	return m
}

// Solve stops the clock: the resolution target is complete.
func (m Meter) Solve(c Clock, now time.Time) Meter {
	m = m.Pause(c, now)
	m.Solved = true
	return m
}

// FirstReply freezes the first-reply target at now (the first agent reply); later replies change
// nothing.
func (m Meter) FirstReply(c Clock, now time.Time) Meter {
	if m.FirstReplySeconds == nil {
		s := int64(m.Elapsed(c, now) / time.Second)
		m.FirstReplySeconds = &s
	}
	return m
}

// TargetElapsed is the working time counted against a target at now: frozen once it is complete.
func (m Meter) TargetElapsed(target string, c Clock, now time.Time) time.Duration {
	if target == FirstReply && m.FirstReplySeconds != nil {
		return time.Duration(*m.FirstReplySeconds) * time.Second
	}
	return m.Elapsed(c, now)
}

// Complete reports whether the target no longer runs (first reply given, ticket solved).
func (m Meter) Complete(target string) bool {
	if target == FirstReply {
		return m.FirstReplySeconds != nil
	}
	return m.Solved
}

// ReachesAt is the instant the target's elapsed time reaches d, if the clock runs and the target
// is not complete (ok false otherwise: a paused clock never reaches anything).
func (m Meter) ReachesAt(target string, c Clock, d time.Duration) (time.Time, bool) {
	if m.RunningSince == nil || m.Complete(target) {
		return time.Time{}, false
	}
	left := d - time.Duration(m.ElapsedSeconds)*time.Second
	if left <= 0 {
		return *m.RunningSince, true
	}
	return c.Add(*m.RunningSince, left).UTC(), true
}

// Event kinds.
const (
	Warning = "warning" // 75 % of a target
	Breach  = "breach"  // 100 %
)

// Event is one warning or breach due for a target.
type Event struct {
	Target string    // FirstReply or Resolution
	Kind   string    // Warning or Breach
	At     time.Time // when it is due
}

// ID names the event within its ticket.
func (e Event) ID() string { return e.Target + "#" + e.Kind }

// Upcoming lists the events the meter will reach under policy p, in time order, skipping those in
// done (by Event.ID) and those of complete targets or a paused clock.
func (m Meter) Upcoming(p Policy, c Clock, done map[string]bool) []Event {
	var out []Event
	for _, target := range Targets {
		d := p.Target(target)
		if d == 0 {
			continue
		}
		for _, ev := range []struct {
			kind string
			at   time.Duration
		}{{Warning, WarnAt(d)}, {Breach, d}} {
			e := Event{Target: target, Kind: ev.kind}
			if done[e.ID()] {
				continue
			}
			if at, ok := m.ReachesAt(target, c, ev.at); ok {
				e.At = at
				out = append(out, e)
			}
		}
	}
	for i := 1; i < len(out); i++ { // insertion sort: at most four events
		for j := i; j > 0 && out[j].At.Before(out[j-1].At); j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

// Outcome of a completed target: met when its elapsed time did not exceed it.
func Met(elapsed, target time.Duration) bool { return elapsed <= target }
