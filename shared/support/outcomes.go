package support

import (
	"time"

	"github.com/liberation/monetization/shared/support/sla"
	"github.com/liberation/monetization/shared/support/slametrics"
)

// A target's outcome (met or breached) is counted once in the SLA statistics, on the day it is
// decided; a ticket remembers where, so that a reopen can take a "met" back exactly.

// Counted is where an outcome went in the statistics: the counter and the day.
type Counted struct {
	Counter string    `dynamodbav:"counter"`
	Day     time.Time `dynamodbav:"day"`
}

// outcome is a change to the SLA statistics: a target's result counted (Delta 1) on the day it was
// decided, or an earlier count taken back (Delta −1) from the counter and day it went to.
type outcome struct {
	Target, Result string
	Counted
	Delta int64
}

// count records target's result at now and where it is counted.
func (t *Ticket) count(target, result string, now time.Time) outcome {
	c := Counted{Counter: statName(t.Tier, t.Priority, target, result), Day: now.UTC()}
	t.Outcomes[target] = result
	if t.Counted == nil {
		t.Counted = map[string]Counted{}
	}
	t.Counted[target] = c
	return outcome{Target: target, Result: result, Counted: c, Delta: 1}
}

// complete records target's outcome when it completes (first reply, solved), unless one was
// recorded already (a breach the job saw first, or a breach before the ticket was reopened).
func (t *Ticket) complete(target string, now time.Time) *outcome {
	d := t.Policy().Target(target)
	if d == 0 || t.Outcomes[target] != "" {
		return nil
	}
	res := OutcomeMet
	if !sla.Met(t.Meter.TargetElapsed(target, t.Clock(), now), d) {
		res = OutcomeBreached
		t.Events[target+"#"+sla.Breach] = now // no escalation for a target already completed
	}
	o := t.count(target, res, now)
	return &o
}

// unsolve reopens the resolution target of a ticket leaving solved: a "met" counted at the solve
// no longer stands (the customer is waiting again, as a reopened ticket's SLA in Zendesk), so it
// is taken back from where it was counted, and the next solve or breach decides anew. A breach
// stands: elapsed time only grows.
func (t *Ticket) unsolve() []outcome {
	solvedAt := t.SolvedAt
	t.SolvedAt = nil
	if t.Outcomes[sla.Resolution] != OutcomeMet {
		return nil
	}
	c, ok := t.Counted[sla.Resolution]
	if !ok { // stored before tickets kept where they counted: the met was counted at the solve
		if solvedAt == nil {
			return nil
		}
		c = Counted{Counter: statName(t.Tier, t.Priority, sla.Resolution, OutcomeMet), Day: solvedAt.UTC()}
	}
	delete(t.Outcomes, sla.Resolution)
	delete(t.Counted, sla.Resolution)
	return []outcome{{Target: sla.Resolution, Result: OutcomeMet, Counted: c, Delta: -1}}
}

// statName is the statistics counter of an outcome: "<tier>_<priority>_<target>_<met|breached>".
func statName(tier, priority, target, result string) string {
	return slametrics.Name(tier, priority, target, result)
}

// breaches counts the breaches decided (for the day counter and the metric).
func breaches(outs []outcome) int64 {
	var n int64
	for _, o := range outs {
		if o.Result == OutcomeBreached && o.Delta > 0 {
			n++
		}
	}
	return n
}
