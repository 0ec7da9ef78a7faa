package store

// Every key in the single table is built here and nowhere else. docs/data-model.md lists the access
// patterns these keys serve. Ids are ours (ULID-like, time ordered) unless named Stripe*.

import (
	"fmt"
	"strconv"
	"time"
)

// Key is a primary key.
type Key struct{ PK, SK string }

const sep = "#"

// Users and their Stripe customer.
func UserKey(userID string) Key { return Key{"USER#" + userID, "PROFILE"} }

// StripeCustomerLookup maps a Stripe customer id to our user (GSI1 on the user profile item).
func StripeCustomerGSI1(customerID string) (string, string) { return "CUS#" + customerID, "USER" }

// Subscription: one current subscription item per user.
func SubscriptionKey(userID string) Key { return Key{"USER#" + userID, "SUB"} }

// StripeSubscriptionGSI1 indexes the subscription item by Stripe subscription id.
func StripeSubscriptionGSI1(subID string) (string, string) { return "STRIPESUB#" + subID, "SUB" }

// SubscriptionStatusGSI2 lists subscriptions by status for the billing-cycle job ("SUBSTATUS#active"),
// sorted by the item's review time (its period end; for past_due its paid-through date), so "active
// and due before now" is one key condition (GSI2SK < now).
func SubscriptionStatusGSI2(status string, reviewAt time.Time, userID string) (string, string) {
	return SubscriptionStatusPrefix + status, SortTime(reviewAt) + sep + userID
}

// OtherSubscriptionKey records a live Stripe subscription of a user that is not the stored one
// (one live subscription per user: the billing-cycle job checks and reports these).
func OtherSubscriptionKey(userID, subID string) Key {
	return Key{"USER#" + userID, "SUBOTHER#" + subID}
}

// OpenOtherSubscriptionsGSI2 lists the unresolved other-subscription records, oldest first (the
// GSI2 attributes are removed when one is resolved, so the index holds only open ones).
func OpenOtherSubscriptionsGSI2(seenAt time.Time, userID, subID string) (string, string) {
	return OpenOtherSubscriptionsPK, SortTime(seenAt) + sep + userID + sep + subID
}

// OpenOtherSubscriptionsPK is the GSI2 partition of open other-subscription records.
const OpenOtherSubscriptionsPK = "SUBOTHER"

// SubscriptionStatusPrefix starts the GSI2PK of subscriptions by status.
const SubscriptionStatusPrefix = "SUBSTATUS#"

// SortTime renders t as fixed-width UTC seconds ("2006-01-02T15:04:05Z"), so that string order is
// time order in sort keys and condition expressions.
func SortTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }

// Payments: one item per successful charge, listed newest first per user (failed attempts are
// PaymentFailureKey guard items, not payments).
func PaymentKey(userID, paymentID string) Key { return Key{"USER#" + userID, "PAY#" + paymentID} }

// PaymentPrefix is the SK prefix to list a user's payments.
const PaymentPrefix = "PAY#"

// PaymentByIDGSI1 finds a payment by our id (admin refunds) — GSI1PK "PAYMENT#<id>".
func PaymentByIDGSI1(paymentID string) (string, string) { return "PAYMENT#" + paymentID, "PAYMENT" }

// ChargeGSI2 finds a payment by Stripe charge id (charge.refunded, disputes).
func ChargeGSI2(chargeID string) (string, string) { return "CHARGE#" + chargeID, "PAYMENT" }

// RefundKey: refunds hang under their payment's user partition.
func RefundKey(userID, paymentID, refundID string) Key {
	return Key{"USER#" + userID, "REFUND#" + paymentID + sep + refundID}
}

// DisputeKey: disputes likewise.
func DisputeKey(userID, disputeID string) Key { return Key{"USER#" + userID, "DISPUTE#" + disputeID} }

// RefundPrefix is the SK prefix of one payment's refunds (a bounded Query, never a Scan).
func RefundPrefix(paymentID string) string { return "REFUND#" + paymentID + sep }

// PaymentSourceKey guards "one payment per Stripe source" (an invoice id or a Checkout Session id)
// and points back at the payment (userId, paymentId) for webhook retries.
func PaymentSourceKey(sourceID string) Key { return Key{"PAYSRC#" + sourceID, "PAYMENT"} }

