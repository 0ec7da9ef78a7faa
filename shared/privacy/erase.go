package privacy

import (
	"context"
	"fmt"
	"strings"
)

// Erasure (issue 18, docs/privacy.md "Erasure", decision 0087). Every area registers an Eraser
// that removes, or replaces by the subject's pseudonym, its personal data about one person, step by
// step, keeping the financial records the law requires (tied to the pseudonym) and the area's
// invariants (ledgers balance, seat counts, review aggregates). The erasure host runs them in the
// registry's order, checkpointing after every step, so an interrupted erasure resumes.

// ActorErasure is the audit actor of the changes an erasure makes: the records it writes name the
// pseudonym (PseudonymTarget), never the person.
const ActorErasure = "system:privacy-erasure"

// ErasedText replaces free texts that are kept as records but whose words were the person's
// (ticket bodies, review texts, subjects).
const ErasedText = "[erased]"

// PseudonymDomain is the domain of the address kept records carry instead of the person's
// (".invalid" is reserved: RFC 2606, no mail ever goes there).
const PseudonymDomain = "erased.invalid"

// ErasureSubject is the person being erased.
type ErasureSubject struct {
	UserID string
	// Emails are the addresses the request knew (the caller's verified address); areas also erase
	// the addresses they stored themselves.
	Emails []string
	// Pseudonym ("anon_" + ULID) is what kept records name instead of the person.
	Pseudonym string
	// RequestID is the erasure request's id (the requestId of the audit records erasers write).
	RequestID string
}

// PseudonymEmail is the address kept records carry instead of the person's.
func (s ErasureSubject) PseudonymEmail() string { return s.Pseudonym + "@" + PseudonymDomain }

// PseudonymTarget is the audit target naming the erased person ("person:anon_…").
func (s ErasureSubject) PseudonymTarget() string { return "person:" + s.Pseudonym }

// IsErasedEmail reports an address an erasure wrote.
func IsErasedEmail(addr string) bool { return strings.HasSuffix(addr, "@"+PseudonymDomain) }

// Hold is part of an erasure an area postpones because the law or the money needs the record as
// it is (an open dispute, a payout in flight, an instructor who owes money). The rest of the area
// is erased; the held part is erased when the request is resumed after the hold has ended.
type Hold struct {
	Area   string `json:"area" dynamodbav:"area"`
	Reason string `json:"reason" dynamodbav:"reason"` // HoldOpenDispute, HoldOpenPayout, HoldNegativeBalance
	Ref    string `json:"ref" dynamodbav:"ref"`       // the record ("dispute:dp_…", "payout:2026-11")
	What   string `json:"what" dynamodbav:"what"`     // what is postponed, in a sentence
}

// Hold reasons.
const (
	HoldOpenDispute     = "open-dispute"
	HoldOpenPayout      = "open-payout"
	HoldNegativeBalance = "negative-balance"
)

// Step is what one call of an Eraser did.
type Step struct {
	// Next is the cursor of the next step; "" when the area is finished (but for its holds).
	Next string
	// Changed counts the records changed or deleted in this step.
	Changed int
	// Holds are the parts this step postponed (the host keeps them on the request).
	Holds []Hold
}

// Eraser does one bounded step (a page of records, each change one transaction) of an area's
// erasure of s from cursor ("" for the first step). A step repeated after a failure must find its
// work done and change nothing more: erasers are idempotent, record by record.
type Eraser func(ctx context.Context, s ErasureSubject, cursor string) (Step, error)

// RegisterEraser adds an area's eraser. An area registers once.
func (r *Registry) RegisterEraser(area string, fn Eraser) {
	if r.erasers == nil {
		r.erasers = map[string]Eraser{}
	}
	if area == "" || fn == nil {
		panic("privacy: an eraser needs an area and a function")
	}
	if _, dup := r.erasers[area]; dup {
		panic(fmt.Sprintf("privacy: two erasers for area %q", area))
	}
	r.eraseAreas = append(r.eraseAreas, area)
	r.erasers[area] = fn
}

// EraseAreas lists the areas with an eraser, in registration order.
func (r *Registry) EraseAreas() []string { return append([]string(nil), r.eraseAreas...) }

// Eraser returns the area's eraser.
func (r *Registry) Eraser(area string) (Eraser, bool) {
	fn, ok := r.erasers[area]
	return fn, ok
}

// Phase is one part of an area's erasure (one kind of record), paged by its own cursor.
type Phase func(ctx context.Context, s ErasureSubject, cursor string) (Step, error)

// Phases is an Eraser over phases taken one after the other: a call runs phases until one has more
// to do (a page each), and its cursor is the phase's index and that phase's own cursor.
func Phases(phases ...Phase) Eraser {
	return func(ctx context.Context, s ErasureSubject, cursor string) (Step, error) {
		i, inner, err := splitCursor(cursor)
		if err != nil {
			return Step{}, err
		}
		var out Step
		for ; i < len(phases); i, inner = i+1, "" {
			st, err := phases[i](ctx, s, inner)
			if err != nil {
				return Step{}, err
			}
			out.Changed += st.Changed
			out.Holds = append(out.Holds, st.Holds...)
			if st.Next != "" {
				out.Next = fmt.Sprintf("%d|%s", i, st.Next)
				return out, nil
			}
		}
		return out, nil
	}
}

// ErasePageSize is how many records an EachRow phase reads per step.
const ErasePageSize = 100

// RowResult is what erasing one record did.
type RowResult struct {
	Changed bool
	Holds   []Hold
}

// EachRow is a phase that reads src a page at a time (ErasePageSize rows) and erases each row with
// fn (one transaction per row, idempotent: a row already erased is left alone and reports no
// change). src is built per subject, as an exporter's sources are.
func EachRow(src func(s ErasureSubject) Source, fn func(ctx context.Context, s ErasureSubject, row map[string]any) (RowResult, error)) Phase {
	return func(ctx context.Context, s ErasureSubject, cursor string) (Step, error) {
		source := src(s)
		rows, next, err := source.Fetch(ctx, cursor, ErasePageSize)
		if err != nil {
			return Step{}, fmt.Errorf("%s: %w", source.Type, err)
		}
		var out Step
		for _, row := range rows {
			r, err := fn(ctx, s, row)
			if err != nil {
				return Step{}, fmt.Errorf("%s: %w", source.Type, err)
			}
			if r.Changed {
				out.Changed++
			}
			out.Holds = append(out.Holds, r.Holds...)
		}
		out.Next = next
		return out, nil
	}
}
