package manifest

import (
	"regexp"
	"slices"
	"strings"
	"testing"
)

// Invariants every function must keep; adding a function that breaks one fails here first.
func TestManifestInvariants(t *testing.T) {
	kebab := regexp.MustCompile(`^[a-z][a-z0-9]*(-[a-z0-9]+)*$`)
	names, logical, routes := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for _, f := range Functions {
		if !kebab.MatchString(f.Name) || names[f.Name] {
			t.Errorf("%q: not kebab-case or duplicate", f.Name)
		}
		names[f.Name] = true
		if logical[f.LogicalID()] {
			t.Errorf("%s: duplicate logical id %s", f.Name, f.LogicalID())
		}
		logical[f.LogicalID()] = true
		if f.Summary == "" {
			t.Errorf("%s: no summary", f.Name)
		}
		for _, a := range f.Table {
			if strings.Contains(a, "*") {
				t.Errorf("%s: forbidden table action %s", f.Name, a)
			}
		}
		switch f.Trigger.Kind {
		case HTTP:
			if f.Auth != Public && f.Auth != User && f.Auth != Admin {
				t.Errorf("%s: HTTP route with auth %q", f.Name, f.Auth)
			}
			if routes[f.RouteKey()] {
				t.Errorf("%s: duplicate route %s", f.Name, f.RouteKey())
			}
			routes[f.RouteKey()] = true
			if strings.HasPrefix(f.Trigger.Path, "/admin/") != (f.Auth == Admin) {
				t.Errorf("%s: /admin/ routes and only they must be admin-only", f.Name)
			}
		case FunctionURL:
			if f.Auth != Signed {
				t.Errorf("%s: a function URL must authenticate by signature", f.Name)
			}
		case Queue:
			q, ok := QueueByName(f.Trigger.Queue)
			if !ok {
				t.Errorf("%s: unknown queue %s", f.Name, f.Trigger.Queue)
				continue
			}
			if q.VisibilitySeconds < 6*f.Timeout() {
				t.Errorf("%s: queue visibility %ds < 6 × timeout %ds", f.Name, q.VisibilitySeconds, f.Timeout())
			}
			if f.Trigger.BatchSize < 1 || f.Trigger.BatchSize > 10 {
				t.Errorf("%s: batch size %d", f.Name, f.Trigger.BatchSize)
			}
		case Schedule:
			if !regexp.MustCompile(`^(cron|rate)\(.+\)$`).MatchString(f.Trigger.Expression) {
				t.Errorf("%s: schedule expression %q", f.Name, f.Trigger.Expression)
			}
		default:
			t.Errorf("%s: unknown trigger %q", f.Name, f.Trigger.Kind)
		}
		if f.BucketPrefix != "" && (len(f.Bucket) == 0 || !strings.HasSuffix(f.BucketPrefix, "/") ||
			strings.ContainsAny(f.BucketPrefix, "*?") || strings.HasPrefix(f.BucketPrefix, "/")) {
			t.Errorf("%s: BucketPrefix %q needs Bucket actions, a trailing / and no wildcard", f.Name, f.BucketPrefix)
		}
		if len(f.Groups) > 0 && (f.Trigger.Kind != HTTP || f.Auth != User) {
			t.Errorf("%s: Groups apply to User HTTP routes only", f.Name)
		}
		for _, g := range f.Groups {
			if g == "" || g == "admin" {
				t.Errorf("%s: group %q (admin routes use Auth: Admin)", f.Name, g)
			}
		}
		for _, q := range f.Sends {
			if _, ok := QueueByName(q); !ok {
				t.Errorf("%s: sends to unknown queue %s", f.Name, q)
			}
		}
	}
	for _, q := range Queues {
		if q.MaxReceiveCount < 2 {
			t.Errorf("queue %s: maxReceiveCount must be > 1", q.Name)
		}
	}
}

func TestInGroups(t *testing.T) {
	open, agents := Function{}, Function{Groups: []string{"support"}}
	if !open.InGroups(nil) || !agents.InGroups([]string{"instructor", "support"}) || agents.InGroups([]string{"admin"}) || agents.InGroups(nil) {
		t.Fatal("InGroups")
	}
}

func TestPascal(t *testing.T) {
	for in, want := range map[string]string{"create-checkout": "CreateCheckout", "get-metrics": "GetMetrics", "x": "X"} {
		if got := Pascal(in); got != want {
			t.Errorf("Pascal(%q) = %q", in, got)
		}
	}
}

// TestOnlyTableWalkersScan: Scan is granted to the table walkers alone (decision 0083), each an
// internal scheduled job that lists it and says why; no route, webhook or consumer scans.
func TestOnlyTableWalkersScan(t *testing.T) {
	walkers := 0
	for _, f := range Functions {
		scans := slices.Contains(f.Table, Scan)
		why, walker := TableWalkers[f.Name]
		switch {
		case scans && !walker:
			t.Errorf("%s: lists %s but is not a table walker", f.Name, Scan)
		case walker && !scans:
			t.Errorf("%s: a table walker that does not list %s", f.Name, Scan)
		case walker && (f.Trigger.Kind != Schedule || f.Auth != Internal || why == ""):
			t.Errorf("%s: a table walker must be an internal scheduled job with a reason", f.Name)
		}
		if walker {
			walkers++
		}
	}
	if walkers != len(TableWalkers) {
		t.Errorf("%d table walkers declared, %d found among the functions", len(TableWalkers), walkers)
	}
}
