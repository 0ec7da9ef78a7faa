package support

import (
	"context"

	"github.com/liberation/monetization/shared/httpapi"
	"github.com/liberation/monetization/shared/job"
	"github.com/liberation/monetization/shared/platform"
)

// Constructors of support's functions: functions/<name>/main.go (generated) and the local gateway
// call New<Name>(runtime).

// NewCreateSupportTicket builds POST /support/tickets (Idempotency-Key honoured).
func NewCreateSupportTicket(rt *platform.Runtime) (httpapi.Lambda, error) {
	d, err := NewDeps(rt)
	if err != nil {
		return nil, err
	}
	return httpapi.Route(rt.Fn, httpapi.Idempotent(d.Claims, rt.Fn.Name, handleCreate(d.Clock, d.Tier, d.Repo, d.Orgs))), nil
}

// NewListSupportTickets builds GET /support/tickets.
func NewListSupportTickets(rt *platform.Runtime) (httpapi.Lambda, error) {
	d, err := NewDeps(rt)
	if err != nil {
		return nil, err
	}
	return httpapi.Route(rt.Fn, handleListMine(d.Clock, d.Repo)), nil
}

// NewGetSupportTicket builds GET /support/tickets/{ticketId}.
func NewGetSupportTicket(rt *platform.Runtime) (httpapi.Lambda, error) {
	d, err := NewDeps(rt)
	if err != nil {
		return nil, err
	}
	return httpapi.Route(rt.Fn, handleGet(d.Clock, d.Repo, d.Repo, d.Orgs)), nil
}

// NewReplySupportTicket builds POST /support/tickets/{ticketId}/replies.
func NewReplySupportTicket(rt *platform.Runtime) (httpapi.Lambda, error) {
	d, err := NewDeps(rt)
	if err != nil {
		return nil, err
	}
	return httpapi.Route(rt.Fn, handleReply(rt.Fn, replyDeps{clock: d.Clock, tickets: d.Repo, orgs: d.Orgs, agents: d.Repo, activity: d.Orgs, note: d.notifier()})), nil
}

// NewListSupportQueue builds GET /support/queue (agents).
func NewListSupportQueue(rt *platform.Runtime) (httpapi.Lambda, error) {
	d, err := NewDeps(rt)
	if err != nil {
		return nil, err
	}
	return httpapi.Route(rt.Fn, handleQueue(d.Clock, d.Repo, d.Repo)), nil
}

// NewUpdateSupportTicket builds PATCH /support/tickets/{ticketId} (agents).
func NewUpdateSupportTicket(rt *platform.Runtime) (httpapi.Lambda, error) {
	d, err := NewDeps(rt)
	if err != nil {
		return nil, err
	}
	return httpapi.Route(rt.Fn, handleUpdate(rt.Fn, d.Clock, d.Repo, d.Repo)), nil
}

// NewGetSupportSlaReport builds GET /admin/support/sla.
func NewGetSupportSlaReport(rt *platform.Runtime) (httpapi.Lambda, error) {
	d, err := NewDeps(rt)
	if err != nil {
		return nil, err
	}
	return httpapi.Route(rt.Fn, handleReport(d.Clock, d.Repo)), nil
}

// NewSupportSlaCheck builds the SLA check job (every 5 minutes).
func NewSupportSlaCheck(rt *platform.Runtime) (job.Handler[CheckReport], error) {
	d, err := NewDeps(rt)
	if err != nil {
		return nil, err
	}
	return job.Handle(rt.Log, func(ctx context.Context) (CheckReport, error) { return RunCheck(ctx, d, rt.Fn.Name) }), nil
}
