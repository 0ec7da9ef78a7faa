package manifest_test

import (
	"testing"

	m "github.com/liberation/monetization/shared/manifest"
)

// The bucket deletes personal-data exports after ExportsDays and receipts after ReceiptsDays
// (docs/privacy.md "Retention"); the CDK stack's rules are checked in infra/cdk (TestTableAndBucket).
func TestTemplateExpiresPersonalExportsAndReceipts(t *testing.T) {
	tpl := loadTemplate(t)
	rules, _ := at(tpl.Resources[m.BucketLogicalID].Properties, "LifecycleConfiguration", "Rules").([]any)
	for prefix, days := range map[string]int{m.ExportsPrefix: m.ExportsDays, m.ReceiptsPrefix: m.ReceiptsDays} {
		found := false
		for _, r := range rules {
			found = found || at(r, "Prefix") == prefix && at(r, "ExpirationInDays") == days
		}
		if !found {
			t.Errorf("no lifecycle rule expires %s after %d days: %v", prefix, days, rules)
		}
	}
}

// TestBucketPrefixesHaveAVersionRule: every prefix a function is granted is either one whose old
// versions expire (VersionPrefixes) or the audit seals', whose old versions are kept; the template
// has one NoncurrentVersionExpiration rule per VersionPrefix, and none that reaches the seals (a
// rule without a prefix would).
func TestBucketPrefixesHaveAVersionRule(t *testing.T) {
	versioned := map[string]bool{}
	for _, p := range m.VersionPrefixes {
		versioned[p] = true
	}
	for _, f := range m.Functions {
		prefixes := []string{f.BucketPrefix}
		for _, g := range f.BucketAlso {
			prefixes = append(prefixes, g.Prefix)
		}
		for _, p := range prefixes {
			if len(f.Bucket) > 0 && p != m.AuditSealPrefix && !versioned[p] {
				t.Errorf("%s: prefix %q has no rule for its old versions: add it to manifest.VersionPrefixes", f.Name, p)
			}
		}
	}
	rules, _ := at(loadTemplate(t).Resources[m.BucketLogicalID].Properties, "LifecycleConfiguration", "Rules").([]any)
	got := map[string]bool{}
	for _, r := range rules {
		if at(r, "NoncurrentVersionExpiration") == nil {
			continue
		}
		p, _ := at(r, "Prefix").(string)
		if p == "" || !versioned[p] || at(r, "NoncurrentVersionExpiration", "NoncurrentDays") != m.NoncurrentVersionDays {
			t.Errorf("old-version rule %v: want one per manifest.VersionPrefixes, %d days", r, m.NoncurrentVersionDays)
		}
		got[p] = true
	}
	for p := range versioned {
		if !got[p] {
			t.Errorf("no old-version rule for %s", p)
		}
	}
}
