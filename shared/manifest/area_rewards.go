package manifest

// LearningEventsQueue carries learning events (lesson.completed, course.completed) from the
// learning platform: in AWS an EventBridge rule (Queue.FedBy) puts each event on it in our queue
// envelope; locally `make emit` does.
const LearningEventsQueue = "learning-events"

// GroupInstructor is the Cognito group of instructors (they create classes).
const GroupInstructor = "instructor"

// ApplyFacts is the host consuming the facts queue (declared in area_platform.go).
const ApplyFacts = "apply-facts"

// Rewards: earning rules, the token ledger, leaderboards, friends and classes, and the redemption
// workflow (seed section 4). Admin transitions that call Stripe or send e-mail are in rewards/redeem;
// the catalogue, which needs no table, in rewards/rewardcatalog.
func init() {
	declare(Area{
		Name:  "rewards",
		Hooks: []string{ApplyFacts, BuildPersonalExport, ErasePersonalData},
		Queues: []QueueDef{
			// Consumer timeout 30 s → visibility 180 s.
			{Name: LearningEventsQueue, MaxReceiveCount: 5, VisibilitySeconds: 180,
				FedBy: &EventRule{Source: "liberation.learning", DetailTypes: []string{"lesson.completed", "course.completed"}}},
		},
		Functions: []Function{
			{Name: "get-token-balance", Summary: "The caller's token balance: held, pending, available, earned",
				Trigger: route("GET", "/tokens"), Auth: User, Table: []string{GetItem}},
			{Name: "list-token-transactions", Summary: "The caller's token ledger, newest first",
				Trigger: route("GET", "/tokens/transactions"), Auth: User, Table: []string{Query}, Cursors: true},
			{Name: "list-rewards", Summary: "The rewards catalogue", Package: "shared/rewards/rewardcatalog",
				Trigger: route("GET", "/rewards"), Auth: Public},
			{Name: "create-redemption", Summary: "Redeem tokens for a reward: the cost is held until an admin decides", RateLimit: &RateLimit{PerMinute: 5, PerHour: 20}, // per user: holds tokens and queues an admin decision (decision 0077)
				Trigger: route("POST", "/tokens/redemptions"), Auth: User, Table: []string{GetItem, PutItem, UpdateItem}},
			{Name: "list-my-redemptions", Summary: "The caller's redemptions, newest first",
				Trigger: route("GET", "/tokens/redemptions"), Auth: User, Table: []string{Query}, Cursors: true},
			{Name: "cancel-redemption", Summary: "Withdraw a pending redemption and release its tokens",
				Trigger: route("POST", "/tokens/redemptions/{redemptionId}/cancel"), Auth: User, Table: []string{GetItem, PutItem, UpdateItem}},
			{Name: "get-global-leaderboard", Summary: "The global leaderboard: display names, ranks and scores",
				Trigger: route("GET", "/leaderboards/global"), Auth: Public, Table: []string{QueryIndex}},
			{Name: "get-my-global-rank", Summary: "The caller's rank, score and percentile on the global leaderboard",
				Trigger: route("GET", "/leaderboards/global/me"), Auth: User, Table: []string{GetItem, Query, QueryIndex}},
			{Name: "get-friends-leaderboard", Summary: "The leaderboard of the caller and whom they follow",
				Trigger: route("GET", "/leaderboards/friends"), Auth: User, Table: []string{BatchGetItem, Query}},
			{Name: "get-class-leaderboard", Summary: "A class's leaderboard, for its members and owner",
				Trigger: route("GET", "/leaderboards/classes/{classId}"), Auth: User, Table: []string{GetItem, BatchGetItem, Query}},
			{Name: "get-profile", Summary: "The caller's leaderboard profile",
				Trigger: route("GET", "/me/profile"), Auth: User, Table: []string{GetItem}},
			{Name: "update-profile", Summary: "Set the caller's display name and leaderboard opt-out",
				Trigger: route("PUT", "/me/profile"), Auth: User, Table: []string{GetItem, PutItem, UpdateItem}},
			{Name: "list-friends", Summary: "Whom the caller follows",
				Trigger: route("GET", "/me/friends"), Auth: User, Table: []string{Query}},
			{Name: "follow-user", Summary: "Follow a learner (friends leaderboard)",
				Trigger: route("PUT", "/me/friends/{userId}"), Auth: User, Table: []string{GetItem, PutItem, UpdateItem}},
			{Name: "unfollow-user", Summary: "Stop following a learner",
				Trigger: route("DELETE", "/me/friends/{userId}"), Auth: User, Table: []string{UpdateItem, DeleteItem}},
			{Name: "create-class", Summary: "Create a class with a join code (instructors)",
				Trigger: route("POST", "/classes"), Auth: User, Groups: []string{GroupInstructor}, Table: []string{GetItem, PutItem, UpdateItem}},
			{Name: "join-class", Summary: "Join a class with its code", RateLimit: &RateLimit{PerMinute: 5, PerHour: 20}, // per user: join codes can be guessed (decision 0077)
				Trigger: route("POST", "/classes/join"), Auth: User, Table: []string{GetItem, PutItem, UpdateItem}},
			{Name: "get-class", Summary: "A class; its owner also sees the join code and members",
				Trigger: route("GET", "/classes/{classId}"), Auth: User, Table: []string{GetItem, BatchGetItem, Query}},
			{Name: "remove-class-member", Summary: "Remove a member from a class (owner), or leave it",
				Trigger: route("DELETE", "/classes/{classId}/members/{userId}"), Auth: User, Table: []string{GetItem, UpdateItem, DeleteItem}},
			{Name: "adjust-tokens", Summary: "Grant or deduct tokens with a reason (admin)",
				Trigger: route("POST", "/admin/tokens/adjustments"), Auth: Admin, Table: []string{GetItem, PutItem, UpdateItem}},
			{Name: "get-token-metrics", Summary: "Tokens issued, redeemed and outstanding (admin)",
				Trigger: route("GET", "/admin/tokens/metrics"), Auth: Admin, Table: []string{Query}},
			{Name: "list-redemptions", Summary: "Redemptions by status, oldest first (admin)",
				Trigger: route("GET", "/admin/redemptions"), Auth: Admin, Table: []string{QueryIndex}, Cursors: true},
			{Name: "approve-redemption", Summary: "Approve a redemption; coupons and credits are fulfilled at once (admin)",
				Package: "shared/rewards/redeem", Trigger: route("POST", "/admin/redemptions/{redemptionId}/approve"),
				Auth: Admin, Table: []string{GetItem, QueryIndex, PutItem, UpdateItem}, Stripe: true, Email: true},
			{Name: "fulfil-redemption", Summary: "Mark a redemption fulfilled, or retry its Stripe fulfilment (admin)",
				Package: "shared/rewards/redeem", Trigger: route("POST", "/admin/redemptions/{redemptionId}/fulfil"),
				Auth: Admin, Table: []string{GetItem, QueryIndex, PutItem, UpdateItem}, Stripe: true, Email: true},
			{Name: "reject-redemption", Summary: "Reject a redemption and release its tokens (admin)",
				Package: "shared/rewards/redeem", Trigger: route("POST", "/admin/redemptions/{redemptionId}/reject"),
				Auth: Admin, Table: []string{GetItem, QueryIndex, PutItem, UpdateItem}, Stripe: true, Email: true}, // revokes a coupon or credit issued at Stripe
			{Name: "apply-learning-events", Summary: "Earn tokens for lessons and courses completed",
				Trigger: Trigger{Kind: Queue, Queue: LearningEventsQueue, BatchSize: 10}, Auth: Internal,
				TimeoutSeconds: 30, Table: []string{GetItem, PutItem, UpdateItem}},
			{Name: "release-pending-tokens", Summary: "Hourly: make purchase tokens available once their refund window ended",
				Trigger: Trigger{Kind: Schedule, Expression: "cron(5 * * * ? *)"}, Auth: Internal,
				TimeoutSeconds: 300, Table: []string{GetItem, QueryIndex, PutItem, UpdateItem}},
		},
	})
}
