// Package treecheck keeps build outputs out of git: every tracked file is source, documentation or
// a small fixture. It runs with `go test ./...` (and so `make test` and CI), needs only git.
package treecheck

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// maxTrackedBytes is the largest file git may track (the repository guide: no file over 1 MB).
const maxTrackedBytes = 1 << 20

// largeFixtures are tracked files allowed past the limit, by path, each with its reason. Empty:
// nothing needs it today.
var largeFixtures = map[string]string{}

// binaryMagic are the first bytes of executables and object files: ELF, Mach-O (both byte orders,
// 32/64 bit, fat), PE/COFF, and WebAssembly.
var binaryMagic = [][]byte{
	{0x7f, 'E', 'L', 'F'},
	{0xfe, 0xed, 0xfa, 0xce}, {0xfe, 0xed, 0xfa, 0xcf}, {0xce, 0xfa, 0xed, 0xfe}, {0xcf, 0xfa, 0xed, 0xfe},
	{0xca, 0xfe, 0xba, 0xbe},
	{'M', 'Z'},
	{0x00, 'a', 's', 'm'},
}

func TestTrackedFilesAreSourceNotBuilds(t *testing.T) {
	root := repoRoot(t)
	out, err := exec.Command("git", "-C", root, "ls-files", "-z").Output()
	if err != nil {
		t.Skipf("not a git checkout (%v): nothing to check", err)
	}
	files := strings.Split(strings.TrimRight(string(out), "\x00"), "\x00")
	if len(files) < 100 {
		t.Fatalf("git lists %d files: is this the repository?", len(files))
	}
	for _, f := range files {
		path := filepath.Join(root, f)
		info, err := os.Lstat(path)
		if err != nil || !info.Mode().IsRegular() {
			continue // deleted in the work tree, or a link
		}
		if info.Size() > maxTrackedBytes {
			if why, ok := largeFixtures[f]; !ok || why == "" {
				t.Errorf("%s is %d bytes: no tracked file may exceed %d (a build output? add it to .gitignore)", f, info.Size(), maxTrackedBytes)
			}
		}
		if head := readHead(t, path); isBinary(head) {
			t.Errorf("%s is an executable or object file: build outputs stay out of git", f)
		}
	}
}

func TestBinaryMagicIsRecognised(t *testing.T) {
	for _, tc := range []struct {
		head []byte
		want bool
	}{
		{[]byte("\x7fELF\x02\x01"), true},
		{[]byte{0xcf, 0xfa, 0xed, 0xfe, 7}, true},
		{[]byte("MZ\x90\x00"), true},
		{[]byte("package main\n"), false},
		{[]byte("#!/usr/bin/env bash\n"), false},
		{[]byte("%PDF-1.4"), false},
		{nil, false},
	} {
		if got := isBinary(tc.head); got != tc.want {
			t.Errorf("isBinary(%q) = %v, want %v", tc.head, got, tc.want)
		}
	}
}

func isBinary(head []byte) bool {
	for _, m := range binaryMagic {
		if bytes.HasPrefix(head, m) {
			return true
		}
	}
	return false
}

func readHead(t *testing.T, path string) []byte {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := make([]byte, 8)
	n, _ := f.Read(b)
	return b[:n]
}

func repoRoot(t *testing.T) string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", "..", ".."))
}

// The decisions index (docs/decisions/README.md) lists every decision file.
func TestDecisionsIndexListsEveryDecision(t *testing.T) {
	dir := filepath.Join(repoRoot(t), "docs", "decisions")
	index, err := os.ReadFile(filepath.Join(dir, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range entries {
		name := e.Name()
		if len(name) < 5 || name[4] != '-' || !strings.HasSuffix(name, ".md") {
			continue
		}
		n++
		if !bytes.Contains(index, []byte("("+name+")")) {
			t.Errorf("docs/decisions/README.md does not list %s", name)
		}
	}
	if n < 50 {
		t.Fatalf("only %d decision files found", n)
	}
}
