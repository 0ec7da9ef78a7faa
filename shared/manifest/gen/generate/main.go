// Command generate writes what follows from the manifest (functions/*/main.go, the registry,
// template.yaml) and removes generated mains of functions no longer in the manifest. Run it with
// `make generate` (go generate ./shared/manifest).
package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/liberation/monetization/shared/manifest/gen"
)

func main() {
	root, err := gen.ModuleRoot()
	if err == nil {
		err = run(root)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "generate:", err)
		os.Exit(1)
	}
}

func run(root string) error {
	files, err := gen.Files()
	if err != nil {
		return err
	}
	paths := make([]string, 0, len(files))
	for p := range files {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		full := filepath.Join(root, p)
		if old, err := os.ReadFile(full); err == nil && bytes.Equal(old, files[p]) {
			continue
		}
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(full, files[p], 0o644); err != nil {
			return err
		}
		fmt.Println("wrote", p)
	}
	stale, err := gen.StaleMains(root, files)
	if err != nil {
		return err
	}
	for _, dir := range stale {
		if err := os.RemoveAll(filepath.Join(root, dir)); err != nil {
			return err
		}
		fmt.Println("removed", dir)
	}
	return nil
}