// PaymentIntentKey points a Stripe PaymentIntent id at our payment (purchases have no charge id
// until a later event names it; charge.refunded and disputes carry the intent id too).
func PaymentIntentKey(paymentIntentID string) Key {
	return Key{"PAYINTENT#" + paymentIntentID, "PAYMENT"}
}

// RefundOpKey is one refund operation of ours (rop_…): its reservation and how it ended.
func RefundOpKey(opID string) Key { return Key{"REFUNDOP#" + opID, "OP"} }

// RefundOpsPendingGSI2 indexes an operation while it is pending (sparse: a resolved operation has no
// GSI2 keys), ordered by reservation time, so "pending and reserved before T" is one key condition.
func RefundOpsPendingGSI2(reservedAt time.Time, opID string) (string, string) {
	return "REFUNDOPS#pending", SortTime(reservedAt) + sep + opID
}

// UnmatchedRefundKey counts a refunded charge we never recorded a payment for, once per charge.
func UnmatchedRefundKey(chargeID string) Key { return Key{"UNMATCHED#" + chargeID, "REFUNDED"} }

// PaymentFailureKey marks one failed attempt of an invoice as counted (and its dunning e-mail queued).
func PaymentFailureKey(invoiceID string, attempt int64) Key {
	return Key{"PAYFAIL#" + invoiceID, fmt.Sprintf("ATTEMPT#%04d", attempt)}
}

// IdempotencyKey stores one idempotency record per scope (e.g. "stripe-event", "email",
// "create-refund#<user>") and key. The key is in the partition key so that records spread over
// partitions instead of making one hot partition per scope.
func IdempotencyKey(scope, key string) Key { return Key{"IDEMP#" + scope + sep + key, "IDEMP"} }

// Audit records: one partition per day, sorted by time then id, so a day's actions are one Query.
func AuditKey(at time.Time, id string) Key {
	return Key{"AUDIT#" + at.UTC().Format("2006-01-02"), at.UTC().Format(time.RFC3339Nano) + sep + id}
}

// AuditByActorGSI1 lists an actor's audit records.
func AuditByActorGSI1(actor string, at time.Time, id string) (string, string) {
	return "ACTOR#" + actor, at.UTC().Format(time.RFC3339Nano) + sep + id
}

// AuditByTargetGSI2 lists the audit records about one target ("payment:pay_…"), oldest first
// (GET /admin/audit?target=; records written before issue 18 have no GSI2 keys).
func AuditByTargetGSI2(target string, at time.Time, id string) (string, string) {
	return "AUDITTARGET#" + target, at.UTC().Format(time.RFC3339Nano) + sep + id
}

// AuditDayPK is the partition of one day's audit records ("2006-01-02").
func AuditDayPK(day string) string { return "AUDIT#" + day }

// AuditHeadKey is the head of one audit hash chain (a day's shard): the last record's seq and hash,
// updated in the same transaction as each record the chain gets (docs/decisions/0085).
func AuditHeadKey(day string, shard int) Key {
	return Key{"AUDITHEAD#" + day, fmt.Sprintf("SHARD#%d", shard)}
}

// Metrics facts, kept as counters so /admin/metrics reads a handful of items instead of scanning.
//
// MetricsCurrentKey holds live gauges (MRR cents, paying customers, subscriptions per tier).
func MetricsCurrentKey() Key { return Key{"METRICS", "CURRENT"} }

// MetricsDayKey holds one day's counters (payments succeeded/failed, cancellations, new subs).
func MetricsDayKey(day time.Time) Key {
	return Key{"METRICS", "DAY#" + day.UTC().Format("2006-01-02")}
}

// MetricsDayPrefix lists daily counters in a range (SK between DAY#from and DAY#to).
const MetricsDayPrefix = "DAY#"

// SnapshotKey is the billing-cycle job's snapshot for a day (written once per day).
func SnapshotKey(day time.Time) Key {
	return Key{"SNAPSHOT", day.UTC().Format("2006-01-02")}
}

// JobRunKey records that a scheduled job ran for a period (idempotent jobs).
func JobRunKey(job, period string) Key { return Key{"JOBRUN#" + job, period} }

// JobCheckpointKey is a resumable job's checkpoint of one mode: a dry run keeps its own, so counting
// never moves a live run's position (migrate, backfill-journal).
func JobCheckpointKey(job string, dryRun bool) Key {
	if dryRun {
		return JobRunKey(job, "dry-run")
	}
	return JobRunKey(job, "live")
}

