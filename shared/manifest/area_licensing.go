package manifest

// Licensing: enterprise licenses with offline-verifiable Ed25519 keys, seats and invites,
// white-label branding, usage and its monthly report, the expiry job (seed section 5).
func init() {
	declare(Area{
		Name:  "licensing",
		Hooks: []string{BuildPersonalExport, ErasePersonalData}, // its exporter and eraser: docs/privacy.md
		Functions: []Function{
			// The two functions taking a time-zone name embed the zone database (ZoneDB).
			{Name: "create-license", Summary: "Create an enterprise license and its signed key (admin)", ZoneDB: true,
				Trigger: route("POST", "/admin/licenses"), Auth: Admin, Table: []string{GetItem, PutItem, UpdateItem, ConditionCheckItem}, SigningKey: true},
			{Name: "list-licenses", Summary: "List enterprise licenses, newest first (admin)",
				Trigger: route("GET", "/admin/licenses"), Auth: Admin, Table: []string{QueryIndex}, Cursors: true},
			{Name: "update-license", Summary: "Change seats, expiry, policies or suspension and re-issue the key (admin)",
				ZoneDB: true, Trigger: route("PATCH", "/admin/licenses/{licenseId}"), Auth: Admin, Table: []string{GetItem, PutItem, UpdateItem, ConditionCheckItem}, SigningKey: true},
			// The verification keys come from the table (every key that ever signed), so this public
			// route never reads the private key.
			{Name: "get-license-public-key", Summary: "The license-key verification keys as a JWK set",
				Trigger: route("GET", "/licenses/public-key"), Auth: Public, Table: []string{Query}},
			{Name: "activate-license", Summary: "Activate a license with its key and become an org admin",
				Trigger: route("POST", "/licenses/activate"), Auth: User, Table: []string{GetItem, PutItem, UpdateItem}},
			{Name: "get-license", Summary: "A license's status, seats, expiry, policies and branding (org admins)",
				Trigger: route("GET", "/licenses/{licenseId}"), Auth: User, Table: []string{GetItem}},
			{Name: "create-license-invite", Summary: "Create an invite code for seats of a license (org admins)",
				Trigger: route("POST", "/licenses/{licenseId}/invites"), Auth: User, Table: []string{GetItem, PutItem, UpdateItem}, Email: true},
			{Name: "join-license", Summary: "Take a seat of a license with an invite code", RateLimit: &RateLimit{PerMinute: 5, PerHour: 20}, // per user: invite codes can be guessed (decision 0077)
				Trigger: route("POST", "/licenses/join"), Auth: User, Table: []string{GetItem, PutItem, UpdateItem}},
			{Name: "assign-license-seat", Summary: "Give a seat to an existing user by e-mail (org admins)",
				Trigger: route("POST", "/licenses/{licenseId}/seats"), Auth: User, Table: []string{GetItem, PutItem, UpdateItem}, Email: true},
			{Name: "remove-license-seat", Summary: "Free a seat (org admins)",
				Trigger: route("DELETE", "/licenses/{licenseId}/seats/{userId}"), Auth: User, Table: []string{GetItem, PutItem, UpdateItem, DeleteItem}},
			{Name: "list-license-seats", Summary: "The seats of a license (org admins)",
				Trigger: route("GET", "/licenses/{licenseId}/seats"), Auth: User, Table: []string{GetItem, Query}, Cursors: true},
			{Name: "put-license-branding", Summary: "Set the white-label branding of a license (org admins)",
				Trigger: route("PUT", "/licenses/{licenseId}/branding"), Auth: User, Table: []string{GetItem, PutItem, UpdateItem}},
			{Name: "get-license-usage", Summary: "A license's usage in a month (org admins)",
				Trigger: route("GET", "/licenses/{licenseId}/usage"), Auth: User, Table: []string{GetItem}},
			{Name: "license-expiry", Summary: "Daily: expiring-soon e-mails, expiration policies, overage seat-days",
				Trigger: Trigger{Kind: Schedule, Expression: "cron(30 0 * * ? *)"}, Auth: Internal,
				TimeoutSeconds: 300, Table: []string{GetItem, QueryIndex, PutItem, UpdateItem}, Email: true},
			{Name: "license-usage-report", Summary: "Monthly: close last month's usage, write the true-up line, e-mail org admins",
				Trigger: Trigger{Kind: Schedule, Expression: "cron(0 6 1 * ? *)"}, Auth: Internal,
				TimeoutSeconds: 300, Table: []string{GetItem, QueryIndex, PutItem, UpdateItem}, Email: true},
		},
	})
}
