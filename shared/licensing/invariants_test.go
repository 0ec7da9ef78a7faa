package licensing

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/liberation/monetization/shared/store"
)

func marshalAll(t *testing.T, vs ...any) []map[string]types.AttributeValue {
	t.Helper()
	var out []map[string]types.AttributeValue
	for _, v := range vs {
		it, err := store.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, it)
	}
	return out
}

// CheckSeats: a license whose counter equals its seats and memberships passes; one whose counter
// is ahead, and seats of a license that does not exist, are named.
func TestCheckSeats(t *testing.T) {
	items := marshalAll(t,
		License{Type: "license", ID: "a", Seats: 3, SeatsUsed: 1},
		Seat{Type: "license-seat", LicenseID: "a", UserID: "u1"},
		Membership{Type: "license-membership", LicenseID: "a", UserID: "u1"},
		License{Type: "license", ID: "b", Seats: 3, SeatsUsed: 2},
		Seat{Type: "license-seat", LicenseID: "b", UserID: "u2"},
		Membership{Type: "license-membership", LicenseID: "b", UserID: "u2"},
		Seat{Type: "license-seat", LicenseID: "gone", UserID: "u3"},
	)
	n, problems, err := CheckSeats(items)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"license b: seatsUsed 2, 1 seat items, 1 memberships", "license gone: 1 seat items and no license"}
	if n != 2 || strings.Join(problems, "|") != strings.Join(want, "|") {
		t.Errorf("CheckSeats = %d, %q; want 2, %q", n, problems, want)
	}
	if _, problems, _ := CheckSeats(items[:3]); len(problems) != 0 {
		t.Errorf("a consistent license: %q", problems)
	}
}
