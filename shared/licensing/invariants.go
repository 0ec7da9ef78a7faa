package licensing

import (
	"fmt"
	"sort"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/liberation/monetization/shared/privacy"
	"github.com/liberation/monetization/shared/store"
)

// CheckSeats checks, over items (a whole table's, from a Scan or an export), that every license's
// seatsUsed counter equals its seat items and its seat holders' memberships (TakeSeat and FreeSeat
// change the three in one transaction). It returns the licenses checked and one line per
// difference, sorted. The restore drill (infra/local/restoredrill) runs it on a restored copy.
func CheckSeats(items []map[string]types.AttributeValue) (licenses int, problems []string, err error) {
	used := map[string]int64{}
	seats := map[string]int64{}
	members := map[string]int64{}
	for _, it := range items {
		switch privacy.Str(privacy.Row(it), "type") {
		case "license":
			var l License
			if err := store.DecodeItem(it, &l); err != nil {
				return 0, nil, err
			}
			used[l.ID] = l.SeatsUsed
		case "license-seat":
			var s Seat
			if err := store.DecodeItem(it, &s); err != nil {
				return 0, nil, err
			}
			seats[s.LicenseID]++
		case "license-membership":
			var m Membership
			if err := store.DecodeItem(it, &m); err != nil {
				return 0, nil, err
			}
			members[m.LicenseID]++
		}
	}
	for id, n := range used {
		if seats[id] != n || members[id] != n {
			problems = append(problems, fmt.Sprintf("license %s: seatsUsed %d, %d seat items, %d memberships", id, n, seats[id], members[id]))
		}
	}
	for id, n := range seats {
		if _, ok := used[id]; !ok {
			problems = append(problems, fmt.Sprintf("license %s: %d seat items and no license", id, n))
		}
	}
	sort.Strings(problems)
	return len(used), problems, nil
}
