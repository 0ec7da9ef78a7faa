package support

import (
	"time"

	"github.com/liberation/monetization/shared/support/sla"
)

// TargetView is one SLA target of a ticket as shown.
type TargetView struct {
	// Status: none (no target), running, paused, met, breached.
	Status         string     `json:"status"`
	TargetMinutes  int64      `json:"targetMinutes"`
	ElapsedMinutes int64      `json:"elapsedMinutes"`
	DueAt          *time.Time `json:"dueAt"`
}

// SLAView is a ticket's SLA.
type SLAView struct {
	BusinessHours bool       `json:"businessHours"`
	TimeZone      string     `json:"timeZone"`
	FirstReply    TargetView `json:"firstReply"`
	Resolution    TargetView `json:"resolution"`
	Breaching     bool       `json:"breaching"`
}

// TicketView is a ticket as its readers see it.
type TicketView struct {
	ID           string        `json:"id"`
	Subject      string        `json:"subject"`
	Status       string        `json:"status"`
	Priority     string        `json:"priority"`
	Tier         string        `json:"tier"`
	RequesterID  string        `json:"requesterId"`
	Assignee     string        `json:"assignee"`
	LicenseID    string        `json:"licenseId"`
	CreatedAt    time.Time     `json:"createdAt"`
	UpdatedAt    time.Time     `json:"updatedAt"`
	FirstReplyAt *time.Time    `json:"firstReplyAt"`
	SolvedAt     *time.Time    `json:"solvedAt"`
	SLA          SLAView       `json:"sla"`
	Messages     []MessageView `json:"messages,omitempty"`
}

// MessageView is one message.
type MessageView struct {
	ID       string    `json:"id"`
	AuthorID string    `json:"authorId"`
	Role     string    `json:"role"`
	Body     string    `json:"body"`
	At       time.Time `json:"at"`
}

func viewOf(t Ticket, now time.Time) TicketView {
	tz := t.TimeZone
	if tz == "" {
		tz = "UTC"
	}
	v := TicketView{ID: t.ID, Subject: t.Subject, Status: t.Status, Priority: t.Priority, Tier: t.Tier, RequesterID: t.RequesterID,
		Assignee: t.Assignee, LicenseID: t.LicenseID, CreatedAt: t.CreatedAt.UTC(), UpdatedAt: t.UpdatedAt.UTC(),
		FirstReplyAt: utcPtr(t.FirstReplyAt), SolvedAt: utcPtr(t.SolvedAt),
		SLA: SLAView{BusinessHours: t.Policy().Business, TimeZone: tz, Breaching: t.breaching(now)}}
	v.SLA.FirstReply = targetView(t, sla.FirstReply, now)
	v.SLA.Resolution = targetView(t, sla.Resolution, now)
	return v
}

func targetView(t Ticket, target string, now time.Time) TargetView {
	d := t.Policy().Target(target)
	if d == 0 {
		return TargetView{Status: "none"}
	}
	c := t.Clock()
	elapsed := t.Meter.TargetElapsed(target, c, now)
	v := TargetView{TargetMinutes: int64(d / time.Minute), ElapsedMinutes: int64(elapsed / time.Minute)}
	switch {
	case t.Meter.Complete(target) && t.Outcomes[target] != "":
		v.Status = t.Outcomes[target]
	case t.Outcomes[target] == OutcomeBreached || elapsed >= d:
		v.Status = OutcomeBreached
	case t.Meter.Running(target):
		v.Status = "running"
		if at, ok := t.Meter.ReachesAt(target, c, d); ok {
			v.DueAt = &at
		}
	default:
		v.Status = "paused"
	}
	return v
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}
