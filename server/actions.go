package server

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os/exec"
	"strings"
	"sync"
	"time"

	"github.com/knocktools/knock/server/config"
)

// Actions runs the doors' commands. Every command runs in the background
// (a slow command never stalls capture) through /bin/sh -c with %IP%
// replaced, in a process group of its own, its output logged line by line.
// As in knockd 0.8, a door's Stop_Command runs Cmd_Timeout after its start
// command has finished; Shutdown runs every pending one at once, so no
// firewall hole outlives the daemon.
type Actions struct {
	Log   *Logger
	Shell string // default /bin/sh
	// DryRun, when set, receives what would run, one line a command, and
	// nothing runs: knockd --replay without --run-commands. A stop
	// command is written at once, with the delay it would wait.
	DryRun io.Writer

	once     sync.Once
	shutdown chan struct{}
	mu       sync.Mutex
	closed   bool
	pending  int
	wg       sync.WaitGroup
}

func (a *Actions) init() { a.once.Do(func() { a.shutdown = make(chan struct{}) }) }

// Open runs door's commands for the knocker ip.
func (a *Actions) Open(door *config.Door, ip netip.Addr) {
	a.init()
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		return
	}
	stop := door.Stop(ip.Is6())
	if a.DryRun != nil {
		a.wouldRun(door, door.Start(ip.Is6()), ip, "")
		a.wouldRun(door, stop, ip, " after Cmd_Timeout ("+door.CmdTimeout.String()+")")
		return
	}
	if stop != "" {
		a.pending++
	}
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		a.run(door, door.Start(ip.Is6()), ip)
		if stop == "" {
			return
		}
		t := time.NewTimer(door.CmdTimeout)
		select {
		case <-t.C:
		case <-a.shutdown:
			t.Stop()
		}
		a.mu.Lock()
		a.pending--
		a.mu.Unlock()
		a.Log.Printf("%s: %s: command timeout", a.Log.Who(ip), door.Name)
		a.run(door, stop, ip)
	}()
}

// Pending returns how many stop commands have yet to run.
func (a *Actions) Pending() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.pending
}

// Shutdown runs every pending stop command now (after its start command,
// if that is still running) and waits, up to ctx, for all commands to
// finish. Later Opens do nothing.
func (a *Actions) Shutdown(ctx context.Context) {
	a.init()
	a.mu.Lock()
	if !a.closed {
		a.closed = true
		close(a.shutdown)
	}
	a.mu.Unlock()
	done := make(chan struct{})
	go func() { a.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		a.Log.Printf("shutdown: commands still running after %v", ctx.Err())
	}
}

// wouldRun writes what run would execute, for a dry run.
func (a *Actions) wouldRun(door *config.Door, cmdline string, ip netip.Addr, when string) {
	if cmdline == "" {
		return
	}
	fmt.Fprintf(a.DryRun, "%s: would run%s: %s\n", door.Name, when, strings.ReplaceAll(cmdline, "%IP%", ip.String()))
}

// run executes one command line for a door, logging as knockd 0.8 does.
func (a *Actions) run(door *config.Door, cmdline string, ip netip.Addr) {
	if cmdline == "" {
		return
	}
	cmdline = strings.ReplaceAll(cmdline, "%IP%", ip.String())
	a.Log.Printf("%s: running command: %s", door.Name, cmdline)
	shell := a.Shell
	if shell == "" {
		shell = "/bin/sh"
	}
	c := exec.Command(shell, "-c", cmdline)
	setProcessGroup(c)
	out, err := c.StdoutPipe()
	if err == nil {
		c.Stderr = c.Stdout
	}
	if err == nil {
		err = c.Start()
	}
	if err != nil {
		a.Log.Printf("%s: cannot run command: %v", door.Name, err)
		return
	}
	logLines(a.Log, door.Name, out)
	err = c.Wait()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		a.Log.Printf("%s: command returned non-zero status code (%d)", door.Name, exit.ExitCode())
	} else if err != nil {
		a.Log.Printf("%s: command failed: %v", door.Name, err)
	}
}

func logLines(l *Logger, door string, r io.Reader) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		l.Printf("%s: command output: %s", door, sc.Text())
	}
}
