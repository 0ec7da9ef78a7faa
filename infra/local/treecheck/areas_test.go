package treecheck

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
)

const module = "github.com/liberation/monetization/"

// areas are the business areas under shared/ (docs/developer-guide.md, "Areas and frames").
var areas = []string{"billing", "payments", "marketplace", "rewards", "licensing", "support"}

// allowedAcrossAreas is every import of one area's package by another area, with its reason: the
// intended dependency direction (docs/developer-guide.md, "Who may import whom"). Anything else
// goes through a fact on the queue or a small port the importing area owns. Keys are
// "<importing area> -> <imported package>".
var allowedAcrossAreas = map[string]string{
	"billing -> shared/licensing":              "a seat holder's subscription view: licensing's entitlement (SeatGrant) and activity signal",
	"billing -> shared/marketplace/mktmetrics": "GET /admin/metrics reads the marketplace's counters (a small reader package)",
	"billing -> shared/rewards/tokenmetrics":   "GET /admin/metrics reads the token counters (a small reader package)",
	"billing -> shared/support/slametrics":     "GET /admin/metrics and the daily snapshot read support's SLA counters (a small reader package, decision 0097)",
	"payments -> shared/licensing":             "receipts in the organisation's branding (LicenseBranding)",
	"marketplace -> shared/payments":           "a course purchase is one transaction with its payment (CheckoutPaidWith, decision 0062)",
	"marketplace -> shared/licensing":          "a seat holder's enrolment counts in their license's usage (wired into Deps.RecordEnrolment)",
	"rewards -> shared/licensing":              "redemption e-mails in the organisation's branding",
	"support -> shared/licensing":              "a ticket's tier, org admins and branding come from the license",
	"licensing -> shared/billing/tiers":        "enterprise features are billing's tier list (a leaf package)",
	"payments -> shared/billing/records":       "a payment's user and receipt address come from billing's customer and user records (records.Records: ResolveStripeUser, GetUser; decision 0075)",
	"marketplace -> shared/billing/records":    "a payout statement goes to the instructor's address on billing's user profile when the instructor profile has none (records.Records.GetUser)",
	"support -> shared/billing/records":        "a requester's SLA tier reads billing's stored subscription (records.Records.GetSubscription)",
	"rewards -> shared/billing/records":        "a subscription-credit redemption credits the user's Stripe customer, linked once on billing's user profile (records.Records: GetUser, LinkStripeCustomer)",
}

// An area imports another area's package only along the allowed directions above; the test fails on
// a new one (add it here with its reason, or use a fact or a port) and on one no longer used.
func TestAreaImportsFollowTheAllowedDirection(t *testing.T) {
	root := repoRoot(t)
	seen := map[string]bool{}
	for _, area := range areas {
		dir := filepath.Join(root, "shared", area)
		err := filepath.Walk(dir, func(path string, info os.FileInfo, err error) error {
			if err != nil || info.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return err
			}
			f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
			if err != nil {
				return err
			}
			for _, imp := range f.Imports {
				p := strings.Trim(imp.Path.Value, `"`)
				if !strings.HasPrefix(p, module+"shared/") {
					continue
				}
				rel := strings.TrimPrefix(p, module)
				other := strings.SplitN(strings.TrimPrefix(rel, "shared/"), "/", 2)[0]
				if other == area || !slices.Contains(areas, other) {
					continue
				}
				key := area + " -> " + rel
				seen[key] = true
				if _, ok := allowedAcrossAreas[key]; !ok {
					t.Errorf("%s imports %s: not an allowed direction (use a fact or a port, or add it to allowedAcrossAreas with its reason)",
						strings.TrimPrefix(path, root+"/"), rel)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	var stale []string
	for k := range allowedAcrossAreas {
		if !seen[k] {
			stale = append(stale, k)
		}
	}
	sort.Strings(stale)
	if len(stale) > 0 {
		t.Errorf("allowed imports no longer used (remove them): %v", stale)
	}
}
