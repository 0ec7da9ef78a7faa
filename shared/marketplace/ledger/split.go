// Package ledger is the marketplace's money arithmetic, with no storage and no I/O: the revenue
// split of a sale (the one place the 70/30 rule lives), the life of a sale's shares (pending during
// the refund window, then available; reversed by refunds; held by disputes) as movements between an
// instructor's buckets, and the payout decision. Every function works in int64 cents and keeps the
// parts of a sale summing to its amount, so money is never lost or created.
//
// The repository layer (shared/marketplace) turns a Movement into DynamoDB writes: the sale item,
// one balance update and one ledger entry per payee, counters and an audit record, in one
// transaction.
package ledger

import (
	"fmt"
	"sort"
)

// Rates are integer basis points (1 % = 100 bp).
const (
	// InstructorBasisPoints is the instructors' part of a sale: 70 %.
	InstructorBasisPoints = 7000
	fullBasisPoints       = 10000
)

// Payee is someone paid a part of a sale (today: the course's instructor; a co-instructor split
// adds payees, never a column).
type Payee struct {
	ID          string `dynamodbav:"id" json:"id"`
	BasisPoints int64  `dynamodbav:"bp" json:"basisPoints"`
}

// Share is one payee's part of one sale and what has become of it.
type Share struct {
	PayeeID     string `dynamodbav:"payeeId"`
	BasisPoints int64  `dynamodbav:"bp"`
	Cents       int64  `dynamodbav:"cents"`    // floor(amount × bp / 10000), fixed at the sale
	Reversed    int64  `dynamodbav:"reversed"` // taken back by refunds and lost disputes
	Held        int64  `dynamodbav:"held"`     // frozen by open disputes
}

// Free is the part of the share that is neither reversed nor held: it sits in the payee's pending
// bucket before the sale is released and in available after.
func (s Share) Free() int64 { return s.Cents - s.Reversed - s.Held }

// InstructorRule is the split of a course sale: its instructor gets 70 %.
func InstructorRule(instructorID string) []Payee {
	return []Payee{{ID: instructorID, BasisPoints: InstructorBasisPoints}}
}

// Split divides amount between the payees and the platform: each payee gets
// floor(amount × bp / 10000) and the platform the rest, so the parts always sum to amount
// (999 → 699 / 300; 1999 → 1399 / 600; 2995 → 2096 / 899).
func Split(amount int64, payees []Payee) ([]Share, int64, error) {
	if amount < 0 {
		return nil, 0, fmt.Errorf("ledger: negative amount %d", amount)
	}
	if len(payees) == 0 {
		return nil, 0, fmt.Errorf("ledger: a split needs at least one payee")
	}
	var bp int64
	seen := map[string]bool{}
	for _, p := range payees {
		if p.ID == "" || seen[p.ID] || p.BasisPoints <= 0 {
			return nil, 0, fmt.Errorf("ledger: payee %q is empty, repeated or has no rate", p.ID)
		}
		seen[p.ID] = true
		bp += p.BasisPoints
	}
	if bp > fullBasisPoints {
		return nil, 0, fmt.Errorf("ledger: payees' rates add up to %d bp, more than 100 %%", bp)
	}
	shares := make([]Share, len(payees))
	var paid int64
	for i, p := range payees {
		c := mulDiv(amount, p.BasisPoints, fullBasisPoints)
		shares[i] = Share{PayeeID: p.ID, BasisPoints: p.BasisPoints, Cents: c}
		paid += c
	}
	sort.Slice(shares, func(i, j int) bool { return shares[i].PayeeID < shares[j].PayeeID })
	return shares, amount - paid, nil
}

// mulDiv is floor(a × b / c) for non-negative operands without overflow for any sale amount we
// accept (a ≤ 10^9 cents, b ≤ 10^4).
func mulDiv(a, b, c int64) int64 {
	if a <= 0 || b <= 0 {
		return 0
	}
	return a * b / c
}
