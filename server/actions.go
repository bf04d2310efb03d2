package server

import (
	"bufio"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os/exec"
	"strings"
	"sync"
	"time"

	"github.com/knocktools/knock/firewall"
	"github.com/knocktools/knock/knockdconf"
)

// Actions runs the doors' commands. Every command runs in the background
// (a slow command never stalls capture) through /bin/sh -c with %IP%
// replaced, in a process group of its own, its output logged line by line.
// As in knockd 0.8, a door's Stop_Command runs Cmd_Timeout after its start
// command has finished; Shutdown runs every pending one at once, so no
// firewall hole outlives the daemon.
//
// Commands run as root, so their number is capped: at most MaxCommands
// at once, and MaxDoorCommands of one door. A start command finds its
// slot through Admit or is not run at all (the caller drops the knock);
// a stop command waits for a slot, and is never dropped.
type Actions struct {
	Log   *Logger
	Shell string // default /bin/sh
	// DryRun, when set, receives what would run, one line a command, and
	// nothing runs: knockd --replay without --run-commands. A stop
	// command is written at once, with the delay it would wait.
	DryRun io.Writer
	// Holes opens doors' Open_Ports (knockd's built-in actions); nil when
	// no door has them.
	Holes firewall.Holes
	// MaxCommands and MaxDoorCommands cap the commands running at once,
	// in all and per door; 0: knockdconf.DefaultMaxCommands and
	// knockdconf.DefaultMaxDoorCommands.
	MaxCommands, MaxDoorCommands int

	once     sync.Once
	shutdown chan struct{}
	mu       sync.Mutex
	freed    *sync.Cond // a command ended, or shutdown began
	closed   bool
	pending  int // stop commands not yet due
	stops    int // stop commands not yet finished
	running  int
	perDoor  map[string]int
	wg       sync.WaitGroup

	// What knockd status shows: the openings whose stop command is to
	// come, the last ones of doors without one, and the firewall holes
	// door commands reported.
	openings []*opening
	recent   []*opening
	holes    []Hole
}

func (a *Actions) init() {
	a.once.Do(func() {
		a.shutdown = make(chan struct{})
		a.freed = sync.NewCond(&a.mu)
		a.perDoor = map[string]int{}
	})
}

// SetLimits sets MaxCommands and MaxDoorCommands (0: the defaults) for
// the commands admitted from now on; a reload calls it.
func (a *Actions) SetLimits(total, perDoor int) {
	a.init()
	a.mu.Lock()
	a.MaxCommands, a.MaxDoorCommands = total, perDoor
	a.freed.Broadcast()
	a.mu.Unlock()
}

// Admit reserves a slot for a start command of door, which Open then
// uses; it says why not when the commands running leave none (or after
// Shutdown), and the caller must then drop the knock.
func (a *Actions) Admit(door *knockdconf.Door) error {
	a.init()
	a.mu.Lock()
	defer a.mu.Unlock()
	switch {
	case a.closed:
		return errors.New("shutting down")
	case a.DryRun != nil:
		return nil // nothing runs
	}
	if why := a.full(door); why != "" {
		return errors.New(why)
	}
	a.take(door, 1)
	return nil
}

// full says why no command of door can start now (a cap is reached), or
// ""; called with a.mu held.
func (a *Actions) full(door *knockdconf.Door) string {
	switch {
	case a.running >= cmp.Or(a.MaxCommands, knockdconf.DefaultMaxCommands):
		return fmt.Sprintf("%d commands running, MaxCommands", a.running)
	case a.perDoor[door.Name] >= cmp.Or(a.MaxDoorCommands, knockdconf.DefaultMaxDoorCommands):
		return fmt.Sprintf("%d of this door's commands running, MaxDoorCommands", a.perDoor[door.Name])
	}
	return ""
}

// take counts n slots of door as taken (n -1: given back); called with
// a.mu held.
func (a *Actions) take(door *knockdconf.Door, n int) {
	a.running += n
	a.perDoor[door.Name] += n
	if n < 0 {
		a.freed.Broadcast()
	}
}

// release frees a command slot of door.
func (a *Actions) release(door *knockdconf.Door) {
	a.mu.Lock()
	a.take(door, -1)
	a.mu.Unlock()
}

// waitSlot takes a slot for a stop command of door, waiting for one.
func (a *Actions) waitSlot(door *knockdconf.Door) {
	a.mu.Lock()
	for a.full(door) != "" {
		a.freed.Wait()
	}
	a.take(door, 1)
	a.mu.Unlock()
}

// Open runs door's commands for the knocker ip if Admit finds a slot.
func (a *Actions) Open(door *knockdconf.Door, ip netip.Addr) error {
	if err := a.Admit(door); err != nil {
		return err
	}
	a.Start(door, ip)
	return nil
}

