package stripeevents

import "time"

// Events of the course marketplace: a course purchase is a checkout.session.completed in payment
// mode whose metadata names the course (CourseMetadata); account.updated reports an instructor's
// Connect account.

// AccountUpdated is a Connect account's update (sent to the Connect endpoint).
const AccountUpdated = "account.updated"

func init() {
	Types = append(Types, AccountUpdated)
	builders[AccountUpdated] = account
}

// CourseMetadata is the metadata of a course purchase's Checkout Session, as POST
// /courses/{courseId}/purchase sets it.
func CourseMetadata(courseID string) map[string]string {
	return map[string]string{"courseId": courseID, "recordedBy": "marketplace"}
}

// CoursePurchase is the options of a paid course purchase by user (mode payment, the course in the
// metadata); set AmountCents to the price paid.
func CoursePurchase(user, courseID string, amountCents int64) Options {
	return Options{UserID: user, Mode: "payment", AmountCents: amountCents, Metadata: CourseMetadata(courseID)}
}

// AccountIDFor is the default Connect account id of a user in built events.
func AccountIDFor(userID string) string { return "acct_" + digest("acct"+userID) }

func account(o Options) map[string]any {
	id := o.AccountID
	if id == "" {
		id = AccountIDFor(o.UserID)
	}
	enabled := !o.PayoutsDisabled
	var due []string
	if !enabled {
		due = []string{"external_account", "individual.verification.document"}
	} else {
		due = []string{}
	}
	status := "active"
	if !enabled {
		status = "inactive"
	}
	return map[string]any{
		"id": id, "object": "account", "type": "express", "country": "US", "default_currency": "usd",
		"email": o.Email, "created": o.Created.Add(-24 * time.Hour).Unix(), "livemode": false,
		"metadata": o.metadata(false), "details_submitted": enabled, "charges_enabled": enabled,
		"payouts_enabled": enabled,
		"capabilities":    map[string]any{"transfers": status},
		"business_profile": map[string]any{"mcc": nil, "name": nil, "product_description": nil,
			"support_email": nil, "url": nil},
		"requirements": map[string]any{"currently_due": due, "eventually_due": due, "past_due": due,
			"disabled_reason": nil, "current_deadline": nil, "errors": []any{}, "pending_verification": []any{}},
		"settings": map[string]any{"payouts": map[string]any{"schedule": map[string]any{"interval": "daily",
			"delay_days": 2}, "debit_negative_balances": true}},
		"tos_acceptance": map[string]any{"date": nil},
	}
}
