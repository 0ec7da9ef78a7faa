package licensing

import (
	"context"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/liberation/monetization/shared/audit"
	"github.com/liberation/monetization/shared/logging"
	"github.com/liberation/monetization/shared/store"
)

// seen remembers, per container, which users were already recorded active this month, so the
// signal costs a table write at most once per user, month and container.
var seen = struct {
	sync.Mutex
	m map[string]string // user → month
}{m: map[string]string{}}

const seenMax = 50000

func markSeen(userID, m string) bool {
	seen.Lock()
	defer seen.Unlock()
	if seen.m[userID] == m {
		return false
	}
	if len(seen.m) >= seenMax {
		clear(seen.m)
	}
	seen.m[userID] = m
	return true
}

func forgetSeen(userID string) {
	seen.Lock()
	delete(seen.m, userID)
	seen.Unlock()
}

// RecordActivity records that userID (signed in as email) was active at at: a signed-in request or
// a learning event. It keeps the e-mail directory current (seat assignment by e-mail) and, for a
// seat holder, counts them once among the month's monthly active learners of their license (a
// marker item created only if absent, with the counter, in one transaction). Cheap to call on every
// request: after the first call per user and month in a container it does nothing.
func RecordActivity(ctx context.Context, w Writer, userID, email string, at time.Time) error {
	m := month(at)
	if userID == "" || !markSeen(userID, m) {
		return nil
	}
	if err := recordActivity(ctx, writerRepo{readerRepo{w}, w}, userID, email, at); err != nil {
		forgetSeen(userID) // try again on the next call
		return err
	}
	return nil
}

func recordActivity(ctx context.Context, u usageRecorder, userID, email string, at time.Time) error {
	if e, ok := Email(email); ok {
		if err := rememberAddress(ctx, u, userID, e, at); err != nil {
			return err
		}
	}
	mem, ok, err := u.Membership(ctx, userID)
	if err != nil || !ok {
		return err
	}
	return u.CountOnce(ctx, store.LicenseActiveKey(mem.LicenseID, month(at), userID), mem.LicenseID, at,
		map[string]int64{"activeLearners": 1})
}

// RecordEnrolment counts a seat holder's enrolment in a course once, in the month of at (nothing
// for a user without a seat). For the marketplace's enrolment flow to call.
func RecordEnrolment(ctx context.Context, w Writer, userID, courseID string, at time.Time) error {
	return recordEnrolment(ctx, writerRepo{readerRepo{w}, w}, userID, courseID, at)
}

func recordEnrolment(ctx context.Context, u usageRecorder, userID, courseID string, at time.Time) error {
	mem, ok, err := u.Membership(ctx, userID)
	if err != nil || !ok {
		return err
	}
	return u.CountOnce(ctx, store.LicenseEnrolmentKey(mem.LicenseID, userID, courseID), mem.LicenseID, at,
		map[string]int64{"enrolments": 1})
}

// TicketUsage is the transaction item counting one support ticket of priority on licenseID's usage
// for the month of at; support adds it to the transaction that opens the ticket.
func TicketUsage(licenseID, priority string, at time.Time) *types.TransactWriteItem {
	name := map[string]string{"low": "ticketsLow", "normal": "ticketsNormal", "high": "ticketsHigh", "urgent": "ticketsUrgent"}[priority]
	if name == "" {
		return nil
	}
	return usageAdd(licenseID, at, map[string]int64{name: 1})
}

// UsageView is GET /licenses/{licenseId}/usage.
type UsageView struct {
	LicenseID             string         `json:"licenseId"`
	Month                 string         `json:"month"`
	Closed                bool           `json:"closed"`
	Seats                 int64          `json:"seats"`
	SeatsAssigned         int64          `json:"seatsAssigned"`
	PeakSeats             int64          `json:"peakSeats"`
	Joins                 int64          `json:"joins"`
	Removals              int64          `json:"removals"`
	OverageJoins          int64          `json:"overageJoins"`
	OverageSeatDays       int64          `json:"overageSeatDays"`
	MonthlyActiveLearners int64          `json:"monthlyActiveLearners"`
	CourseEnrolments      int64          `json:"courseEnrolments"`
	SupportTickets        map[string]int `json:"supportTickets"`
	TrueUp                *TrueUpView    `json:"trueUp"`
}

