package manifest_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	m "github.com/liberation/monetization/shared/manifest"
)

// S3 statements in template.yaml name exactly the objects the manifest allows: the whole bucket's
// objects, or only those under the function's BucketPrefix, and those of its BucketAlso grants.
func TestTemplateBucketStatementsUsePrefix(t *testing.T) {
	tpl := loadTemplate(t)
	prefixed := 0
	for _, f := range m.Functions {
		if len(f.Bucket) == 0 {
			continue
		}
		stmts, _ := at(tpl.Resources[f.LogicalID()].Properties["Policies"].([]any)[0], "Statement").([]any)
		var got []string
		for _, s := range stmts {
			if strings.HasPrefix(strs(at(s, "Action"))[0], "s3:") {
				for _, r := range at(s, "Resource").([]any) {
					got = append(got, strs(at(r, "Fn::Sub"))...)
				}
			}
		}
		want := []string{"${Bucket.Arn}/" + f.BucketPrefix + "*"}
		for _, g := range f.BucketAlso {
			want = append(want, "${Bucket.Arn}/"+g.Prefix+"*")
		}
		for _, p := range f.BucketVersions {
			// The versions listing is on the bucket, held to the prefix by its condition (checked
			// below); the deletes on the prefix's objects.
			want = append(want, "${Bucket.Arn}", "${Bucket.Arn}/"+p+"*")
		}
		for _, s := range stmts {
			if strs(at(s, "Action"))[0] != m.S3ListBucketVersions {
				continue
			}
			cond := fmt.Sprint(at(s, "Condition", "StringLike", "s3:prefix"))
			if !slices.ContainsFunc(f.BucketVersions, func(p string) bool { return strings.Contains(cond, p+"*") }) {
				t.Errorf("%s: %s without an s3:prefix condition on its prefix: %v", f.Name, m.S3ListBucketVersions, at(s, "Condition"))
			}
		}
		if strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("%s: S3 resources %v, want %v", f.Name, got, want)
		}
		if f.BucketPrefix != "" {
			prefixed++
		}
	}
	if prefixed == 0 {
		t.Fatal("no function uses a BucketPrefix: the check above proves nothing about prefixes")
	}
}

// The bucket expires old catalog snapshots (the builder rewrites the current one daily).
func TestTemplateExpiresCatalogSnapshots(t *testing.T) {
	tpl := loadTemplate(t)
	rules, _ := at(tpl.Resources[m.BucketLogicalID].Properties, "LifecycleConfiguration", "Rules").([]any)
	for _, r := range rules {
		if at(r, "Prefix") == m.CatalogSnapshotPrefix && at(r, "ExpirationInDays") == m.CatalogSnapshotDays {
			return
		}
	}
	t.Fatalf("no lifecycle rule expires %s after %d days: %v", m.CatalogSnapshotPrefix, m.CatalogSnapshotDays, rules)
}