// ----- rewards (issue 7): tokens, leaderboards, friends, classes, redemptions -----
// docs/data-model.md, section "Rewards", lists what each item holds and every access pattern.

// TokenAccountKey is a user's token account (balances, scores, leaderboard profile).
func TokenAccountKey(userID string) Key { return Key{"USER#" + userID, "TOKENS"} }

// TokenEntryKey is one ledger entry; seq numbers a user's entries, so a reverse Query lists them
// newest first.
func TokenEntryKey(userID string, seq int64) Key {
	return Key{"USER#" + userID, fmt.Sprintf("%s%012d", TokenEntryPrefix, seq)}
}

// TokenEntryPrefix is the SK prefix of a user's ledger entries.
const TokenEntryPrefix = "TOKTX#"

// TokenEarnKey guards one earning per (user, rule, source id); for a pending earning it also holds
// the earning's state until it is released or cancelled.
func TokenEarnKey(userID, rule, sourceID string) Key {
	return Key{"USER#" + userID, "TOKEARN#" + rule + sep + sourceID}
}

// TokenPendingGSI2 lists pending earnings by the time they become available (release job).
func TokenPendingGSI2(releaseAt time.Time, userID, rule, sourceID string) (string, string) {
	return TokenPendingPartition, SortTime(releaseAt) + sep + userID + sep + rule + sep + sourceID
}

// TokenPendingPartition is the GSI2PK of pending earnings.
const TokenPendingPartition = "TOKPENDING"

// TokenCapKey counts what a user earned by a capped rule on one UTC day.
func TokenCapKey(userID, rule, day string) Key {
	return Key{"USER#" + userID, "TOKCAP#" + rule + sep + day}
}

// LeaderboardScoreKey is a user's score on one board instance ("week#2026-W05" or "all").
func LeaderboardScoreKey(userID, board string) Key {
	return Key{"USER#" + userID, "LBSCORE#" + board}
}

// LeaderboardShardGSI2 places a score item in its board's shard, sorted by score (GSI2SK is
// leaderboard.SortKey). Only players on the board (opted in, score > 0) carry it.
func LeaderboardShardGSI2(scope, board string, shard int, sortKey string) (string, string) {
	return LeaderboardShardPK(scope, board, shard), sortKey
}

// LeaderboardShardPK is the GSI2PK of one shard of a board ("LB#global#week#2026-W05#3").
func LeaderboardShardPK(scope, board string, shard int) string {
	return fmt.Sprintf("LB#%s#%s#%d", scope, board, shard)
}

// LeaderboardHistogramKey is one shard's score histogram of a board instance (bucket counters).
func LeaderboardHistogramKey(scope, board string, shard int) Key {
	return Key{"LBHIST#" + scope + sep + board, fmt.Sprintf("SHARD#%d", shard)}
}

// FollowKey: userID follows followedID (friends board). FollowPrefix lists whom a user follows.
func FollowKey(userID, followedID string) Key {
	return Key{"USER#" + userID, FollowPrefix + followedID}
}

// FollowPrefix is the SK prefix of the users someone follows.
const FollowPrefix = "FOLLOW#"

// FollowCountKey counts whom a user follows (at most 500, a condition on it).
func FollowCountKey(userID string) Key { return Key{"USER#" + userID, "FOLLOWCOUNT"} }

// ClassKey is a class (name, owner, join code, member count).
func ClassKey(classID string) Key { return Key{"CLASS#" + classID, "META"} }

// ClassMemberKey is a learner's membership of a class; ClassMemberPrefix lists the members.
func ClassMemberKey(classID, userID string) Key {
	return Key{"CLASS#" + classID, ClassMemberPrefix + userID}
}

// ClassMemberPrefix is the SK prefix of a class's members.
const ClassMemberPrefix = "MEMBER#"

// ClassCodeKey maps a join code to its class (one code, one class).
func ClassCodeKey(code string) Key { return Key{"CLASSCODE#" + code, "CLASS"} }

// RedemptionKey is one of a user's redemptions; RedemptionPrefix lists them.
func RedemptionKey(userID, redemptionID string) Key {
	return Key{"USER#" + userID, RedemptionPrefix + redemptionID}
}

