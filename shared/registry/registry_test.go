package registry

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/liberation/monetization/shared/manifest"
)

// Every manifest function has a registry entry and a functions/<name>/main.go that passes the same
// constructor to platform.Start; nothing exists that the manifest lacks.
func TestRegistryMatchesManifestAndMains(t *testing.T) {
	root := filepath.Join("..", "..")
	start := regexp.MustCompile(`platform\.Start\("([a-z0-9-]+)",\s*([a-z]+)\.([A-Za-z0-9]+)\)`)
	for _, fn := range manifest.Functions {
		e, ok := Entries[fn.Name]
		if !ok {
			t.Errorf("%s: no registry entry", fn.Name)
			continue
		}
		src, err := os.ReadFile(filepath.Join(root, "functions", fn.Name, "main.go"))
		if err != nil {
			t.Errorf("%s: %v", fn.Name, err)
			continue
		}
		m := start.FindStringSubmatch(string(src))
		if m == nil || m[1] != fn.Name {
			t.Errorf("%s: main.go must call platform.Start(%q, pkg.Constructor)", fn.Name, fn.Name)
			continue
		}
		if want := "/" + m[2] + "." + m[3]; !strings.HasSuffix(e.Constructor, want) {
			t.Errorf("%s: main.go uses %s.%s, registry uses %s", fn.Name, m[2], m[3], e.Constructor)
		}
	}
	for name := range Entries {
		if _, ok := manifest.ByName(name); !ok {
			t.Errorf("registry has %s, the manifest does not", name)
		}
	}
	dirs, _ := os.ReadDir(filepath.Join(root, "functions"))
	for _, d := range dirs {
		if _, ok := manifest.ByName(d.Name()); !ok {
			t.Errorf("functions/%s is not in the manifest", d.Name())
		}
	}
}
