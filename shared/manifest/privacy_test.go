package manifest_test

import (
	"testing"

	m "github.com/liberation/monetization/shared/manifest"
)

// The bucket deletes personal-data exports after ExportsDays (docs/privacy.md "The link and
// retention"); the CDK stack's rule is checked in infra/cdk (TestTableAndBucket).
func TestTemplateExpiresPersonalExports(t *testing.T) {
	tpl := loadTemplate(t)
	rules, _ := at(tpl.Resources[m.BucketLogicalID].Properties, "LifecycleConfiguration", "Rules").([]any)
	for _, r := range rules {
		if at(r, "Prefix") == m.ExportsPrefix && at(r, "ExpirationInDays") == m.ExportsDays {
			return
		}
	}
	t.Fatalf("no lifecycle rule expires %s after %d days: %v", m.ExportsPrefix, m.ExportsDays, rules)
}