// RedemptionPrefix is the SK prefix of a user's redemptions.
const RedemptionPrefix = "REDEEM#"

// RedemptionByIDGSI1 finds a redemption by its id alone (admin routes).
func RedemptionByIDGSI1(redemptionID string) (string, string) {
	return "REDEMPTION#" + redemptionID, "REDEMPTION"
}

// RedemptionStatusGSI2 lists redemptions by status, oldest change first (the admin queue).
func RedemptionStatusGSI2(status string, updatedAt time.Time, redemptionID string) (string, string) {
	return RedemptionStatusPrefix + status, SortTime(updatedAt) + sep + redemptionID
}

// RedemptionStatusPrefix starts the GSI2PK of redemptions by status.
const RedemptionStatusPrefix = "REDEEMSTATUS#"

// TokenMetricsDayKey holds one shard of one day's token counters (issued, redeemed, …). Counters
// are spread over shards (by user) so that concurrent transactions rarely touch the same item;
// a day of every shard is one Query of the TOKMETRICS#DAY partition.
func TokenMetricsDayKey(day string, shard int) Key {
	return Key{TokenMetricsDayPartition, fmt.Sprintf("%s#%02d", day, shard)}
}

// TokenMetricsDayPartition is the PK of the daily token counters.
const TokenMetricsDayPartition = "TOKMETRICS#DAY"

// TokenMetricsCurrentKey holds one shard of the token gauges (outstanding, held, pending).
func TokenMetricsCurrentKey(shard int) Key {
	return Key{TokenMetricsCurrentPartition, fmt.Sprintf("SHARD#%02d", shard)}
}

// TokenMetricsCurrentPartition is the PK of the token gauges.
const TokenMetricsCurrentPartition = "TOKMETRICS#CURRENT"

// ----- end of rewards -----

// ----- Marketplace (shared/marketplace; docs/data-model.md "Marketplace") -----

// CourseKey is a course's own item; its lessons share the partition (COURSE#<id> / LESSON#<id>).
func CourseKey(courseID string) Key { return Key{"COURSE#" + courseID, "COURSE"} }

// LessonKey is one lesson of a course (lesson ids are time ordered: a Query lists them in order).
func LessonKey(courseID, lessonID string) Key {
	return Key{"COURSE#" + courseID, LessonPrefix + lessonID}
}

// LessonPrefix is the SK prefix of a course's lessons.
const LessonPrefix = "LESSON#"

// InstructorCoursesGSI1 lists an instructor's courses, newest first.
func InstructorCoursesGSI1(instructorID string, created time.Time, courseID string) (string, string) {
	return "INSTRCOURSES#" + instructorID, SortTime(created) + sep + courseID
}

// CourseReviewKey is a learner's one review of a course.
func CourseReviewKey(courseID, userID string) Key {
	return Key{"COURSE#" + courseID, "REVIEW#" + userID}
}

// CourseReviewsGSI1 lists a course's reviews, newest first.
func CourseReviewsGSI1(courseID string, at time.Time, userID string) (string, string) {
	return "REVIEWS#" + courseID, SortTime(at) + sep + userID
}

// CatalogShards is the number of catalog partitions the listings are spread over.
const CatalogShards = 8

// ListingKey is a course's catalog listing (searchable fields, rating aggregate and enrolment
// count), in one of CatalogShards partitions so the catalog builder reads a few partitions and no
// single partition takes every review and purchase.
func ListingKey(courseID string) Key {
	return Key{CatalogShardPK(catalogShard(courseID)), courseID}
}

// CatalogShardPK is the partition key of catalog shard n.
func CatalogShardPK(n int) string { return fmt.Sprintf("CATALOG#%d", n) }

func catalogShard(courseID string) int {
	h := uint32(2166136261) // FNV-1a
	for i := 0; i < len(courseID); i++ {
		h ^= uint32(courseID[i])
		h *= 16777619
	}
	return int(h % CatalogShards)
}

// CatalogStampKey names the current catalog snapshot (its S3 key, hash and version): the one item
// a search reads.
func CatalogStampKey() Key { return Key{"CATALOG", "STAMP"} }

// EnrollmentKey is a learner's enrolment in a course.
func EnrollmentKey(userID, courseID string) Key { return Key{"USER#" + userID, "ENROL#" + courseID} }

