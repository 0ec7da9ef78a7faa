package sla

import "time"

// Stopwatch accumulates working time (in the policy's clock): ElapsedSeconds before RunningSince.
type Stopwatch struct {
	// ElapsedSeconds is the working time accumulated before RunningSince.
	ElapsedSeconds int64 `dynamodbav:"elapsedSeconds" json:"elapsedSeconds"`
	// RunningSince is when the clock last started; nil while it is stopped.
	RunningSince *time.Time `dynamodbav:"runningSince,omitempty" json:"runningSince,omitempty"`
}

func (s Stopwatch) elapsed(c Clock, now time.Time) time.Duration {
	e := time.Duration(s.ElapsedSeconds) * time.Second
	if s.RunningSince != nil {
		e += c.Between(*s.RunningSince, now)
	}
	return e
}

func (s Stopwatch) stop(c Clock, now time.Time) Stopwatch {
	if s.RunningSince != nil {
		s.ElapsedSeconds = int64(s.elapsed(c, now) / time.Second)
		s.RunningSince = nil
	}
	return s
}

func (s Stopwatch) start(now time.Time) Stopwatch {
	if s.RunningSince == nil {
		t := now.UTC()
		s.RunningSince = &t
	}
	return s
}

// Meter is a ticket's SLA clocks, one per target. The resolution clock runs while the ticket waits
// on support: it pauses while pending (waiting on the customer) and stops when solved. The
// first-reply clock runs from creation to the first agent reply, which freezes it; pending does not
// pause it — the customer is still owed a first answer (Zendesk's first reply time is not a
// pausable metric either) — and solving stops it.
type Meter struct {
	// Stopwatch is the resolution clock (at the top level of the stored meter, as it always was).
	Stopwatch
	// FirstReplyClock is the first-reply clock; nil on meters stored when one clock served both
	// targets, which follow the resolution clock until their next change separates them.
	FirstReplyClock *Stopwatch `dynamodbav:"firstReplyClock,omitempty" json:"firstReplyClock,omitempty"`
	// FirstReplySeconds is the first-reply time at the first agent reply; nil until then.
	FirstReplySeconds *int64 `dynamodbav:"firstReplySeconds,omitempty" json:"firstReplySeconds,omitempty"`
	// Solved: the resolution target is complete (the ticket is solved).
	Solved bool `dynamodbav:"solved,omitempty" json:"solved,omitempty"`
}

// Start returns a meter with both clocks running from now.
func Start(now time.Time) Meter {
	reply := Stopwatch{}.start(now)
	return Meter{Stopwatch: Stopwatch{}.start(now), FirstReplyClock: &reply}
}

// clock is the stopwatch a target is measured on.
func (m Meter) clock(target string) Stopwatch {
	if target == FirstReply && m.FirstReplyClock != nil {
		return *m.FirstReplyClock
	}
	return m.Stopwatch
}

// withFirstReply returns m with its first-reply clock replaced by f(current) — a new value, so a
// copy of the meter (the ticket as read) never changes with it — unless the first reply was given.
func (m Meter) withFirstReply(f func(Stopwatch) Stopwatch) Meter {
	if m.FirstReplySeconds != nil {
		return m
	}
	s := f(m.clock(FirstReply))
	m.FirstReplyClock = &s
	return m
}

// Elapsed is the resolution clock's working time at now.
func (m Meter) Elapsed(c Clock, now time.Time) time.Duration { return m.Stopwatch.elapsed(c, now) }

// Running reports whether the target's clock runs.
func (m Meter) Running(target string) bool { return m.clock(target).RunningSince != nil }

// Pause is the ticket waiting on the customer (pending) at now: the resolution clock pauses and
// the resolution target is open again (a solved ticket set to pending); the first-reply clock runs.
func (m Meter) Pause(c Clock, now time.Time) Meter {
	m = m.withFirstReply(func(s Stopwatch) Stopwatch { return s.start(now) })
	m.Stopwatch = m.Stopwatch.stop(c, now)
	m.Solved = false
	return m
}

// Resume is the ticket waiting on support again at now (a pending or solved ticket back to open):
// both clocks run.
func (m Meter) Resume(now time.Time) Meter {
	m = m.withFirstReply(func(s Stopwatch) Stopwatch { return s.start(now) })
	m.Stopwatch = m.Stopwatch.start(now)
	m.Solved = false
	return m
}

// Solve stops both clocks: the resolution target is complete, and nobody waits for a first reply
// on a solved ticket.
func (m Meter) Solve(c Clock, now time.Time) Meter {
	m = m.withFirstReply(func(s Stopwatch) Stopwatch { return s.stop(c, now) })
	m.Stopwatch = m.Stopwatch.stop(c, now)
	m.Solved = true
	return m
}

// Rebase keeps what elapsed until now in clock c and restarts the running clocks at now, so that
// from now on they count in another clock (a priority change between business and calendar hours).
func (m Meter) Rebase(c Clock, now time.Time) Meter {
	rebase := func(s Stopwatch) Stopwatch {
		if s.RunningSince == nil {
			return s
		}
		return s.stop(c, now).start(now)
	}
	m = m.withFirstReply(rebase)
	m.Stopwatch = rebase(m.Stopwatch)
	return m
}

// FirstReply freezes the first-reply target at now (the first agent reply); later replies change
// nothing.
func (m Meter) FirstReply(c Clock, now time.Time) Meter {
	if m.FirstReplySeconds == nil {
		s := m.clock(FirstReply).stop(c, now)
		secs := s.ElapsedSeconds
		m.FirstReplyClock, m.FirstReplySeconds = &s, &secs
	}
	return m
}

// TargetElapsed is the working time counted against a target at now: frozen once it is complete.
func (m Meter) TargetElapsed(target string, c Clock, now time.Time) time.Duration {
	if target == FirstReply && m.FirstReplySeconds != nil {
		return time.Duration(*m.FirstReplySeconds) * time.Second
	}
	return m.clock(target).elapsed(c, now)
}

// Complete reports whether the target no longer runs (first reply given, ticket solved).
func (m Meter) Complete(target string) bool {
	if target == FirstReply {
		return m.FirstReplySeconds != nil
	}
	return m.Solved
}

// ReachesAt is the instant the target's elapsed time reaches d, if its clock runs and the target
// is not complete (ok false otherwise: a stopped clock never reaches anything).
func (m Meter) ReachesAt(target string, c Clock, d time.Duration) (time.Time, bool) {
	s := m.clock(target)
	if s.RunningSince == nil || m.Complete(target) {
		return time.Time{}, false
	}
	left := d - time.Duration(s.ElapsedSeconds)*time.Second
	if left <= 0 {
		return *s.RunningSince, true
	}
	return c.Add(*s.RunningSince, left).UTC(), true
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
