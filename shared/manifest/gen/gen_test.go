package gen

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	m "github.com/liberation/monetization/shared/manifest"
)

const root = "../../.."

// Every generated file on disk is what the manifest gives today: after a manifest change, run
// `make generate` and commit the result.
func TestGeneratedFilesAreCurrent(t *testing.T) {
	files, err := Files()
	if err != nil {
		t.Fatal(err)
	}
	for p, want := range files {
		got, err := os.ReadFile(filepath.Join(root, p))
		if err != nil {
			t.Errorf("%s: %v (run make generate)", p, err)
			continue
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s is stale: run make generate", p)
		}
	}
	stale, err := StaleMains(root, files)
	if err != nil {
		t.Fatal(err)
	}
	if len(stale) > 0 {
		t.Errorf("generated mains of functions no longer in the manifest: %v (run make generate)", stale)
	}
	dirs, _ := os.ReadDir(filepath.Join(root, "functions"))
	for _, d := range dirs {
		if _, ok := files["functions/"+d.Name()+"/main.go"]; !ok {
			t.Errorf("functions/%s is not in the manifest", d.Name())
		}
	}
}

// The generator marks a removed function's main as stale and leaves hand-written folders alone.
func TestStaleMains(t *testing.T) {
	dir := t.TempDir()
	write := func(p, s string) {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, p)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, p), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("functions/kept/main.go", Marker+"\n")
	write("functions/gone/main.go", Marker+"\n")
	write("functions/handmade/main.go", "package main\n")
	stale, err := StaleMains(dir, map[string][]byte{"functions/kept/main.go": nil})
	if err != nil || len(stale) != 1 || stale[0] != "functions/gone" {
		t.Fatalf("stale = %v, %v", stale, err)
	}
}

// The zone database (time/tzdata) is linked into exactly the mains of functions whose manifest
// entry sets ZoneDB, and no other.
func TestZoneDBOnlyWhereDeclared(t *testing.T) {
	flagged := 0
	for _, f := range m.Functions {
		b, err := Main(f)
		if err != nil {
			t.Fatal(err)
		}
		if got := bytes.Contains(b, []byte(`_ "time/tzdata"`)); got != f.ZoneDB {
			t.Errorf("%s: embeds tzdata %v, ZoneDB %v", f.Name, got, f.ZoneDB)
		}
		if f.ZoneDB {
			flagged++
		}
	}
	if flagged == 0 {
		t.Fatal("no function sets ZoneDB: the check proves nothing")
	}
}