// MyCoursesGSI1 lists a learner's active enrolments, newest first.
func MyCoursesGSI1(userID string, at time.Time, courseID string) (string, string) {
	return "MYCOURSES#" + userID, SortTime(at) + sep + courseID
}

// InstructorKey is an instructor's profile (display name, e-mail, Connect account).
func InstructorKey(instructorID string) Key { return Key{"INSTR#" + instructorID, "PROFILE"} }

// InstructorBalanceKey holds an instructor's buckets (pending, available, held, paid).
func InstructorBalanceKey(instructorID string) Key { return Key{"INSTR#" + instructorID, "BALANCE"} }

// PayableGSI2 indexes balances that may have money to pay (set when earnings are released), so the
// payout run finds instructors without a Scan.
func PayableGSI2(instructorID string) (string, string) { return PayablePK, instructorID }

// PayablePK is the GSI2 partition of payable balances.
const PayablePK = "PAYABLE"

// SaleKey is one sale of an instructor's course (sale ids are time ordered: newest first in reverse).
func SaleKey(instructorID, saleID string) Key {
	return Key{"INSTR#" + instructorID, SalePrefix + saleID}
}

// SalePrefix is the SK prefix of an instructor's sales.
const SalePrefix = "SALE#"

// SaleSourceKey guards "one sale per Checkout Session" and points at the sale.
func SaleSourceKey(sessionID string) Key { return Key{"SALESRC#" + sessionID, "SALE"} }

// SalePaymentIntentKey points a PaymentIntent at its sale (refunds and disputes name it).
func SalePaymentIntentKey(paymentIntentID string) Key {
	return Key{"SALEPI#" + paymentIntentID, "SALE"}
}

// PendingSaleGSI2 lists sales not yet released, by release time: the release job's one Query.
func PendingSaleGSI2(releaseAt time.Time, saleID string) (string, string) {
	return PendingSalesPK, SortTime(releaseAt) + sep + saleID
}

// PendingSalesPK is the GSI2 partition of unreleased sales.
const PendingSalesPK = "SALEPENDING"

// LedgerKey is one ledger entry of an instructor, in time order.
func LedgerKey(instructorID string, at time.Time, entryID string) Key {
	return Key{"INSTR#" + instructorID, LedgerPrefix + at.UTC().Format(time.RFC3339Nano) + sep + entryID}
}

// LedgerPrefix is the SK prefix of an instructor's ledger entries.
const LedgerPrefix = "LEDGER#"

// PayoutKey is an instructor's payout of a period ("2026-12"): at most one per period.
func PayoutKey(instructorID, period string) Key {
	return Key{"INSTR#" + instructorID, PayoutPrefix + period}
}

// PayoutPrefix is the SK prefix of an instructor's payouts.
const PayoutPrefix = "PAYOUT#"

// PayoutsGSI2 lists a period's payouts by status (admin).
func PayoutsGSI2(period, status, instructorID string) (string, string) {
	return "PAYOUTS#" + period, status + sep + instructorID
}

// MarketplaceMetricsCurrentKey holds the marketplace gauges (published courses, instructors'
// pending/available/held/paid totals); MarketplaceMetricsDayKey a day's counters. They sit beside
// billing's METRICS items under their own sort keys, so a purchase transaction that also carries
// payments' day counters never touches one item twice.
func MarketplaceMetricsCurrentKey() Key { return Key{"METRICS", "MKT#CURRENT"} }

// MarketplaceMetricsDayKey is the marketplace counters of one day.
func MarketplaceMetricsDayKey(day time.Time) Key {
	return Key{"METRICS", MarketplaceMetricsDayPrefix + day.UTC().Format("2006-01-02")}
}

// MarketplaceMetricsDayPrefix starts the SK of marketplace day counters.
const MarketplaceMetricsDayPrefix = "MKT#DAY#"

// ParkedEventKey remembers a Stripe event about a charge whose sale is not booked yet (its
// checkout.session.completed has not been applied): ref is the PaymentIntent id (else the charge
// id). Booking the sale reads Stripe's refunds and disputes of the charge and clears these.
func ParkedEventKey(ref, eventID string) Key { return Key{ParkedEventsPrefix + ref, "EVT#" + eventID} }

// ParkedEventsPrefix starts the partition of a charge's parked events.
const ParkedEventsPrefix = "MKTPARK#"