// Start runs door's commands for the knocker ip in the slot Admit
// reserved for them.
func (a *Actions) Start(door *knockdconf.Door, ip netip.Addr) {
	a.init()
	a.mu.Lock()
	defer a.mu.Unlock()
	stop := door.Stop(ip.Is6())
	holes := holesFor(door, ip)
	closes := stop != "" || len(holes) > 0
	if a.DryRun != nil {
		a.wouldRun(door, door.Start(ip.Is6()), ip, "")
		for _, h := range holes {
			fmt.Fprintf(a.DryRun, "%s: would open %s/%d for %s for %v\n", door.Name, h.Proto, h.Port, ip, door.CmdTimeout)
		}
		a.wouldRun(door, stop, ip, " after Cmd_Timeout ("+door.CmdTimeout.String()+")")
		return
	}
	if a.closed { // Shutdown came between Admit and Start
		a.take(door, -1)
		return
	}
	if closes {
		a.pending++
		a.stops++
	}
	o := a.opened(door.Name, ip, closes)
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		a.openHoles(door, holes)
		a.run(door, door.Start(ip.Is6()), ip)
		a.release(door)
		if !closes {
			return
		}
		a.mu.Lock()
		o.ClosesAt = time.Now().Add(door.CmdTimeout)
		a.mu.Unlock()
		t := time.NewTimer(door.CmdTimeout)
		select {
		case <-t.C:
		case <-a.shutdown:
			t.Stop()
		}
		a.mu.Lock()
		a.pending--
		o.Closing = true
		a.mu.Unlock()
		a.Log.Printf("%s: %s: command timeout", a.Log.Who(ip), door.Name)
		a.waitSlot(door)
		a.run(door, stop, ip)
		a.closeHoles(door, holes)
		a.release(door)
		a.mu.Lock()
		a.stops--
		a.forget(o)
		a.mu.Unlock()
	}()
}

// SetHoles sets the built-in firewall (a reload's first door with
// Open_Ports brings it).
func (a *Actions) SetHoles(h firewall.Holes) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.Holes = h
}

// HasHoles reports whether the built-in firewall is set.
func (a *Actions) HasHoles() bool { return a.firewall() != nil }

// firewall is the built-in firewall.
func (a *Actions) firewall() firewall.Holes {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.Holes
}

// holesFor is what door's Open_Ports open for ip.
func holesFor(door *knockdconf.Door, ip netip.Addr) []firewall.Rule {
	var rules []firewall.Rule
	for _, p := range door.OpenPorts {
		rules = append(rules, firewall.Rule{Src: ip, Port: p.Port, Proto: p.Proto})
	}
	return rules
}

// openHoles opens a door's holes for its Cmd_Timeout, closeHoles closes
// them; each is logged and kept in knockd status's record.
func (a *Actions) openHoles(door *knockdconf.Door, holes []firewall.Rule) {
	a.holesDo(door, holes, true)
}

func (a *Actions) closeHoles(door *knockdconf.Door, holes []firewall.Rule) {
	a.holesDo(door, holes, false)
}

func (a *Actions) holesDo(door *knockdconf.Door, holes []firewall.Rule, open bool) {
	if len(holes) == 0 {
		return
	}
	fw := a.firewall()
	verb := map[bool]string{true: "open", false: "close"}[open]
	for _, h := range holes {
		var err error
		switch {
		case fw == nil && !open:
			continue
		case fw == nil:
			err = errors.New("no firewall for Open_Ports")
		case open:
			err = fw.OpenFor(h, door.CmdTimeout)
		default:
			err = fw.Close(h)
		}
		if err != nil {
			a.Log.Printf("%s: cannot %s %s/%d for %s: %v", door.Name, verb, h.Proto, h.Port, h.Src, err)
			continue
		}
		if open {
			a.Log.Printf("%s: opened %s/%d for %s (%s, %v)", door.Name, h.Proto, h.Port, h.Src, fw.Name(), door.CmdTimeout)
		} else {
			a.Log.Printf("%s: closed %s/%d for %s", door.Name, h.Proto, h.Port, h.Src)
		}
		a.noteHole(Hole{Door: door.Name, Backend: fw.Name(), Proto: h.Proto, Port: h.Port, Source: h.Src, OpenedAt: time.Now()}, open)
	}
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
		a.mu.Lock()
		stops := a.stops
		a.mu.Unlock()
		a.Log.Printf("shutdown: commands still running after %v; %d stop command(s) not finished (their doors may stay open)", ctx.Err(), stops)
	}
}

// wouldRun writes what run would execute, for a dry run.
func (a *Actions) wouldRun(door *knockdconf.Door, cmdline string, ip netip.Addr, when string) {
	if cmdline == "" {
		return
	}
	fmt.Fprintf(a.DryRun, "%s: would run%s: %s\n", door.Name, when, strings.ReplaceAll(cmdline, "%IP%", ip.String()))
}

// run executes one command line for a door, logging as knockd 0.8 does.
func (a *Actions) run(door *knockdconf.Door, cmdline string, ip netip.Addr) {
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
	logLines(a.Log, door.Name, out, a.noteOutput)
	err = c.Wait()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		a.Log.Printf("%s: command returned non-zero status code (%d)", door.Name, exit.ExitCode())
	} else if err != nil {
		a.Log.Printf("%s: command failed: %v", door.Name, err)
	}
}

func logLines(l *Logger, door string, r io.Reader, note func(door, line string, now time.Time)) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		l.Printf("%s: command output: %s", door, sc.Text())
		note(door, sc.Text(), time.Now())
	}
}
