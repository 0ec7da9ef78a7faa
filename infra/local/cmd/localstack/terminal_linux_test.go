package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"
)

// helperEnv makes the test binary act as a tiny `localstack dev` (see TestMain-free helper below).
const helperEnv = "LOCALSTACK_TERMINAL_HELPER"

// TestTerminalHelper is not a test: run by TestCtrlCUnderMake as the process behind `make`, it
// does what main does for dev (take the terminal unless told not to), waits for Ctrl-C, shuts
// down and exits 0.
func TestTerminalHelper(t *testing.T) {
	mode := os.Getenv(helperEnv)
	if mode == "" {
		return // an ordinary test run: nothing to do
	}
	giveBack := func() {}
	if mode == "take" {
		giveBack = takeTerminal()
	}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt)
	fmt.Println("helper up")
	select {
	case <-sigs:
		fmt.Println("stopping…")
	case <-time.After(20 * time.Second):
		fmt.Println("no Ctrl-C arrived")
	}
	giveBack()
	os.Exit(0)
}

// TestCtrlCUnderMake presses Ctrl-C on a real terminal (a pty) running `make` over a process that
// exits 0 on SIGINT, as `make dev` does. With takeTerminal make exits 0 and says nothing; without
// it (the control case) make is hit by the same SIGINT and does not exit 0 — so this test would
// notice if takeTerminal stopped working.
func TestCtrlCUnderMake(t *testing.T) {
	if os.Getenv(helperEnv) != "" {
		return
	}
	makeBin, err := exec.LookPath("make")
	if err != nil {
		t.Fatalf("make is required (the project is driven by its Makefile): %v", err)
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	mk := filepath.Join(dir, "Makefile")
	recipe := fmt.Sprintf("dev:\n\t@%s -test.run='^TestTerminalHelper$$' -test.count=1\n", self)
	if err := os.WriteFile(mk, []byte(recipe), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		mode     string
		wantZero bool
	}{{"take", true}, {"keep", false}} {
		t.Run(tc.mode, func(t *testing.T) {
			out, exitErr := ctrlCUnderPTY(t, makeBin, mk, helperEnv+"="+tc.mode)
			if !strings.Contains(out, "stopping…") {
				t.Fatalf("the helper did not see Ctrl-C:\n%s", out)
			}
			if tc.wantZero {
				if exitErr != nil || strings.Contains(out, "***") {
					t.Fatalf("make after Ctrl-C: %v\n%s", exitErr, out)
				}
				return
			}
			if exitErr == nil {
				t.Fatalf("control case: make exited 0 without takeTerminal; the test cannot tell the difference\n%s", out)
			}
		})
	}
}

// ctrlCUnderPTY runs make on a new pseudo-terminal, waits for the helper to be up, types Ctrl-C
// and returns everything the terminal showed and make's exit error.
func ctrlCUnderPTY(t *testing.T, makeBin, makefile, env string) (string, error) {
	t.Helper()
	master, slave := openPTY(t)
	cmd := exec.Command(makeBin, "-s", "-f", makefile, "dev")
	cmd.Env = append(os.Environ(), env)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	slave.Close()
	var out syncBuffer
	read := make(chan struct{})
	go func() { _, _ = io.Copy(&out, master); close(read) }()
	deadline := time.Now().Add(15 * time.Second)
	for !strings.Contains(out.String(), "helper up") {
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			t.Fatalf("helper never came up:\n%s", out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond) // let the helper install its handler and take the terminal
	if _, err := master.Write([]byte{0x03}); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var err error
	select {
	case err = <-done:
	case <-time.After(15 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatalf("make did not exit after Ctrl-C:\n%s", out.String())
	}
	// Read what the terminal still holds before closing it: once make and the helper have exited,
	// no one holds the other end and the read ends (EIO). Closing first could drop the helper's last
	// line ("stopping…") unread, which a loaded machine made happen.
	select {
	case <-read:
	case <-time.After(5 * time.Second):
	}
	master.Close()
	<-read
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatal(err)
	}
	return out.String(), err
}

// openPTY opens a pseudo-terminal pair (Linux /dev/ptmx).
func openPTY(t *testing.T) (master, slave *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR, 0)
	if err != nil {
		t.Fatalf("no pseudo-terminals here: %v", err)
	}
	var unlock int32
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, m.Fd(), syscall.TIOCSPTLCK, uintptr(unsafe.Pointer(&unlock))); e != 0 {
		t.Fatal(e)
	}
	var n uint32
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, m.Fd(), syscall.TIOCGPTN, uintptr(unsafe.Pointer(&n))); e != 0 {
		t.Fatal(e)
	}
	s, err := os.OpenFile("/dev/pts/"+strconv.Itoa(int(n)), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close(); s.Close() })
	return m, s
}
