package marketplace

import (
	"context"
	"encoding/json"
	"sort"
	"time"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/audit"
	"github.com/liberation/monetization/shared/clock"
	"github.com/liberation/monetization/shared/marketplace/ledger"
	"github.com/liberation/monetization/shared/platform"
	"github.com/liberation/monetization/shared/privacy"
	"github.com/liberation/monetization/shared/store"
)

// ErasePersonalDataHooks registers the marketplace's eraser with the erasure host (issue 18,
// docs/privacy.md "Erasure").
func ErasePersonalDataHooks(rt *platform.Runtime, r *privacy.Registry) error {
	s := store.Open(rt)
	r.RegisterEraser("marketplace", PersonalDataEraser(privacy.Reader{S: s}, NewCourses(s), rt.Clock))
	return nil
}

// PersonalDataEraser erases a person from the marketplace (decision 0087: keys stay, values that
// identify the person are replaced, kept records carry erasedAs = the pseudonym).
//
// As a learner: each enrolment is kept (it is the access a sale paid for) and tagged; the review
// they wrote of that course keeps its rating and status (so the course's rating aggregate and list
// do not move) but its text becomes privacy.ErasedText and its author name the pseudonym; open
// Checkout Session records are deleted (nothing financial happened yet).
//
// As an instructor: courses are kept (others are enrolled) with the instructor name replaced on the
// course and its catalog listing (one transaction with an audit record, courses.SaveCourse); sales,
// ledger entries, payouts and the balance are kept and tagged; the profile's e-mail becomes the
// pseudonym address, names the pseudonym, purely personal extras are removed, and the Connect
// account id stays (financial). Legal holds — a payout in flight (transferring), a negative balance
// bucket, a sale's open dispute — keep the profile as it is (the platform must reach the
// instructor) and leave the records concerned untouched; the profile step returns one Hold per
// cause, and a later run erases what the hold kept once it has ended. Nothing here moves money, so
// no journal entry is written and every balance, ledger, split and journal total stays as it was.
//
// Every record's change is one write conditioned on what was read; a record already erased (it has
// erasedAs, or is gone) is left alone and reports no change, so a step repeated after a failure
// changes nothing more.
func PersonalDataEraser(rd privacy.Reader, courses Courses, clk clock.Clock) privacy.Eraser {
	if clk == nil {
		clk = clock.System{}
	}
	e := eraser{rd: rd, repo: erasureRepo{s: rd.S}, courses: courses, clk: clk}
	return privacy.Phases(
		privacy.EachRow(func(s privacy.ErasureSubject) privacy.Source {
			return rd.Partition("enrollment", store.UserPK(s.UserID), store.EnrollmentPrefix)
		}, e.enrolment),
		privacy.EachRow(func(s privacy.ErasureSubject) privacy.Source {
			return rd.Partition("course-checkout", store.UserPK(s.UserID), store.OpenCheckoutPrefix)
		}, e.checkout),
		privacy.EachRow(func(s privacy.ErasureSubject) privacy.Source {
			pk, _ := store.InstructorCoursesGSI1(s.UserID, time.Time{}, "")
			return rd.Index("course", pk)
		}, e.course),
		privacy.EachRow(func(s privacy.ErasureSubject) privacy.Source {
			return rd.Partition("sale", store.InstructorPK(s.UserID), store.SalePrefix)
		}, e.versionedUnless(SaleDisputed)),
		privacy.EachRow(func(s privacy.ErasureSubject) privacy.Source {
			return rd.Partition("ledger-entry", store.InstructorPK(s.UserID), store.LedgerPrefix)
		}, e.ledgerEntry),
		privacy.EachRow(func(s privacy.ErasureSubject) privacy.Source {
			return rd.Partition("payout", store.InstructorPK(s.UserID), store.PayoutPrefix)
		}, e.versionedUnless(PayoutTransferring)),
		privacy.EachRow(func(s privacy.ErasureSubject) privacy.Source {
			return rd.One("instructor-balance", store.InstructorBalanceKey(s.UserID))
		}, e.balance),
		e.profile,
	)
}

// Audit actions of the marketplace's erasure (ids only in the details: never a name or address).
const (
	ActionEraseInstructor = "instructor.erased"
	ActionEraseCourseName = "course.instructor_erased"
)

// profileNames are profile attributes holding a name (replaced by the pseudonym); profileExtras
// are purely personal ones (removed). The profile today stores only the e-mail; these cover what a
// profile route may add without the eraser forgetting it.
var (
	profileNames  = []string{"name", "displayName"}
	profileExtras = []string{"bio", "phone", "website", "headline", "avatarUrl", "photoUrl", "address"}
)

// eraseAttempts bounds the re-reads of one record that keeps changing under the erasure.
const eraseAttempts = 5

type eraser struct {
	rd      privacy.Reader
	repo    erasureRepo
	courses Courses
	clk     clock.Clock
}

