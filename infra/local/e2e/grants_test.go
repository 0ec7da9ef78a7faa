//go:build integration

package e2e

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/liberation/monetization/infra/local/iamcheck"
	"github.com/liberation/monetization/shared/manifest"
)

// EnvGrantCheck turns on the grant-vs-use comparison after a whole-suite run ("1"). `make test`
// sets it; a plain `go test` of the package leaves it off (docs/decisions/0076).
const EnvGrantCheck = "LIBERATION_IAM_GRANT_CHECK"

// grantCheck records every function's allowed AWS calls of the run to <state>/iam-uses-e2e-<pid>.jsonl
// (one file per run: two runs at once must not mix their uses)
// and, after the run — when every test ran, parallel ones and cleanups included, hence in TestMain
// rather than in a test ordered last — compares them with the manifest's grants: a grant no call
// used and not on manifest.UnexercisedGrants fails the run. A call outside a grant cannot be
// recorded: the local IAM check denies it first, and the test making it fails.
type grantCheck struct {
	inner interface{ Run() int }
	state string
}

func (g grantCheck) Run() int {
	path := filepath.Join(g.state, fmt.Sprintf("iam-uses-e2e-%d.jsonl", os.Getpid()))
	_ = os.MkdirAll(g.state, 0o755)
	keep := false // a failed comparison keeps the file to read
	defer func() {
		if !keep {
			_ = os.Remove(path)
		}
	}()
	os.Setenv(iamcheck.EnvUseLog, path)
	code := g.inner.Run()
	if code != 0 || os.Getenv(EnvGrantCheck) != "1" {
		return code
	}
	if f := flag.Lookup("test.run"); f != nil && f.Value.String() != "" {
		fmt.Fprintln(os.Stderr, "iam grants: not compared (a -run filter ran part of the suite)")
		return code
	}
	uses, err := iamcheck.ReadUses(path)
	if err != nil {
		keep = true
		fmt.Fprintln(os.Stderr, "iam grants:", err)
		return 1
	}
	unused, ungranted := iamcheck.Unused(manifest.Functions, uses, manifest.UnexercisedGrants)
	for _, k := range unused {
		fmt.Fprintln(os.Stderr, "iam grants: granted, never used by the suite (remove it, or allow-list it with its reason):", k)
	}
	for _, k := range ungranted {
		fmt.Fprintln(os.Stderr, "iam grants: used, not granted:", k)
	}
	if len(unused)+len(ungranted) > 0 {
		keep = true
		fmt.Fprintln(os.Stderr, "iam grants: this run's uses are in", path)
		return 1
	}
	fmt.Fprintf(os.Stderr, "iam grants: every grant used (%d uses recorded in %s)\n", len(uses), path)
	return 0
}

// usesCoverGrants asserts that the run's recorded uses of fn so far include an action starting with
// action (the grant the calling test exists to exercise: "ssm:" for a secret, "ses:SendEmail") and
// cover every grant fn has — the suite's grant-vs-use check, for one function, inside its test.
func usesCoverGrants(t *testing.T, fn, action string) {
	t.Helper()
	path := os.Getenv(iamcheck.EnvUseLog) // set by TestMain (grantCheck) for the whole run
	if path == "" {
		t.Fatalf("%s is not set: the use log is written by this package's TestMain", iamcheck.EnvUseLog)
	}
	all, err := iamcheck.ReadUses(path)
	if err != nil {
		t.Fatal(err)
	}
	var uses []iamcheck.Use
	for _, u := range all {
		if u.Function == fn {
			uses = append(uses, u)
		}
	}
	if !slices.ContainsFunc(uses, func(u iamcheck.Use) bool { return strings.HasPrefix(u.Action, action) }) {
		t.Fatalf("no %s by %s among its recorded uses %+v", action, fn, uses)
	}
	unused, ungranted := iamcheck.Unused([]manifest.Function{manifest.MustByName(fn)}, uses, manifest.UnexercisedGrants)
	if len(unused)+len(ungranted) > 0 {
		t.Fatalf("%s: granted, not used: %q; used, not granted: %q", fn, unused, ungranted)
	}
}
