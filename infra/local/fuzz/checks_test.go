// Package fuzz holds schemathesis' configuration and our own checks (checks.py); this test runs the
// checks' unit tests with the project's virtualenv, so a check that flags nothing, or flags noise,
// fails here before it misleads a fuzzing run.
package fuzz

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/liberation/monetization/infra/local/motoserver"
)

func TestChecksPy(t *testing.T) {
	_, file, _, _ := runtime.Caller(0)
	dir := filepath.Dir(file)
	root := filepath.Clean(filepath.Join(dir, "..", "..", ".."))
	py := motoserver.Python(root)
	if _, err := os.Stat(py); err != nil {
		t.Fatalf("%s is missing: run `make tools` (%v)", py, err)
	}
	cmd := exec.Command(py, "-m", "unittest", "-v", "test_checks")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "PYTHONDONTWRITEBYTECODE=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("python -m unittest test_checks: %v\n%s", err, out)
	}
	t.Logf("%s", out)
}