func keyOf(row map[string]any) store.Key {
	return store.Key{PK: privacy.Str(row, "PK"), SK: privacy.Str(row, "SK")}
}

// num reads a number attribute (0 when absent).
func num(row map[string]any, name string) int64 {
	n, _ := row[name].(json.Number)
	v, _ := n.Int64()
	return v
}

// retried runs one record's change with the row as read, reading it again after a lost race (a
// failed condition) until the change lands or finds the record erased or gone.
func (e eraser) retried(ctx context.Context, row map[string]any, change func(row map[string]any) (bool, error)) (bool, error) {
	k := keyOf(row)
	changed, fresh := false, false
	err := store.Retry(ctx, "erase "+k.SK, eraseAttempts, store.WriteRace, func() error {
		if fresh { // a retry: the row as it is now
			cur, ok, err := e.rd.Get(ctx, k)
			if err != nil {
				return err
			}
			row = nil
			if ok {
				row = cur
			}
		}
		fresh = true
		if row == nil || privacy.Str(row, "erasedAs") != "" {
			return nil
		}
		c, err := change(row)
		changed = c && err == nil
		return err
	})
	return changed, err
}

// tagRow marks a kept record (versioned when it has a version).
func (e eraser) tagRow(ctx context.Context, s privacy.ErasureSubject, row map[string]any) (bool, error) {
	return e.retried(ctx, row, func(row map[string]any) (bool, error) {
		return true, e.repo.tag(ctx, keyOf(row), s.Pseudonym, num(row, "version"))
	})
}

// enrolment erases the learner's review of the course, then tags the enrolment (each its own write:
// a step interrupted between them finds the review done and does the enrolment).
func (e eraser) enrolment(ctx context.Context, s privacy.ErasureSubject, row map[string]any) (privacy.RowResult, error) {
	changed := false
	if course := privacy.Str(row, "courseId"); course != "" {
		k := store.CourseReviewKey(course, s.UserID)
		rv, ok, err := e.rd.Get(ctx, k)
		if err != nil {
			return privacy.RowResult{}, err
		}
		if ok {
			c, err := e.retried(ctx, rv, func(rv map[string]any) (bool, error) {
				text := ""
				if privacy.Str(rv, "text") != "" {
					text = privacy.ErasedText
				}
				return true, e.repo.eraseReview(ctx, k, s.Pseudonym, text, num(rv, "version"))
			})
			if err != nil {
				return privacy.RowResult{}, err
			}
			changed = changed || c
		}
	}
	c, err := e.tagRow(ctx, s, row)
	return privacy.RowResult{Changed: changed || c}, err
}

// checkout deletes an open Checkout Session record (while it is still the session read).
func (e eraser) checkout(ctx context.Context, s privacy.ErasureSubject, row map[string]any) (privacy.RowResult, error) {
	err := e.repo.deleteCheckout(ctx, keyOf(row), privacy.Str(row, "sessionId"))
	if store.IsConditionFailed(err) {
		// Gone meanwhile, or replaced by a new session: the next step's read finds the new one.
		return privacy.RowResult{}, nil
	}
	return privacy.RowResult{Changed: err == nil}, err
}

// course replaces the instructor's name on the course and its listing (SaveCourse: the course over
// its version, the listing's fields, the audit record — one transaction).
func (e eraser) course(ctx context.Context, s privacy.ErasureSubject, row map[string]any) (privacy.RowResult, error) {
	k := store.CourseKey(privacy.Str(row, "id"))
	var res privacy.RowResult
	err := store.Retry(ctx, "erase the instructor's name on "+k.PK, eraseAttempts, store.WriteRace, func() error {
		var c Course
		err := e.rd.S.GetConsistent(ctx, k, &c)
		if apperr.Is(err, apperr.NotFound) {
			return nil
		}
		if err != nil || c.ErasedAs != "" || c.InstructorID != s.UserID {
			return err
		}
		read := c.Version
		c.InstructorName, c.ErasedAs, c.UpdatedAt, c.Version = s.Pseudonym, s.Pseudonym, e.clk.Now().UTC(), read+1
		err = e.courses.SaveCourse(ctx, c, read, 0, audit.Entry{Actor: privacy.ActorErasure, Action: ActionEraseCourseName,
			Target: s.PseudonymTarget(), RequestID: s.RequestID, Details: map[string]string{"courseId": c.ID}})
		res.Changed = err == nil
		return err
	})
	return res, err
}

