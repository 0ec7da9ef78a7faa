package coldstart

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The measurement runs end to end on real binaries (no timing is asserted: numbers go to
// docs/performance.md from `make bench`).
func TestMeasureAndReport(t *testing.T) {
	root, _ := filepath.Abs("../../..")
	dir := t.TempDir()
	if err := Build(root, dir, ""); err != nil {
		t.Fatal(err)
	}
	// Keep the run short: hello-world and one function.
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if e.Name() != Hello && e.Name() != "list-tiers" {
			os.Remove(filepath.Join(dir, e.Name()))
		}
	}
	res, err := Measure(dir, 3)
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 2 || res[0].Name != Hello || res[1].Name != "list-tiers" || res[0].Ratio != 1 {
		t.Fatalf("results %+v", res)
	}
	for _, r := range res {
		if r.Bytes == 0 || r.P50 <= 0 || r.Max < r.P50 {
			t.Fatalf("result %+v", r)
		}
	}
	var buf bytes.Buffer
	Report(&buf, []Result{res[0], {Name: "big", Bytes: 20 << 20, P50: 3 * res[0].P50, Max: time.Second, Ratio: 3}}, 2, 15<<20)
	if !strings.Contains(buf.String(), "init over 2× hello-world; over 15 MB") {
		t.Fatalf("report does not flag the targets:\n%s", buf.String())
	}
}
