package rewards

import (
	"context"
	"time"

	"github.com/liberation/monetization/shared/audit"
	"github.com/liberation/monetization/shared/books/journal"
	"github.com/liberation/monetization/shared/rewards/leaderboard"
	"github.com/liberation/monetization/shared/rewards/tokenmetrics"
	"github.com/liberation/monetization/shared/store"
)

// What the rewards area needs from storage, as interfaces it owns, split by responsibility
// (docs/decisions/0072). Production wires dynamoRepo (repo_dynamo.go, the only file of the package
// with DynamoDB input literals); unit tests wire memRepo (fakes_test.go), and the contract test
// (repo_contract_test.go) runs the same cases against both, so the fake cannot drift.

// Ledger posts token movements: the account over the version read, its entry, the boards' scores
// and histograms, the token metrics and the plan's writes, all or nothing.
type Ledger interface {
	// Account reads a user's account (strongly consistent); the zero account when none.
	Account(ctx context.Context, userID string) (Account, error)
	// Commit writes m atomically. A lost race is a failed condition (store.IsConditionFailed):
	// *WriteFailed when some of m.Writes failed theirs, nothing written either way.
	Commit(ctx context.Context, m Movement) error
}

// Movement is one commit of the ledger: the account from what was read to what it becomes, the
// entry explaining it (Seq 0: none, a profile change) and what the plan adds.
type Movement struct {
	From, To Account
	Entry    Entry
	At       time.Time
	Writes   []Write
}

// Write is one item a plan adds to a movement, or writes alone; exactly one field is set.
type Write struct {
	Guard      *GuardWrite
	Cap        *CapWrite
	Redemption *RedemptionWrite
	Audit      *audit.Entry
}

// GuardWrite writes an earning's guard over the state it was read in: created only if absent,
// else only at the version read (guards written before versions have none).
type GuardWrite struct {
	Item earnItem
	Read earnState
}

// CapWrite sets a user's earnings by a capped rule on a day to Earned, if still Read (absent when
// !Exists).
type CapWrite struct {
	UserID, Rule, Day string
	Exists            bool
	Read, Earned      int64
}

// RedemptionWrite writes a redemption over the version read (0: a new one, which must not exist),
// with the journal entries the change posts (redemptionEntries, built from the redemption read and
// the one written): the repository writes them in the same transaction. An entry already posted
// with the same content is the change's own posting and the change is written without it; other
// content under its id refuses the change (apperr.Conflict). A failed condition of the write
// itself posts nothing.
type RedemptionWrite struct {
	Redemption Redemption
	Read       int64
	Entries    []journal.Entry
}

// WriteFailed says which of a movement's writes failed their condition (indexes into Writes).
type WriteFailed struct{ Writes []int }

func (e *WriteFailed) Error() string { return "a write's condition failed" }

// Unwrap makes store.IsConditionFailed true.
func (e *WriteFailed) Unwrap() error { return store.ErrConditionFailed }

// EarnGuards is what earning, refunds and the release job read and write beside the ledger.
type EarnGuards interface {
	// Guard reads the guard of (user, rule, source); found false when none.
	Guard(ctx context.Context, userID, rule, sourceID string) (it earnItem, found bool, err error)
	// Cap reads what a user earned by a capped rule on a UTC day.
	Cap(ctx context.Context, userID, rule, day string) (earned int64, found bool, err error)
	// WriteGuard writes a guard alone (a refund that moves no token); failed condition: it moved.
	WriteGuard(ctx context.Context, w GuardWrite) error
	// DueEarnings lists pending earnings whose release time is at or before now, after the one
	// given (nil: from the start); more says whether another page may follow.
	DueEarnings(ctx context.Context, now time.Time, after *earnItem, limit int32) (due []earnItem, more bool, err error)
}

// Position is where a board read stopped, as the repository gave it (opaque; nil: the end).
type Position any

// Boards is what the leaderboards' reads need.
type Boards interface {
	// ShardPage reads up to limit rows of one shard of the global board, best first, after start.
	ShardPage(ctx context.Context, board string, shard int, limit int32, start Position) ([]leaderboard.Row, Position, error)
	// CountAbove counts up to limit players of one shard with a score of at least floor, after start.
	CountAbove(ctx context.Context, board string, shard int, floor int64, limit int32, start Position) (int, Position, error)
	// Histogram is a board instance's score histogram, summed over its shards.
	Histogram(ctx context.Context, board string) (leaderboard.Histogram, error)
	// Scores reads the score items of users on a board instance (absent when none).
	Scores(ctx context.Context, board string, userIDs []string) (map[string]scoreItem, error)
}

// Redemptions is what the redemption workflow reads and writes outside a ledger movement.
type Redemptions interface {
	Redemption(ctx context.Context, userID, id string) (Redemption, error) // NotFound
	// RedemptionOwner finds whose redemption id is (the id index).
	RedemptionOwner(ctx context.Context, id string) (string, error)
	// SaveRedemption writes w alone, with its audit record when au is set; failed condition: the
	// redemption moved.
	SaveRedemption(ctx context.Context, w RedemptionWrite, au *audit.Entry) error
	UserRedemptions(ctx context.Context, userID string, limit int32, cursor string) ([]Redemption, string, error)
	// RedemptionsByStatus lists a status's redemptions, oldest change first.
	RedemptionsByStatus(ctx context.Context, status Status, limit int32, cursor string) ([]Redemption, string, error)
}

// History reads a user's ledger entries, newest first.
type History interface {
	Entries(ctx context.Context, userID string, limit int32, cursor string) ([]Entry, string, error)
}

// Social is friends and classes.
type Social interface {
	// Follow records that me follows id (since now) unless already, within MaxFollowing; it returns
	// when the following began.
	Follow(ctx context.Context, me, id string, now time.Time) (time.Time, error)
	Unfollow(ctx context.Context, me, id string) error
	Following(ctx context.Context, userID string) ([]followItem, error)
	// CreateClass stores a new class and its join code; failed condition: the code is taken.
	CreateClass(ctx context.Context, c classItem) error
	Class(ctx context.Context, id string) (classItem, error)                 // NotFound
	Member(ctx context.Context, classID, userID string) (*memberItem, error) // nil: not a member
	Members(ctx context.Context, classID string) ([]memberItem, error)
	ClassOfCode(ctx context.Context, code string) (string, error) // NotFound
	// Join adds a member within MaxClassMembers; joined says whether they were added now (else
	// m is the membership already recorded).
	Join(ctx context.Context, m memberItem) (joined bool, cur memberItem, err error)
	// Leave removes a member; removed false when they were not one.
	Leave(ctx context.Context, classID, userID string) (removed bool, err error)
	DisplayNames(ctx context.Context, userIDs []string) (map[string]string, error)
}

// Metrics reads the token counters every ledger movement keeps (the day counters and the shards'
// gauges): tokenmetrics' port, the read GET /admin/metrics makes too (tokenmetrics.Read).
type Metrics = tokenmetrics.Source

// Repo is every port at once (the DynamoDB repository and the fake implement it).
type Repo interface {
	Ledger
	EarnGuards
	Boards
	Redemptions
	History
	Social
	Metrics
}
