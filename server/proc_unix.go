//go:build unix

package server

import (
	"os/exec"
	"syscall"
)

// setProcessGroup puts a door command in a process group of its own, so a
// signal meant for knockd (a Ctrl-C in the foreground) does not reach it
// and it cannot signal knockd's group.
func setProcessGroup(c *exec.Cmd) {
	c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}
