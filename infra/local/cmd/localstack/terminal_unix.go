//go:build linux || darwin

package main

import (
	"os"
	"os/signal"
	"sync"
	"syscall"
	"unsafe"
)

// takeTerminal moves this process into a process group of its own and makes that group the
// terminal's foreground group, so that Ctrl-C reaches this process alone. Without it the
// terminal's SIGINT also reaches make (and `go run`), which then report the clean shutdown as an
// error ("make: *** [dev] Error 1") or die of the signal (exit 130). The returned function gives
// the terminal back to the original group; it is safe to call more than once.
//
// Nothing happens (and a no-op is returned) when stdin is not a terminal or this process is not
// in the terminal's foreground group (a CI runner, `make dev &`, a test).
func takeTerminal() (giveBack func()) {
	noop := func() {}
	fd := int(os.Stdin.Fd())
	prev, err := tcgetpgrp(fd)
	if err != nil || prev != syscall.Getpgrp() {
		return noop
	}
	// A process outside the foreground group that changes the foreground group gets SIGTTOU.
	signal.Ignore(syscall.SIGTTOU)
	if err := syscall.Setpgid(0, 0); err != nil {
		return noop
	}
	if err := tcsetpgrp(fd, syscall.Getpgrp()); err != nil {
		_ = syscall.Setpgid(0, prev)
		return noop
	}
	// Ctrl-Z would stop this group while make waits for it, leaving a terminal nobody reads.
	signal.Ignore(syscall.SIGTSTP)
	var once sync.Once
	return func() { once.Do(func() { _ = tcsetpgrp(fd, prev) }) }
}

func tcgetpgrp(fd int) (int, error) {
	var pgid int32
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, uintptr(fd), uintptr(syscall.TIOCGPGRP), uintptr(unsafe.Pointer(&pgid))); e != 0 {
		return 0, e
	}
	return int(pgid), nil
}

func tcsetpgrp(fd, pgid int) error {
	p := int32(pgid)
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, uintptr(fd), uintptr(syscall.TIOCSPGRP), uintptr(unsafe.Pointer(&p))); e != 0 {
		return e
	}
	return nil
}
