package rewards

import (
	"time"

	"github.com/liberation/monetization/shared/facts"
)

// Rule is one way to earn tokens. The table below is the whole earning policy; docs/data-model.md
// and the OpenAPI description of GET /tokens/transactions repeat it for readers.
type Rule struct {
	ID string // the event or fact type that earns, and the entry's rule
	// Tokens earned per occurrence (for subscription.renewed: see TierTokens).
	Tokens int64
	// DailyCap bounds the tokens one user earns by this rule per UTC day (0: no cap).
	DailyCap int64
	// Once says what the earning is idempotent on besides the user: the source id (an event, a
	// course, an invoice). Replaying the same source earns nothing.
	Once string
	// PendingFor: the tokens are pending until the source's refund window ends (purchases).
	Pending bool
}

// Earning rules.
const (
	RuleLessonCompleted     = "lesson.completed"
	RuleCourseCompleted     = "course.completed"
	RuleCoursePurchased     = facts.CoursePurchased
	RuleReviewPublished     = facts.ReviewPublished
	RuleSubscriptionRenewed = facts.SubscriptionRenewed
	RuleAdminAdjustment     = "admin.adjustment"
)

// Rules is the earning policy.
var Rules = map[string]Rule{
	RuleLessonCompleted:     {ID: RuleLessonCompleted, Tokens: 5, DailyCap: 50, Once: "lesson (course and lesson id)"},
	RuleCourseCompleted:     {ID: RuleCourseCompleted, Tokens: 100, Once: "course"},
	RuleCoursePurchased:     {ID: RuleCoursePurchased, Tokens: 50, Once: "purchase", Pending: true},
	RuleReviewPublished:     {ID: RuleReviewPublished, Tokens: 10, Once: "course"},
	RuleSubscriptionRenewed: {ID: RuleSubscriptionRenewed, Once: "invoice"},
}

// TierTokens is what a paid renewal earns per tier; other tiers earn nothing.
var TierTokens = map[string]int64{"pro": 20, "enterprise": 50}

// RefundWindow is the marketplace's refund window, used when a purchase fact does not say when its
// window ends.
const RefundWindow = 30 * 24 * time.Hour

// CapGrant is what an earning of rule r grants when the user already earned earnedToday by r on the
// same UTC day: the rule's tokens, cut to what the daily cap leaves (0 when the cap is reached).
func CapGrant(r Rule, tokens, earnedToday int64) int64 {
	if r.DailyCap <= 0 {
		return tokens
	}
	return max(min(tokens, r.DailyCap-earnedToday), 0)
}

// Day is the UTC day of t ("2026-02-03"), the unit of daily caps.
func Day(t time.Time) string { return t.UTC().Format("2006-01-02") }

// Adjustment limits: an admin grant or deduction moves at most MaxAdjustment tokens at once.
const MaxAdjustment = 100_000
