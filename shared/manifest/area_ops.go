package manifest

// Ops: routes that report the platform's own health to an operator and to `make smoke` (issue 19).
// list-queues reads the approximate depth of every queue and of its dead-letter queue
// (InspectQueues: sqs:GetQueueAttributes on each, nothing else); it touches no table.
func init() {
	declare(Area{
		Name:    "ops",
		Package: "shared/ops",
		Functions: []Function{
			{Name: "list-queues", Summary: "Depth of every queue and its dead-letter queue; unhealthy when a DLQ holds messages (admin)",
				Trigger: route("GET", "/admin/queues"), Auth: Admin, InspectQueues: true},
		},
	})
}
