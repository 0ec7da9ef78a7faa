package support

import (
	"strings"
	"unicode"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/httpapi"
	"github.com/liberation/monetization/shared/support/sla"
)

func invalid(field, format string, args ...any) error {
	return apperr.New(apperr.Invalid, field+" "+format, args...)
}

// createRequest is POST /support/tickets.
type createRequest struct {
	Subject  string `json:"subject"`
	Body     string `json:"body"`
	Priority string `json:"priority"`
}

func (c *createRequest) Validate() error {
	var err error
	if c.Subject, err = httpapi.OneLine("subject", c.Subject, MaxSubject); err != nil {
		return err
	}
	if c.Body, err = body(c.Body); err != nil {
		return err
	}
	if !sla.ValidPriority(c.Priority) {
		return invalid("priority", "must be low, normal, high or urgent")
	}
	return nil
}

// replyRequest is POST /support/tickets/{ticketId}/replies.
type replyRequest struct {
	Body string `json:"body"`
}

func (r *replyRequest) Validate() error {
	var err error
	r.Body, err = body(r.Body)
	return err
}

// patchRequest is PATCH /support/tickets/{ticketId} (agents).
type patchRequest struct {
	Status   *string `json:"status,omitempty"`
	Assignee *string `json:"assignee,omitempty"` // an agent's user id; "" unassigns
	Priority *string `json:"priority,omitempty"`
}

func (p *patchRequest) Validate() error {
	if p.Status == nil && p.Assignee == nil && p.Priority == nil {
		return apperr.New(apperr.Invalid, "request body changes nothing")
	}
	if p.Status != nil && *p.Status != StatusOpen && *p.Status != StatusPending && *p.Status != StatusSolved {
		return invalid("status", "must be open, pending or solved")
	}
	if p.Priority != nil && !sla.ValidPriority(*p.Priority) {
		return invalid("priority", "must be low, normal, high or urgent")
	}
	if p.Assignee != nil && len(*p.Assignee) > 128 {
		return invalid("assignee", "must be a user id")
	}
	return nil
}

func body(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", invalid("body", "is required")
	}
	if len([]rune(s)) > MaxBody {
		return "", invalid("body", "must be at most %d characters", MaxBody)
	}
	for _, r := range s {
		if r != '\n' && r != '\r' && r != '\t' && unicode.IsControl(r) {
			return "", invalid("body", "must be text without control characters other than tabs and line breaks")
		}
	}
	return s, nil
}