// OpenCheckoutKey is a learner's open Checkout Session for a course: at most one, reused while open.
func OpenCheckoutKey(userID, courseID string) Key {
	return Key{"USER#" + userID, "COURSECHECKOUT#" + courseID}
}

// ----- end of marketplace -----

// String renders a key for logs.
func (k Key) String() string { return fmt.Sprintf("%s|%s", k.PK, k.SK) }

// ---- licensing (issue 8): licenses, seats, invites, usage, signing keys -------------------------

// LicenseKey is the license item; the license's seats, admins, usage and branding share its
// partition ("LIC#<id>"), so a license's data is one Query away and never mixes with another's.
func LicenseKey(licenseID string) Key { return Key{"LIC#" + licenseID, "LICENSE"} }

// LicensesGSI1 lists every license, newest first (GET /admin/licenses, the daily and monthly jobs).
// Enterprise licenses are few (hundreds), so one partition suffices.
func LicensesGSI1(createdAt time.Time, licenseID string) (string, string) {
	return LicensesPK, SortTime(createdAt) + sep + licenseID
}

// LicensesPK is the GSI1 partition of the license list.
const LicensesPK = "LICENSES"

// LicenseBrandingKey holds a license's white-label branding.
func LicenseBrandingKey(licenseID string) Key { return Key{"LIC#" + licenseID, "BRANDING"} }

// LicenseSeatKey is one seat of a license, held by userID.
func LicenseSeatKey(licenseID, userID string) Key {
	return Key{"LIC#" + licenseID, LicenseSeatPrefix + userID}
}

// LicenseSeatPrefix is the SK prefix listing a license's seats.
const LicenseSeatPrefix = "SEAT#"

// LicenseAdminKey marks userID as an org admin of the license (written at activation).
func LicenseAdminKey(licenseID, userID string) Key { return Key{"LIC#" + licenseID, "ADMIN#" + userID} }

// LicenseUsageKey holds a license's usage counters for a month ("2026-11").
func LicenseUsageKey(licenseID, month string) Key { return Key{"LIC#" + licenseID, "USAGE#" + month} }

// LicenseActiveKey marks a seat holder as active in a month (counted once: monthly active learners).
func LicenseActiveKey(licenseID, month, userID string) Key {
	return Key{"LIC#" + licenseID, "MAL#" + month + sep + userID}
}

// LicenseEnrolmentKey marks one course enrolment of a seat holder as counted.
func LicenseEnrolmentKey(licenseID, userID, courseID string) Key {
	return Key{"LIC#" + licenseID, "ENROL#" + userID + sep + courseID}
}

// LicenseTrueUpKey is the true-up line of a closed month.
func LicenseTrueUpKey(licenseID, month string) Key { return Key{"LIC#" + licenseID, "TRUEUP#" + month} }

// SeatHolderKey is a user's one seat membership (a user holds at most one seat anywhere): the one
// item the entitlement check reads first.
func SeatHolderKey(userID string) Key { return Key{"USER#" + userID, "LICSEAT"} }

// LicenseInviteKey is an invite, keyed by the SHA-256 of its code (the table never holds a usable code).
func LicenseInviteKey(codeHash string) Key { return Key{"LICINVITE#" + codeHash, "INVITE"} }

// UserByEmailKey maps a normalised e-mail address to the user who last signed in with it (seat
// assignment by e-mail).
func UserByEmailKey(email string) Key { return Key{"EMAIL#" + email, "USER"} }

// SigningKeyKey is one public license-signing key of the JWK set (one partition: a handful of keys).
func SigningKeyKey(kid string) Key { return Key{SigningKeysPK, "KID#" + kid} }

// SigningKeysPK is the partition of the license-signing public keys.
const SigningKeysPK = "LICKEYS"

// MetricsMonthKey holds a month's counters (enterprise true-up totals).
func MetricsMonthKey(month string) Key { return Key{"METRICS", "MONTH#" + month} }

// ---- support (issue 8): tickets, messages, SLA schedule and statistics --------------------------

// TicketKey is a support ticket; its messages and SLA events share its partition.
func TicketKey(ticketID string) Key { return Key{"TICKET#" + ticketID, "TICKET"} }

