//go:build integration

package e2e

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/liberation/monetization/infra/local/iamcheck"
	"github.com/liberation/monetization/shared/manifest"
)

// EnvGrantCheck turns on the grant-vs-use comparison after a whole-suite run ("1"). Off by
// default until the manifest is trimmed to the uses (docs/decisions/0076, "What remains").
const EnvGrantCheck = "LIBERATION_IAM_GRANT_CHECK"

// grantCheck records every function's allowed AWS calls of the run to <state>/iam-uses-e2e.jsonl
// and, after the run — when every test ran, parallel ones and cleanups included, hence in TestMain
// rather than in a test ordered last — compares them with the manifest's grants: a grant no call
// used and not on manifest.UnexercisedGrants fails the run. A call outside a grant cannot be
// recorded: the local IAM check denies it first, and the test making it fails.
type grantCheck struct {
	inner interface{ Run() int }
	state string
}

func (g grantCheck) Run() int {
	path := filepath.Join(g.state, "iam-uses-e2e.jsonl")
	_ = os.MkdirAll(g.state, 0o755)
	_ = os.Remove(path) // this run's uses only
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
		return 1
	}
	fmt.Fprintf(os.Stderr, "iam grants: every grant used (%d uses recorded in %s)\n", len(uses), path)
	return 0
}
