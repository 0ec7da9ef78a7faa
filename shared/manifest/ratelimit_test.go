package manifest

import (
	"slices"
	"testing"
)

// The routes that cost money or can be brute-forced carry a per-user limit (decision 0077); a limit
// sits only on a User HTTP route (it counts per caller) whose role may UpdateItem the table (the
// counter), with a minute limit no larger than the hour's.
func TestRateLimits(t *testing.T) {
	limited := map[string]bool{}
	for _, f := range Functions {
		if f.RateLimit == nil {
			continue
		}
		limited[f.Name] = true
		rl := f.RateLimit
		switch {
		case f.Trigger.Kind != HTTP || f.Auth != User:
			t.Errorf("%s: RateLimit on a function that is not a User HTTP route", f.Name)
		case !slices.Contains(f.Table, UpdateItem):
			t.Errorf("%s: RateLimit needs UpdateItem on the table (the window counter)", f.Name)
		case rl.PerMinute <= 0 && rl.PerHour <= 0:
			t.Errorf("%s: RateLimit with no limit", f.Name)
		case rl.PerMinute > 0 && rl.PerHour > 0 && rl.PerMinute > rl.PerHour:
			t.Errorf("%s: %d a minute is more than the hour's %d", f.Name, rl.PerMinute, rl.PerHour)
		}
	}
	for _, name := range []string{"create-checkout", "purchase-course", "join-class", "join-license", "create-redemption"} {
		if !limited[name] {
			t.Errorf("%s: costs money or can be brute-forced, and has no per-user RateLimit", name)
		}
	}
}
