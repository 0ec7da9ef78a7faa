package marketplace

import (
	"fmt"
	"sort"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/liberation/monetization/shared/marketplace/catalog"
	"github.com/liberation/monetization/shared/marketplace/ledger"
	"github.com/liberation/monetization/shared/privacy"
	"github.com/liberation/monetization/shared/store"
)

// Invariants are the marketplace's sums over a table's items: every instructor's balance, every
// sale's split (Σ instructor shares + platform, amount), every listing's rating counters (count,
// sum, r1..r5). The erasure tests compare them before and after, and the restore drill
// (infra/local/restoredrill) checks them on a restored copy.
type Invariants struct {
	Balances map[string]ledger.Buckets
	Splits   map[string][2]int64
	Ratings  map[string][7]int64
	// Problems names every sum that does not hold: a balance ≠ Σ its ledger entries, a split whose
	// shares do not add up to the amount, a listing's counters ≠ its published reviews.
	Problems []string
}

// CheckInvariants measures the marketplace's sums over items (a whole table's, from a Scan or an
// export) and lists what does not hold, sorted. An item that does not decode is an error.
func CheckInvariants(items []map[string]types.AttributeValue) (Invariants, error) {
	inv := Invariants{Balances: map[string]ledger.Buckets{}, Splits: map[string][2]int64{}, Ratings: map[string][7]int64{}}
	entries := map[string]ledger.Buckets{}
	reviews := map[string][7]int64{}
	for _, it := range items {
		row := privacy.Row(it)
		switch privacy.Str(row, "type") {
		case "balance":
			var b Balance
			if err := store.DecodeItem(it, &b); err != nil {
				return inv, err
			}
			inv.Balances[b.InstructorID] = b.Buckets
		case "ledger":
			var e LedgerEntry
			if err := store.DecodeItem(it, &e); err != nil {
				return inv, err
			}
			entries[e.InstructorID] = entries[e.InstructorID].Plus(e.Buckets)
		case "sale":
			var sl Sale
			if err := store.DecodeItem(it, &sl); err != nil {
				return inv, err
			}
			inv.Splits[sl.ID] = [2]int64{sl.InstructorCents() + sl.Platform, sl.Amount}
			if sl.InstructorCents()+sl.Platform != sl.Amount {
				inv.Problems = append(inv.Problems, fmt.Sprintf("sale %s: shares %d + platform %d != amount %d",
					sl.ID, sl.InstructorCents(), sl.Platform, sl.Amount))
			}
		case "review":
			var rv Review
			if err := store.DecodeItem(it, &rv); err != nil {
				return inv, err
			}
			if rv.Counts() && rv.Rating >= 1 && rv.Rating <= 5 {
				r := reviews[rv.CourseID]
				r[0]++
				r[1] += int64(rv.Rating)
				r[1+rv.Rating]++
				reviews[rv.CourseID] = r
			}
		case "listing":
			r := [7]int64{num(row, catalog.CtrRatingCount), num(row, catalog.CtrRatingSum)}
			for i := 1; i <= 5; i++ {
				r[1+i] = num(row, catalog.CtrStars(i))
			}
			inv.Ratings[privacy.Str(row, "SK")] = r
		}
	}
	for id, bal := range inv.Balances {
		if entries[id] != bal {
			inv.Problems = append(inv.Problems, fmt.Sprintf("instructor %s: balance %+v, ledger entries sum to %+v", id, bal, entries[id]))
		}
	}
	for id, sum := range entries {
		if _, ok := inv.Balances[id]; !ok && sum != (ledger.Buckets{}) {
			inv.Problems = append(inv.Problems, fmt.Sprintf("instructor %s: ledger entries sum to %+v and no balance", id, sum))
		}
	}
	for c, r := range inv.Ratings {
		if reviews[c] != r {
			inv.Problems = append(inv.Problems, fmt.Sprintf("course %s: listing counts %v, published reviews %v", c, r, reviews[c]))
		}
	}
	sort.Strings(inv.Problems)
	return inv, nil
}
