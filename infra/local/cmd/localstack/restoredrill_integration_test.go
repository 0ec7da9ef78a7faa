//go:build integration

package main

import (
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// `make dev`, `make seed`, `make restore-drill` as a developer runs them (a small seed: 6 courses,
// 2 learners): the drill restores the seeded table into a new one and every check passes on
// things that exist (instructors' balances, sales, rated courses, token accounts, the journal),
// with every entity type's count equal. A second drill into the same target is refused.
func TestRestoreDrillOnSeedData(t *testing.T) {
	for _, k := range sdkEnv {
		t.Setenv(k, os.Getenv(k))
	}
	d := startDev(t)
	clientEnv := env(EnvStateDir, d.state)
	if code, stdout, stderr := runCLI(t, clientEnv, "seed", "-courses", "6", "-learners", "2"); code != 0 {
		t.Fatalf("seed: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	code, stdout, stderr := runCLI(t, clientEnv, "restore-drill", "-target", "drill-restored")
	t.Logf("restore-drill:\n%s", stdout)
	if code != 0 || !strings.Contains(stdout, "RESTORE OK") {
		t.Fatalf("restore-drill: exit %d, stderr %q; want 0 and RESTORE OK", code, stderr)
	}
	// Each check ran on something the seed made (a check of nothing would pass vacuously).
	for _, name := range []string{"marketplace: balance", "marketplace: sale splits", "marketplace: review aggregates",
		"rewards: token balance", "journal: trial balance"} {
		m := regexp.MustCompile(regexp.QuoteMeta(name) + `.*?\s(\d+) checked  ok`).FindStringSubmatch(stdout)
		if m == nil {
			t.Errorf("no passing line for %q", name)
			continue
		}
		if n, _ := strconv.Atoi(m[1]); n == 0 {
			t.Errorf("%q checked nothing on seed data", name)
		}
	}
	for _, typ := range []string{"course", "sale", "ledger", "review", "listing"} {
		if !regexp.MustCompile(`(?m)^  ` + typ + `\s+([1-9]\d*)\s+([1-9]\d*)$`).MatchString(stdout) {
			t.Errorf("no equal, non-zero count line for %q", typ)
		}
	}
	code, _, stderr = runCLI(t, clientEnv, "restore-drill", "-target", "drill-restored")
	if code != 1 || !strings.Contains(stderr, "exists") {
		t.Errorf("second drill into the same table: exit %d, stderr %q; want 1 and a refusal", code, stderr)
	}
}
