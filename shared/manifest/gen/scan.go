package gen

import (
	"strconv"
	"strings"

	m "github.com/liberation/monetization/shared/manifest"
)

// checkovYAML is a resource's scanner suppressions as the `checkov:` key of its Metadata, indented by
// indent spaces (manifest.ScanSkip; every one with its reason).
func checkovYAML(indent int, skips ...m.ScanSkip) string {
	pad := strings.Repeat(" ", indent)
	var b strings.Builder
	b.WriteString(pad + "checkov:\n" + pad + "  skip:\n")
	for _, s := range skips {
		b.WriteString(pad + "    - id: " + s.ID + "\n")
		b.WriteString(pad + "      comment: " + strconv.Quote(s.Comment) + "\n")
	}
	return b.String()
}

// metadataYAML is a resource's Metadata holding only its scanner suppressions, at a resource's
// property indentation (4).
func metadataYAML(skips ...m.ScanSkip) string {
	return "    Metadata:\n" + checkovYAML(6, skips...)
}