// TicketMessageKey is one message of a ticket, in time order.
func TicketMessageKey(ticketID string, at time.Time, messageID string) Key {
	return Key{"TICKET#" + ticketID, TicketMessagePrefix + at.UTC().Format(time.RFC3339Nano) + sep + messageID}
}

// TicketMessagePrefix is the SK prefix listing a ticket's messages.
const TicketMessagePrefix = "MSG#"

// TicketSLAEventKey records that an SLA event (warning or breach of a target) happened, once.
func TicketSLAEventKey(ticketID, target, kind string) Key {
	return Key{"TICKET#" + ticketID, "SLA#" + target + sep + kind}
}

// RequesterTicketsGSI1 lists a requester's tickets, newest first.
func RequesterTicketsGSI1(userID string, createdAt time.Time, ticketID string) (string, string) {
	return "REQTICKETS#" + userID, SortTime(createdAt) + sep + ticketID
}

// TicketQueueGSI2 lists tickets by status for the agents' queue, oldest first.
func TicketQueueGSI2(status string, createdAt time.Time, ticketID string) (string, string) {
	return TicketQueuePrefix + status, SortTime(createdAt) + sep + ticketID
}

// TicketQueuePrefix starts the GSI2PK of the agents' queue.
const TicketQueuePrefix = "TQUEUE#"

// SLADueKey is a ticket's next SLA event on the breach job's schedule (one partition, sorted by
// due time, read with a consistent Query so the job never misses a due ticket).
func SLADueKey(due time.Time, ticketID string) Key {
	return Key{SLADuePK, SortTime(due) + sep + ticketID}
}

// SLADuePK is the partition of the SLA schedule.
const SLADuePK = "SLADUE"

// SupportAgentKey is a support agent's profile (written when an agent uses the support routes), so
// tickets can be assigned to them and warnings reach their address.
func SupportAgentKey(userID string) Key { return Key{"USER#" + userID, "SUPPORTAGENT"} }

// SLAStatsKey holds one day's SLA outcomes (met/breached per tier, priority and target).
func SLAStatsKey(day time.Time) Key { return Key{SLAStatsPK, "DAY#" + day.UTC().Format("2006-01-02")} }

// SLAStatsPK is the partition of the SLA statistics.
const SLAStatsPK = "SLASTATS"

// RateLimitKey is one fixed window of a per-user rate limit (decision 0077): the requests user made
// to function in the window of length window that starts at start (one item per window, expired
// by TTL soon after it closes).
func RateLimitKey(function, userID string, window time.Duration, start time.Time) Key {
	return Key{"RATE#" + function + sep + userID,
		"W" + strconv.FormatInt(int64(window/time.Second), 10) + sep + strconv.FormatInt(start.Unix(), 10)}
}

// ----- Journal (shared/books/journal; docs/data-model.md "Journal") ------------------------------
// Three item families: the entry (written at most once per entry id), one posting per line on its
// account's month partition, and daily balance items sharded by entry id. Times inside these sort
// keys are JournalTime: fixed-width nanoseconds, because SortTime's second precision would let two
// postings of one second sort by entry id instead of by time.

// JournalEntryKey is one journal entry with its lines; attribute_not_exists on it posts an entry
// at most once.
func JournalEntryKey(entryID string) Key { return Key{"JRNL#" + entryID, "ENTRY"} }

// JournalDayGSI1 places an entry on GSI1 in its effective day's partition, in time order (entry id
// breaks ties): the statements' and exports' read of a date range.
func JournalDayGSI1(at time.Time, entryID string) (string, string) {
	return JournalDayPK(at), JournalTime(at) + sep + entryID
}

// JournalDayPK is the GSI1 partition of the entries effective on the UTC day of day.
func JournalDayPK(day time.Time) string { return "JRNLDAY#" + JournalDay(day) }

// JournalPostingKey is line number line of an entry on its account's partition of the month of at:
// an account's postings in time order, entry id then line number breaking ties.
func JournalPostingKey(account string, at time.Time, entryID string, line int) Key {
	return Key{JournalPostingPK(account, at), JournalTime(at) + sep + entryID + sep + fmt.Sprintf("%02d", line)}
}

// JournalPostingPK is the partition of account's postings in the UTC month of month.
func JournalPostingPK(account string, month time.Time) string {
	return "JPOST#" + account + sep + month.UTC().Format("2006-01")
}

