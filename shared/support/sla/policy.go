// Package sla is the support SLA, pure and in one place: targets per tier and priority, the business
// hours calendar (Monday–Friday 09:00–17:00 in the organisation's time zone), and the meter that
// measures a ticket against its targets (the resolution clock pauses while pending, the first-reply
// clock does not; both stop when solved). It has no storage and no clock of its own;
// shared/support drives it.
package sla

import "time"

// Tiers (the billing tier ids) and priorities.
const (
	TierFree       = "free"
	TierPro        = "pro"
	TierEnterprise = "enterprise"

	Low    = "low"
	Normal = "normal"
	High   = "high"
	Urgent = "urgent"
)

// Priorities in rank order.
var Priorities = []string{Low, Normal, High, Urgent}

// Tiers in rank order.
var Tiers = []string{TierFree, TierPro, TierEnterprise}

// Target names.
const (
	FirstReply = "firstReply"
	Resolution = "resolution"
)

// Targets lists the target names in the order events are evaluated.
var Targets = []string{FirstReply, Resolution}

// Policy is what a ticket is promised. A zero duration means no target.
type Policy struct {
	FirstReply time.Duration
	Resolution time.Duration
	// Business: the targets count business hours; otherwise calendar hours.
	Business bool
}

// Target returns the duration of the named target.
func (p Policy) Target(name string) time.Duration {
	if name == FirstReply {
		return p.FirstReply
	}
	return p.Resolution
}

// None reports a policy without targets.
func (p Policy) None() bool { return p.FirstReply == 0 && p.Resolution == 0 }

// The SLA targets, by tier × priority: the one table the product promises.
var policies = map[string]map[string]Policy{
	TierEnterprise: {
		Urgent: {FirstReply: 1 * time.Hour, Resolution: 8 * time.Hour},
		High:   {FirstReply: 4 * time.Hour, Resolution: 24 * time.Hour},
		Normal: {FirstReply: 8 * time.Hour, Resolution: 72 * time.Hour, Business: true},
		Low:    {FirstReply: 24 * time.Hour, Resolution: 120 * time.Hour, Business: true},
	},
	TierPro: {
		Urgent: {FirstReply: 24 * time.Hour, Business: true},
		High:   {FirstReply: 24 * time.Hour, Business: true},
		Normal: {FirstReply: 24 * time.Hour, Business: true},
		Low:    {FirstReply: 24 * time.Hour, Business: true},
	},
}

// For returns the policy of a tier and priority (Free, and anything unknown: no targets).
func For(tier, priority string) Policy { return policies[tier][priority] }

// ValidPriority reports a known priority.
func ValidPriority(p string) bool {
	for _, x := range Priorities {
		if x == p {
			return true
		}
	}
	return false
}

// WarnAt is the share of a target at which the assignee is warned: 75 %.
func WarnAt(target time.Duration) time.Duration { return target * 3 / 4 }
