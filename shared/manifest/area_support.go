package manifest

// GroupSupport is the Cognito group of support agents.
const GroupSupport = "support"

// Support: tickets with SLA targets by tier and priority, the agents' queue, the breach job and the
// SLA report (seed section 5).
func init() {
	agents := []string{GroupSupport}
	declare(Area{
		Name:  "support",
		Hooks: []string{BuildPersonalExport, ErasePersonalData}, // its exporter and eraser: docs/privacy.md
		Functions: []Function{
			{Name: "create-support-ticket", Summary: "Open a support ticket",
				Trigger: route("POST", "/support/tickets"), Auth: User, Table: []string{GetItem, PutItem, UpdateItem}},
			{Name: "list-support-tickets", Summary: "The caller's tickets, newest first",
				Trigger: route("GET", "/support/tickets"), Auth: User, Table: []string{GetItem, QueryIndex}, Cursors: true},
			{Name: "get-support-ticket", Summary: "A ticket and its messages (requester, their org admins, agents)",
				Trigger: route("GET", "/support/tickets/{ticketId}"), Auth: User, Table: []string{GetItem, Query}},
			{Name: "reply-support-ticket", Summary: "Reply to a ticket",
				Trigger: route("POST", "/support/tickets/{ticketId}/replies"), Auth: User, Table: []string{GetItem, PutItem, UpdateItem, DeleteItem}, Email: true},
			{Name: "list-support-queue", Summary: "The agents' queue by status, optionally only breaching tickets (agents)",
				Trigger: route("GET", "/support/queue"), Auth: User, Groups: agents,
				// PutItem: the agent directory (seeAgent records the agent on every agents' route).
				Table: []string{QueryIndex, PutItem}, Cursors: true},
			{Name: "update-support-ticket", Summary: "Change a ticket's status, assignee or priority (agents)",
				Trigger: route("PATCH", "/support/tickets/{ticketId}"), Auth: User, Groups: agents, Table: []string{GetItem, PutItem, UpdateItem, DeleteItem}},
			{Name: "support-sla-check", Summary: "Every 5 minutes: SLA warnings at 75 %, breaches and escalations at 100 %",
				Trigger: Trigger{Kind: Schedule, Expression: "rate(5 minutes)"}, Auth: Internal,
				TimeoutSeconds: 120, Table: []string{GetItem, Query, PutItem, UpdateItem, DeleteItem}, Email: true},
			{Name: "get-support-sla-report", Summary: "Share of SLA targets met per tier and priority (admin)",
				Trigger: route("GET", "/admin/support/sla"), Auth: Admin, Table: []string{Query}},
		},
	})
}