// TrueUpView is a closed month's true-up line.
type TrueUpView struct {
	Seats           int64 `json:"seats"`
	PeakSeats       int64 `json:"peakSeats"`
	OverageSeatDays int64 `json:"overageSeatDays"`
	OverageJoins    int64 `json:"overageJoins"`
}

// usageOf reads a license's usage for month m; for the current month the seats assigned and the
// peak include the live count.
func usageOf(ctx context.Context, s usageStore, l License, m string, current bool) (UsageView, error) {
	u, _, err := s.Usage(ctx, l.ID, m)
	if err != nil {
		return UsageView{}, err
	}
	v := UsageView{LicenseID: l.ID, Month: m, Closed: u.Closed, Seats: l.Seats, SeatsAssigned: u.UsedAtClose, PeakSeats: u.PeakSeats,
		Joins: u.Joins, Removals: u.Removals, OverageJoins: u.OverageJoins, OverageSeatDays: u.OverageSeatDays,
		MonthlyActiveLearners: u.ActiveLearners, CourseEnrolments: u.Enrolments,
		SupportTickets: map[string]int{"low": int(u.TicketsLow), "normal": int(u.TicketsNormal), "high": int(u.TicketsHigh), "urgent": int(u.TicketsUrgent)}}
	if u.Closed {
		v.Seats = u.SeatsAtClose
	}
	if current {
		v.SeatsAssigned = l.SeatsUsed
		if l.SeatsUsed > v.PeakSeats {
			v.PeakSeats = l.SeatsUsed
		}
	}
	t, ok, err := s.TrueUp(ctx, l.ID, m)
	if err != nil {
		return UsageView{}, err
	}
	if ok {
		v.TrueUp = &TrueUpView{Seats: t.Seats, PeakSeats: t.PeakSeats, OverageSeatDays: t.OverageSeatDays, OverageJoins: t.OverageJoins}
	}
	return v, nil
}

// sampleDay adds the day's overage seats (seats taken beyond the seat count) to the month's
// overage seat-days, once per day (the month item remembers the last sampled day), and raises the
// month's peak. Run by the daily job.
func sampleDay(ctx context.Context, s usageStore, l License, now time.Time) (bool, error) {
	sampled, err := s.SampleDay(ctx, l.ID, now, l.OverageSeats())
	if err != nil {
		return false, err
	}
	return sampled, s.RaisePeak(ctx, l.ID, l.SeatsUsed, now)
}

// rememberAddress maps a verified address to its user in the e-mail directory (seat assignment by
// address reads it). Callers pass only an address the token marks verified (auth.Principal.Email):
// an unverified one is anyone's to type. An entry of another user moves only with an audit record
// naming both users — an address changes hands when its owner changes it and another user verifies
// it — never silently.
func rememberAddress(ctx context.Context, u usageRecorder, userID, email string, at time.Time) error {
	k := store.UserByEmailKey(email)
	entry := UserByEmail{PK: k.PK, SK: k.SK, Type: "user-by-email", UserID: userID, Email: email, UpdatedAt: at.UTC()}
	err := u.SaveAddress(ctx, entry)
	if !store.IsConditionFailed(err) {
		return err
	}
	prev, err := u.AddressEntry(ctx, email)
	if err != nil {
		return err
	}
	logging.From(ctx).Warn("a verified e-mail address moved to another user", "fromUserId", prev.UserID, "toUserId", userID)
	return u.MoveAddress(ctx, entry, prev.UserID, audit.Entry{Actor: userID, Action: "user.email_moved", Target: "user:" + userID,
		Details: map[string]string{"fromUserId": prev.UserID, "toUserId": userID}})
}