// versionedUnless tags a versioned row (a sale, a payout) over its version, unless its status is
// held: a sale under dispute, a payout in flight (the profile step reports the hold).
func (e eraser) versionedUnless(held string) func(context.Context, privacy.ErasureSubject, map[string]any) (privacy.RowResult, error) {
	return func(ctx context.Context, s privacy.ErasureSubject, row map[string]any) (privacy.RowResult, error) {
		c, err := e.retried(ctx, row, func(row map[string]any) (bool, error) {
			if privacy.Str(row, "status") == held {
				return false, nil
			}
			return true, e.repo.tag(ctx, keyOf(row), s.Pseudonym, num(row, "version"))
		})
		return privacy.RowResult{Changed: c}, err
	}
}

func (e eraser) ledgerEntry(ctx context.Context, s privacy.ErasureSubject, row map[string]any) (privacy.RowResult, error) {
	c, err := e.tagRow(ctx, s, row)
	return privacy.RowResult{Changed: c}, err
}

// balance tags the balance, unless a bucket is negative (held).
func (e eraser) balance(ctx context.Context, s privacy.ErasureSubject, row map[string]any) (privacy.RowResult, error) {
	if len(negativeBuckets(row)) > 0 {
		return privacy.RowResult{}, nil
	}
	c, err := e.tagRow(ctx, s, row)
	return privacy.RowResult{Changed: c}, err
}

func negativeBuckets(row map[string]any) []string {
	var out []string
	for _, b := range []string{"pending", "available", "held", "paid"} {
		if num(row, b) < 0 {
			out = append(out, b)
		}
	}
	return out
}

// profile is the last phase: the legal holds, found whether or not the profile exists or was
// erased before (a record a hold keeps stays untagged until a run finds the hold ended); without
// any, the profile is erased.
func (e eraser) profile(ctx context.Context, s privacy.ErasureSubject, _ string) (privacy.Step, error) {
	holds, err := e.holds(ctx, s.UserID)
	if err != nil || len(holds) > 0 {
		return privacy.Step{Holds: holds}, err
	}
	row, ok, err := e.rd.Get(ctx, store.InstructorKey(s.UserID))
	if err != nil || !ok {
		return privacy.Step{}, err
	}
	c, err := e.retried(ctx, row, func(row map[string]any) (bool, error) {
		pe := profileErasure{Set: map[string]string{"erasedAs": s.Pseudonym}, Read: map[string]string{}, At: e.clk.Now().UTC(),
			Audit: audit.Entry{Actor: privacy.ActorErasure, Action: ActionEraseInstructor, Target: s.PseudonymTarget(),
				RequestID: s.RequestID}}
		if v := privacy.Str(row, "email"); v != "" {
			pe.Set["email"], pe.Read["email"] = s.PseudonymEmail(), v
		}
		for _, a := range profileNames {
			if v := privacy.Str(row, a); v != "" {
				pe.Set[a], pe.Read[a] = s.Pseudonym, v
			}
		}
		for _, a := range profileExtras {
			if _, ok := row[a]; ok {
				pe.Remove = append(pe.Remove, a)
			}
		}
		return true, e.repo.eraseProfile(ctx, keyOf(row), pe)
	})
	if err != nil || !c {
		return privacy.Step{}, err
	}
	return privacy.Step{Changed: 1}, nil
}

// holds are the legal holds on an instructor's profile, one per cause: each payout in flight, the
// negative balance, each open dispute of their sales.
func (e eraser) holds(ctx context.Context, instructorID string) ([]privacy.Hold, error) {
	var out []privacy.Hold
	payouts, err := e.rd.All(ctx, store.InstructorPK(instructorID), store.PayoutPrefix)
	if err != nil {
		return nil, err
	}
	for _, po := range payouts {
		if privacy.Str(po, "status") == PayoutTransferring {
			out = append(out, privacy.Hold{Reason: privacy.HoldOpenPayout, Ref: "payout:" + privacy.Str(po, "period"),
				What: "the instructor profile, while the payout's transfer is in flight"})
		}
	}
	bal, ok, err := e.rd.Get(ctx, store.InstructorBalanceKey(instructorID))
	if err != nil {
		return nil, err
	}
	if neg := negativeBuckets(bal); ok && len(neg) > 0 {
		out = append(out, privacy.Hold{Reason: privacy.HoldNegativeBalance, Ref: "balance:" + neg[0],
			What: "the instructor profile and balance, while the instructor owes the platform"})
	}
	sales, err := e.repo.disputedSales(ctx, instructorID)
	if err != nil {
		return nil, err
	}
	for _, sl := range sales {
		ids := make([]string, 0, len(sl.Disputes))
		for id, d := range sl.Disputes {
			if d.Status != ledger.DisputeWon && d.Status != ledger.DisputeLost && d.Status != ledger.DisputeWarningClose {
				ids = append(ids, id)
			}
		}
		sort.Strings(ids)
		for _, id := range ids {
			out = append(out, privacy.Hold{Reason: privacy.HoldOpenDispute, Ref: "dispute:" + id,
				What: "the instructor profile and the disputed sale " + sl.ID + ", while the dispute is open"})
		}
	}
	return out, nil
}
