package privacy

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/audit"
	"github.com/liberation/monetization/shared/clock"
	"github.com/liberation/monetization/shared/logging"
	"github.com/liberation/monetization/shared/manifest"
	"github.com/liberation/monetization/shared/queue"
)

// Runner is the erasure host's work: it runs the areas' erasers step by step, saving the
// checkpoint on the request after every step, puts its own continuation back on the queue after
// StepsPerRun steps, and at the end marks the request done (or held, with what the areas
// postponed) with an audit record naming the pseudonym, in one transaction.
type Runner struct {
	Repo        ErasureRepo
	Registry    *Registry
	Queue       queue.Sender
	Clock       clock.Clock
	StepsPerRun int
}

// DefaultStepsPerRun: an area's step is a page of ErasePageSize records, each one transaction (and
// for billing two Stripe calls): 4 steps (≤ 400 records) stay far inside the function's 120 s. Every
// area takes at least one step, so even a small erasure goes on in a second message: the
// continuation is the path every erasure takes, not only the large ones.
const DefaultStepsPerRun = 4

// ErasureRepo is what the runner and the routes need of the request items.
type ErasureRepo interface {
	CreateErasure(ctx context.Context, e Erasure, a audit.Entry) (Erasure, bool, error)
	GetErasure(ctx context.Context, userID string) (Erasure, error)
	SaveErasure(ctx context.Context, e Erasure) (Erasure, error)
	FinishErasure(ctx context.Context, e Erasure, a audit.Entry) (Erasure, error)
}

// Handle is the queue handler of MessageErase.
func (r *Runner) Handle(ctx context.Context, msg queue.Message) error {
	var m EraseMessage
	if err := json.Unmarshal(msg.Payload, &m); err != nil || m.UserID == "" || m.ErasureID == "" {
		logging.From(ctx).Error("dropping an erasure message without its ids")
		return nil
	}
	return r.Run(ctx, m)
}

// Run does one run of the erasure named by m. A run that loses a race to another run (a duplicate
// delivery) stops quietly; a failed run is counted, and MaxAttempts in a row fail the pass (the
// request says which area; asking again resumes from the checkpoint).
func (r *Runner) Run(ctx context.Context, m EraseMessage) error {
	e, err := r.Repo.GetErasure(ctx, m.UserID)
	if apperr.Is(err, apperr.NotFound) || (err == nil && e.ID != m.ErasureID) {
		logging.From(ctx).Warn("dropping a message of an unknown erasure", "erasureId", m.ErasureID)
		return nil
	}
	if err != nil {
		return err
	}
	if e.Finished() || e.Pass != m.Pass {
		return nil
	}
	err = r.run(ctx, e)
	if err == nil || IsLostRace(err) {
		return nil
	}
	return r.failed(ctx, m, err)
}

func (r *Runner) run(ctx context.Context, e Erasure) error {
	if e.Status == ErasureQueued {
		e.Status, e.Areas, e.Area, e.Cursor, e.Holds = ErasureRunning, r.Registry.EraseAreas(), 0, "", nil
		e.UpdatedAt = r.Clock.Now().UTC()
		var err error
		if e, err = r.Repo.SaveErasure(ctx, e); err != nil {
			return err
		}
	}
	subj := e.Subject()
	for steps := 0; e.Area < len(e.Areas); steps++ {
		if steps == r.stepsPerRun() || (steps > 0 && nearDeadline(ctx)) {
			next := EraseMessage{UserID: e.UserID, ErasureID: e.ID, Pass: e.Pass, Step: e.Step}
			return r.Queue.Send(ctx, manifest.ErasuresQueue, MessageErase, next.dedupeID(), next)
		}
		area := e.Areas[e.Area]
		var st Step
		if fn, ok := r.Registry.Eraser(area); ok {
			var err error
			if st, err = fn(ctx, subj, e.Cursor); err != nil {
				return fmt.Errorf("%s: %w", area, err)
			}
		} // an area without an eraser any more (a deploy between runs) has nothing to erase
		for _, h := range st.Holds {
			h.Area = area
			e.Holds = append(e.Holds, h)
		}
		e.Changed += st.Changed
		if st.Next == "" {
			e.Area, e.Cursor = e.Area+1, ""
		} else {
			e.Cursor = st.Next
		}
		e.Step++
		e.Attempts, e.Error = 0, ""
		e.UpdatedAt = r.Clock.Now().UTC()
		var err error
		if e, err = r.Repo.SaveErasure(ctx, e); err != nil {
			return err
		}
	}
	return r.finish(ctx, e)
}

