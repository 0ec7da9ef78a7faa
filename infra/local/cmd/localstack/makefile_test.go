package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"

	"github.com/liberation/monetization/infra/local/services"
)

// TestMakefileDefaultsMatch: `make help` prints the local URLs from the Makefile's defaults; they
// must be the ports `make dev` really uses.
func TestMakefileDefaultsMatch(t *testing.T) {
	root, err := projectRoot()
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(root, "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"DEFAULT_PORT":             defaultPort,
		"DEFAULT_MAILPIT_PORT":     strconv.Itoa(services.DevPorts.MailpitUI),
		"DEFAULT_SMTP_PORT":        strconv.Itoa(services.DevPorts.SMTP),
		"DEFAULT_MOTO_PORT":        strconv.Itoa(services.DevPorts.Moto),
		"DEFAULT_STRIPE_MOCK_PORT": strconv.Itoa(services.DevPorts.StripeMock),
	}
	for name, port := range want {
		m := regexp.MustCompile(`(?m)^` + name + `\s*:=\s*(\S+)\s*$`).FindSubmatch(b)
		if m == nil {
			t.Errorf("Makefile does not define %s", name)
			continue
		}
		if string(m[1]) != port {
			t.Errorf("Makefile %s = %s, make dev uses %s", name, m[1], port)
		}
	}
}