// JournalShards is the number of partitions the daily balance items are spread over. Every money
// event of every area posts to a few accounts (stripe_in_flight above all); one balance item per
// account and day would be an item that concurrent transactions of all areas touch at once
// (TransactionConflict). An entry's shard comes from its id, so 16 shards make two concurrent
// entries meet on an item 1/16 as often, while a trial balance stays 16 Queries.
const JournalShards = 16

// JournalBalanceKey is one shard's totals of account in currency on the UTC day of day.
func JournalBalanceKey(shard int, day time.Time, currency, account string) Key {
	return Key{JournalBalancePK(shard), JournalDay(day) + sep + currency + sep + account}
}

// JournalBalancePK is the partition of shard n's daily balance items (sort key day#currency#account).
func JournalBalancePK(n int) string { return fmt.Sprintf("JBAL#%02d", n) }

// JournalShard is the balance shard of an entry (FNV-1a of its id).
func JournalShard(entryID string) int {
	h := uint32(2166136261)
	for i := 0; i < len(entryID); i++ {
		h ^= uint32(entryID[i])
		h *= 16777619
	}
	return int(h % JournalShards)
}

// JournalTime renders t as fixed-width UTC nanoseconds ("2006-01-02T15:04:05.000000000Z"), so string
// order is time order to the nanosecond (RFC 3339 nano drops trailing zeros and is not fixed width).
func JournalTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000000000Z") }

// JournalDay renders the UTC day of t ("2006-01-02").
func JournalDay(t time.Time) string { return t.UTC().Format("2006-01-02") }

// ----- end of Journal -----

// ----- privacy (issue 18): personal-data exports -----
// docs/data-model.md, section "Privacy", lists the items and access patterns; docs/privacy.md what
// an export holds. The prefixes below are those of the items listed above, named for the areas'
// exporters, which list a user's items by them (each area its own).

// ExportKey is one of a user's personal-data exports (status, checkpoint, link's expiry).
func ExportKey(userID, exportID string) Key { return Key{"USER#" + userID, "EXPORT#" + exportID} }

// RunningExportKey points at the user's export being built (at most one at a time); it is deleted
// in the transaction that finishes that export.
func RunningExportKey(userID string) Key { return Key{"USER#" + userID, "EXPORTRUNNING"} }

// ErasureKey is a user's erasure request: one per user, so a second request (theirs or an
// admin's) answers with the first, running or done.
func ErasureKey(userID string) Key { return Key{"USER#" + userID, "ERASURE"} }

// ExportPrefix starts the sort keys of a user's exports (the erasure deletes them).
const ExportPrefix = "EXPORT#"

// PrivacyRequestsGSI1 is the admins' list of every export and erasure request, newest first. One
// partition: requests come a few a day, far below a partition's write rate.
func PrivacyRequestsGSI1(at time.Time, id string) (string, string) {
	return "PRIVACYREQUESTS", SortTime(at) + sep + id
}

// UserPK is the partition holding a user's own items (profile, subscription, payments, tokens…).
func UserPK(userID string) string { return "USER#" + userID }

// InstructorPK is an instructor's partition (profile, balance, sales, ledger, payouts).
func InstructorPK(instructorID string) string { return "INSTR#" + instructorID }

// TicketPK is a support ticket's partition (the ticket and its messages).
func TicketPK(ticketID string) string { return "TICKET#" + ticketID }

// SK prefixes of a user's items, for the exporters.
const (
	OtherSubscriptionPrefix = "SUBOTHER#"
	RefundsPrefix           = "REFUND#" // every refund of the user (RefundPrefix: one payment's)
	DisputePrefix           = "DISPUTE#"
	TokenEarningPrefix      = "TOKEARN#"
	TokenCapPrefix          = "TOKCAP#"
	LeaderboardScorePrefix  = "LBSCORE#"
	EnrollmentPrefix        = "ENROL#"
	OpenCheckoutPrefix      = "COURSECHECKOUT#"
)

// ----- end of privacy -----

// ----- migrations (issue 19): the table's schema version -----
// docs/operations.md "Migrations". The runner's checkpoints are JobRunKey("migrate", "live" | "dry-run").

// SchemaVersionKey records the last data migration applied to the table (shared/migrate): its
// number, name and when; written in the transaction that finishes that migration's walk.
func SchemaVersionKey() Key { return Key{"SCHEMA", "VERSION"} }
