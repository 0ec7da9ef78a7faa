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
	return httpapi.Route(rt.Fn, httpapi.Idempotent(d.Store, rt.Fn.Name, handleCreate(d))), nil
}

// NewListSupportTickets builds GET /support/tickets.
func NewListSupportTickets(rt *platform.Runtime) (httpapi.Lambda, error) {
	d, err := NewDeps(rt)
	if err != nil {
		return nil, err
	}
	return httpapi.Route(rt.Fn, handleListMine(d)), nil
}

// NewGetSupportTicket builds GET /support/tickets/{ticketId}.
func NewGetSupportTicket(rt *platform.Runtime) (httpapi.Lambda, error) {
	d, err := NewDeps(rt)
	if err != nil {
		return nil, err
	}
	return httpapi.Route(rt.Fn, handleGet(d)), nil
}

// NewReplySupportTicket builds POST /support/tickets/{ticketId}/replies.
func NewReplySupportTicket(rt *platform.Runtime) (httpapi.Lambda, error) {
	d, err := NewDeps(rt)
	if err != nil {
		return nil, err
	}
	return httpapi.Route(rt.Fn, handleReply(rt.Fn, d)), nil
}

// NewListSupportQueue builds GET /support/queue (agents).
func NewListSupportQueue(rt *platform.Runtime) (httpapi.Lambda, error) {
	d, err := NewDeps(rt)
	if err != nil {
		return nil, err
	}
	return httpapi.Route(rt.Fn, handleQueue(rt.Fn, d)), nil
}

// NewUpdateSupportTicket builds PATCH /support/tickets/{ticketId} (agents).
func NewUpdateSupportTicket(rt *platform.Runtime) (httpapi.Lambda, error) {
	d, err := NewDeps(rt)
	if err != nil {
		return nil, err
	}
	return httpapi.Route(rt.Fn, handleUpdate(rt.Fn, d)), nil
}

// NewGetSupportSlaReport builds GET /admin/support/sla.
func NewGetSupportSlaReport(rt *platform.Runtime) (httpapi.Lambda, error) {
	d, err := NewDeps(rt)
	if err != nil {
		return nil, err
	}
	return httpapi.Route(rt.Fn, handleReport(d)), nil
}

// NewSupportSlaCheck builds the SLA check job (every 5 minutes).
func NewSupportSlaCheck(rt *platform.Runtime) (job.Handler[CheckReport], error) {
	d, err := NewDeps(rt)
	if err != nil {
		return nil, err
	}
	return job.Handle(rt.Log, func(ctx context.Context) (CheckReport, error) { return RunCheck(ctx, d, rt.Fn.Name) }), nil
}
