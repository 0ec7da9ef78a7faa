package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/liberation/monetization/shared/licensing/licensekey"
	m "github.com/liberation/monetization/shared/manifest"
)

// make dev generates its license-signing key once into the state folder and reuses it.
func TestDevLicenseKeyIsGeneratedOnceAndKept(t *testing.T) {
	state := t.TempDir()
	var errs bytes.Buffer
	c := &cli{stderr: &errs}
	first := c.devLicenseKey(state)(m.EnvLicenseKey)
	if _, err := licensekey.ParsePrivateKeyPEM(first); err != nil || errs.Len() != 0 {
		t.Fatalf("generated key: %v %s", err, errs.String())
	}
	if fi, err := os.Stat(filepath.Join(state, licenseKeyFile)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v", fi, err)
	}
	if again := c.devLicenseKey(state)(m.EnvLicenseKey); again != first {
		t.Fatal("a second start made another key")
	}
	if c.devLicenseKey(state)("OTHER") != "" {
		t.Fatal("the source answers other variables")
	}
	// A damaged file is reported, not silently replaced.
	os.WriteFile(filepath.Join(state, licenseKeyFile), []byte("garbage"), 0o600)
	errs.Reset()
	if got := c.devLicenseKey(state)(m.EnvLicenseKey); got != "" || !strings.Contains(errs.String(), "delete it") {
		t.Fatalf("damaged key: %q, stderr %q", got, errs.String())
	}
}