// finish ends the pass: done (the addresses the request held are dropped, the record kept
// KeepErasureRecord) or held, with the audit record naming the pseudonym.
func (r *Runner) finish(ctx context.Context, e Erasure) error {
	now := r.Clock.Now().UTC()
	e.Status, e.FinishedAt, e.UpdatedAt = ErasureDone, &now, now
	action := "erasure.done"
	if len(e.Holds) > 0 {
		e.Status, action = ErasureHeld, "erasure.held"
	} else {
		e.Emails, e.ExpiresAt = nil, now.Add(KeepErasureRecord).Unix()
	}
	a := audit.Entry{Actor: ActorErasure, Action: action, Target: e.Subject().PseudonymTarget(), RequestID: e.ID,
		Details: map[string]string{"pass": strconv.Itoa(e.Pass), "changed": strconv.Itoa(e.Changed),
			"holds": strconv.Itoa(len(e.Holds)), "areas": strconv.Itoa(len(e.Areas))}}
	if _, err := r.Repo.FinishErasure(ctx, e, a); err != nil {
		return err
	}
	logging.From(ctx).Info("personal erasure finished", "erasureId", e.ID, "status", e.Status,
		"changed", e.Changed, "holds", len(e.Holds))
	return nil
}

// failed counts a failed run; MaxAttempts in a row fail the pass. The error is returned while
// attempts remain, so the message is retried.
func (r *Runner) failed(ctx context.Context, m EraseMessage, cause error) error {
	log := logging.From(ctx)
	e, err := r.Repo.GetErasure(ctx, m.UserID)
	if err != nil || e.Finished() || e.ID != m.ErasureID {
		return cause
	}
	e.Attempts++
	e.Error = string(apperr.CodeOf(cause))
	if e.Area < len(e.Areas) {
		e.Error = e.Areas[e.Area] + ": " + e.Error
	}
	e.UpdatedAt = r.Clock.Now().UTC()
	if e.Attempts < MaxAttempts {
		if _, err := r.Repo.SaveErasure(ctx, e); err != nil && !IsLostRace(err) {
			log.Error("erasure attempt not recorded", "erasureId", e.ID, "err", err.Error())
		}
		return cause
	}
	now := e.UpdatedAt
	e.Status, e.FinishedAt = ErasureFailed, &now
	a := audit.Entry{Actor: ActorErasure, Action: "erasure.failed", Target: e.Subject().PseudonymTarget(),
		RequestID: e.ID, Details: map[string]string{"pass": strconv.Itoa(e.Pass), "error": e.Error}}
	if _, err := r.Repo.FinishErasure(ctx, e, a); err != nil && !IsLostRace(err) {
		return err
	}
	log.Error("personal erasure failed", "erasureId", e.ID, "attempts", e.Attempts, "err", cause.Error())
	return nil
}

// StepReserve is the time a run keeps for one more step: a run with less left before its deadline
// (the Lambda's, through the context) hands the rest to its continuation instead (a payments step
// renders and purges documents: seconds each in AWS).
const StepReserve = 45 * time.Second

func nearDeadline(ctx context.Context) bool {
	d, ok := ctx.Deadline()
	return ok && time.Until(d) < StepReserve
}

func (r *Runner) stepsPerRun() int {
	if r.StepsPerRun > 0 {
		return r.StepsPerRun
	}
	return DefaultStepsPerRun
}
