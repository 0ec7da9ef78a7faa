package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/liberation/monetization/shared/licensing/licensekey"
	m "github.com/liberation/monetization/shared/manifest"
)

// licenseKeyFile holds `make dev`'s Ed25519 license-signing key (PKCS#8 PEM), generated on first use
// so license keys issued by one `make dev` still verify after a restart. In AWS the key is the SSM
// SecureString named by LICENSE_SIGNING_KEY_PARAM (docs/runbooks/rotate-license-signing-key.md).
const licenseKeyFile = "license-signing-key.pem"

// devLicenseKey is a settings source giving LICENSE_SIGNING_KEY from <state>/license-signing-key.pem.
// A variable already set in the environment still wins (it is layered after it). A failure is
// reported and leaves the variable unset: the functions that sign then answer 500 naming it.
func (c *cli) devLicenseKey(state string) func(string) string {
	key, err := loadOrCreateLicenseKey(filepath.Join(state, licenseKeyFile))
	if err != nil {
		fmt.Fprintln(c.stderr, "license signing key:", err)
	}
	return func(k string) string {
		if k == m.EnvLicenseKey {
			return key
		}
		return ""
	}
}

func loadOrCreateLicenseKey(path string) (string, error) {
	if b, err := os.ReadFile(path); err == nil {
		if _, err := licensekey.ParsePrivateKeyPEM(string(b)); err != nil {
			return "", fmt.Errorf("%s: %w (delete it to generate a new one)", path, err)
		}
		return string(b), nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return "", err
	}
	pem, err := licensekey.GenerateKeyPEM()
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return "", err
	}
	return pem, os.WriteFile(path, []byte(pem), 0o600)
}
