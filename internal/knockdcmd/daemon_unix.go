//go:build unix

package knockdcmd

import (
	"fmt"
	"os"
	"os/exec"
	"syscall"
)

// daemonize starts this program again in the background, detached from
// the terminal in a session of its own, with --foreground so the child
// stays and writes the PID file, and returns in the parent. Go cannot
// fork, so this is how -d works.
func daemonize() error {
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	null, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer null.Close()
	c := exec.Command(exe, append(os.Args[1:], "--foreground")...)
	c.Stdin, c.Stdout, c.Stderr = null, null, null
	c.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := c.Start(); err != nil {
		return fmt.Errorf("daemon: %w", err)
	}
	return c.Process.Release()
}

// statsSignal makes knockd log its counters.
func statsSignal() os.Signal { return syscall.SIGUSR1 }
