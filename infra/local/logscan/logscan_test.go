package logscan

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/liberation/monetization/shared/logging"
)

func TestScanFindsFunctionAndFieldNotTheValue(t *testing.T) {
	log := strings.Join([]string{
		`=== RUN   TestX`, // test output: skipped
		`    x_test.go:12: body {"email":"someone@example.com"}`,
		`{"msg":"no function field","to":"a@example.com"}`,
		`{"level":"INFO","msg":"request","function":"get-user","userId":"01HZY3K6Q2W4M8T0V5X7C9B1N3","ms":3}`,
		`{"level":"ERROR","msg":"reply e-mail not sent","function":"reply-support-ticket","err":"550 <bob@example.com>: rejected"}`,
		`{"function":"f","g":{"h":[1,"Bearer abcdefghijklmnopqrstu"]},"pan":4242424242424242,"k":"whsec_abcdefgh"}`,
		`not json {"function":"x","e":"c@example.com"`,
	}, "\n")
	hits, err := Scan(strings.NewReader(log))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, h := range hits {
		got = append(got, h.String())
	}
	want := []string{
		"line 5: function reply-support-ticket, field err: email",
		"line 6: function f, field g.h[1]: bearer-token",
		"line 6: function f, field k: stripe-secret",
		"line 6: function f, field pan: card-number",
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("hits\n got  %q\n want %q", got, want)
	}
	for _, h := range got {
		if strings.Contains(h, "bob@") || strings.Contains(h, "abcdefgh") || strings.Contains(h, "4242") {
			t.Fatalf("a hit prints the secret: %s", h)
		}
	}
}

// What the logger writes passes the scan: the scrubber and the scanner agree.
func TestScrubbedLinesPass(t *testing.T) {
	var buf bytes.Buffer
	logging.New(&buf, "f").Error("mail to bob@example.com failed", "err", "Bearer abcdefghijklmnopqrstu sk_live_abcdefgh 4242 4242 4242 4242")
	hits, err := Scan(&buf)
	if err != nil || len(hits) != 0 {
		t.Fatalf("hits %v, err %v in %s", hits, err, buf.String())
	}
}

// Capture tees stdout: every line reaches the original stdout, function lines reach the file, and
// Check reports them.
func TestCaptureAndCheck(t *testing.T) {
	dir := t.TempDir()
	origOut := os.Stdout
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	os.Stdout = w // stands for the terminal
	defer func() { os.Stdout = origOut }()
	c, err := Start(dir, "unit")
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintln(os.Stdout, "=== RUN   TestSomething")
	fmt.Fprintln(os.Stdout, `{"function":"f","msg":"ok"}`)
	fmt.Fprintln(os.Stdout, `{"function":"g","to":"eve@example.com"}`)
	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}
	if os.Stdout != w {
		t.Fatal("Stop did not restore stdout")
	}
	w.Close()
	var term bytes.Buffer
	_, _ = term.ReadFrom(r)
	if !strings.Contains(term.String(), "=== RUN   TestSomething") || !strings.Contains(term.String(), `"msg":"ok"`) {
		t.Fatalf("terminal got %q", term.String())
	}
	kept, _ := os.ReadFile(c.File)
	if strings.Contains(string(kept), "=== RUN") || strings.Count(string(kept), "\n") != 2 {
		t.Fatalf("file kept %q, want the two function lines", kept)
	}
	var report bytes.Buffer
	n, err := c.Check(&report)
	if err != nil || n != 1 || !strings.Contains(report.String(), "line 2: function g, field to: email") || strings.Contains(report.String(), "eve@") {
		t.Fatalf("Check = %d, %v:\n%s", n, err, report.String())
	}
}

type fakeM struct {
	code int
	line string
}

func (m fakeM) Run() int { fmt.Fprintln(os.Stdout, m.line); return m.code }

// Run fails a passing run whose logs leak, and keeps a clean run's status.
func TestRunFailsOnALeak(t *testing.T) {
	origOut, origErr := os.Stdout, os.Stderr
	devnull, _ := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	defer devnull.Close()
	os.Stdout, os.Stderr = devnull, devnull
	leak := Run{M: fakeM{0, `{"function":"f","err":"<bob@example.com> rejected"}`}, Dir: t.TempDir(), Name: "e2e"}.Run()
	clean := Run{M: fakeM{0, `{"function":"f","err":"<[redacted email]> rejected"}`}, Dir: t.TempDir(), Name: "e2e"}.Run()
	failed := Run{M: fakeM{3, `{"function":"f"}`}, Dir: t.TempDir(), Name: "e2e"}.Run()
	os.Stdout, os.Stderr = origOut, origErr
	if leak != 1 || clean != 0 || failed != 3 {
		t.Fatalf("exit codes leak %d (want 1), clean %d (want 0), failed %d (want 3)", leak, clean, failed)
	}
}
