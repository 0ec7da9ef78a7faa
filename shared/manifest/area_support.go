package manifest

// GroupSupport is the Cognito group of support agents.
const GroupSupport = "support"

// Support: tickets with SLA targets by tier and priority, the agents' queue, the breach job and the
// SLA report (seed section 5).
func init() {
	// Ticket writes move the ticket's SLA schedule item (delete the old due time, put the new one).
	withDelete := append(append([]string{}, readWrite...), DeleteItem)
	agents := []string{GroupSupport}
	declare(Area{
		Name: "support",
		Functions: []Function{
			{Name: "create-support-ticket", Summary: "Open a support ticket",
				Trigger: route("POST", "/support/tickets"), Auth: User, Table: readWrite},
			{Name: "list-support-tickets", Summary: "The caller's tickets, newest first",
				Trigger: route("GET", "/support/tickets"), Auth: User, Table: readOnly},
			{Name: "get-support-ticket", Summary: "A ticket and its messages (requester, their org admins, agents)",
				Trigger: route("GET", "/support/tickets/{ticketId}"), Auth: User, Table: readOnly},
			{Name: "reply-support-ticket", Summary: "Reply to a ticket",
				Trigger: route("POST", "/support/tickets/{ticketId}/replies"), Auth: User, Table: withDelete, Email: true},
			{Name: "list-support-queue", Summary: "The agents' queue by status, optionally only breaching tickets (agents)",
				Trigger: route("GET", "/support/queue"), Auth: User, Groups: agents,
				// PutItem: the agent directory (seeAgent records the agent on every agents' route).
				Table: []string{GetItem, Query, PutItem}},
			{Name: "update-support-ticket", Summary: "Change a ticket's status, assignee or priority (agents)",
				Trigger: route("PATCH", "/support/tickets/{ticketId}"), Auth: User, Groups: agents, Table: withDelete},
			{Name: "support-sla-check", Summary: "Every 5 minutes: SLA warnings at 75 %, breaches and escalations at 100 %",
				Trigger: Trigger{Kind: Schedule, Expression: "rate(5 minutes)"}, Auth: Internal,
				TimeoutSeconds: 120, Table: withDelete, Email: true},
			{Name: "get-support-sla-report", Summary: "Share of SLA targets met per tier and priority (admin)",
				Trigger: route("GET", "/admin/support/sla"), Auth: Admin, Table: readOnly},
		},
	})
}
