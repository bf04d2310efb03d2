//go:build linux

// Package lab (Linux only) builds throw-away test networks: two network namespaces, a
// client and a server, joined by a veth pair and addressed from
// 10.77.0.0/24 and fd77::/64, with no default route, so nothing a test sends
// can leave the machine. It also runs programs inside them (Debian's knockd,
// sshd, our binaries) and removes everything when the test ends.
//
// Labs need root. Without it a test is skipped with the reason, except under
// CI (CI=true), where a lab that cannot be built fails the test: CI must run
// what a laptop skips.
package lab

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// prefix starts the name of every namespace a lab makes; the PID that
// follows lets New sweep what a killed test run left behind.
const prefix = "knocklab-"

// Lab is one client host and one server host on a shared link.
type Lab struct {
	Client, Server *Host
}

// Host is one namespace of a lab. Its interface is called eth0, knockd's
// default, in both namespaces.
type Host struct {
	NS    string
	If    string
	Addr4 netip.Addr
	Addr6 netip.Addr
	t     testing.TB
}

var counter atomic.Int64

// Skip skips the test with reason, or fails it under CI, where every lab
// test must run.
func Skip(t testing.TB, reason string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("lab test cannot run under CI: %s", reason)
	}
	t.Skipf("SKIPPED lab test: %s (run as root on Linux, or `sudo make test`)", reason)
}

// debianTools are the reference programs a lab test means by these names:
// Debian's, at their paths. The test binaries of this project are
// installed first on PATH as "knock" and "knockd", so a PATH lookup would
// find those even where Debian's package is missing.
var debianTools = map[string]string{"knockd": DebianKnockd, "knock": DebianKnock}

// DebianKnock is the path of knock 0.8, the client of Debian's knockd package.
const DebianKnock = "/usr/bin/knock"

// Require checks that the machine can build labs and that every named
// program is installed, skipping (or failing under CI) otherwise.
func Require(t testing.TB, programs ...string) {
	t.Helper()
	if os.Geteuid() != 0 {
		Skip(t, "needs root to create network namespaces")
	}
	for _, p := range append([]string{"ip"}, programs...) {
		if path, ok := debianTools[p]; ok {
			if fi, err := os.Stat(path); err != nil || fi.Mode()&0o111 == 0 {
				Skip(t, fmt.Sprintf("%s (Debian's %s 0.8, package knockd) is not installed (make test installs it: see scripts/deps.sh)", path, p))
			}
			continue
		}
		if _, err := exec.LookPath(p); err != nil {
			Skip(t, fmt.Sprintf("%s is not installed (make test installs it: see scripts/deps.sh)", p))
		}
	}
}

// New builds a lab and registers its removal with t.Cleanup.
func New(t testing.TB) *Lab {
	t.Helper()
	Require(t)
	sweep()
	id := fmt.Sprintf("%s%d-%d", prefix, os.Getpid(), counter.Add(1))
	l := &Lab{
		Client: &Host{NS: id + "-c", If: "eth0", Addr4: netip.MustParseAddr("10.77.0.1"), Addr6: netip.MustParseAddr("fd77::1"), t: t},
		Server: &Host{NS: id + "-s", If: "eth0", Addr4: netip.MustParseAddr("10.77.0.2"), Addr6: netip.MustParseAddr("fd77::2"), t: t},
	}
	for _, h := range []*Host{l.Client, l.Server} {
		if out, err := exec.Command("ip", "netns", "add", h.NS).CombinedOutput(); err != nil {
			Skip(t, fmt.Sprintf("cannot create network namespace: %v: %s", err, bytes.TrimSpace(out)))
		}
		ns := h.NS
		t.Cleanup(func() { remove(ns) })
	}
	steps := [][]string{
		{"link", "add", "eth0", "netns", l.Client.NS, "type", "veth", "peer", "name", "eth0", "netns", l.Server.NS},
	}
	for _, h := range []*Host{l.Client, l.Server} {
		steps = append(steps,
			[]string{"-n", h.NS, "link", "set", "lo", "up"},
			[]string{"-n", h.NS, "link", "set", "eth0", "up"},
			[]string{"-n", h.NS, "addr", "add", h.Addr4.String() + "/24", "dev", "eth0"},
			// nodad: the address is usable at once instead of after
			// duplicate address detection.
			[]string{"-n", h.NS, "addr", "add", h.Addr6.String() + "/64", "dev", "eth0", "nodad"},
		)
	}
	for _, s := range steps {
		if out, err := exec.Command("ip", s...).CombinedOutput(); err != nil {
			t.Fatalf("lab: ip %s: %v: %s", strings.Join(s, " "), err, bytes.TrimSpace(out))
		}
	}
	return l
}

// remove kills every process still running in the namespace (such as a
// knockd child waiting to run a stop command, which has left the process
// group Start made) and deletes it.
func remove(ns string) {
	if out, err := exec.Command("ip", "netns", "pids", ns).Output(); err == nil {
		for _, f := range strings.Fields(string(out)) {
			if pid, err := strconv.Atoi(f); err == nil {
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
		}
	}
	_ = exec.Command("ip", "netns", "del", ns).Run()
}

// sweep removes namespaces left by test processes that no longer exist.
func sweep() {
	out, err := exec.Command("ip", "netns", "list").Output()
	if err != nil {
		return
	}
	for _, line := range strings.Split(string(out), "\n") {
		name, _, _ := strings.Cut(strings.TrimSpace(line), " ")
		rest, ok := strings.CutPrefix(name, prefix)
		if !ok {
			continue
		}
		pidText, _, _ := strings.Cut(rest, "-")
		pid, err := strconv.Atoi(pidText)
		if err != nil || pid == os.Getpid() {
			continue
		}
		if syscall.Kill(pid, 0) == syscall.ESRCH {
			remove(name)
		}
	}
}

// Command prepares name to run inside the host's namespace.
func (h *Host) Command(ctx context.Context, name string, args ...string) *exec.Cmd {
	return exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", h.NS, name}, args...)...)
}

// Run runs a command in the namespace to completion and returns its
// combined output; a failure fails the test.
func (h *Host) Run(name string, args ...string) string {
	h.t.Helper()
	out, err := h.Command(context.Background(), name, args...).CombinedOutput()
	if err != nil {
		h.t.Fatalf("%s: %s %s: %v\n%s", h.NS, name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// MAC is the hardware address of the host's interface.
func (h *Host) MAC() net.HardwareAddr {
	h.t.Helper()
	mac, err := net.ParseMAC(strings.TrimSpace(h.Run("cat", "/sys/class/net/"+h.If+"/address")))
	if err != nil {
		h.t.Fatalf("%s: %v", h.NS, err)
	}
	return mac
}

// Proc is a program running in the background inside a namespace.
type Proc struct {
	cmd  *exec.Cmd
	out  *syncBuffer
	done chan struct{}
}

// Start runs a command in the background. It is stopped (its whole process
// group) when the test ends, before the namespaces go.
func (h *Host) Start(name string, args ...string) *Proc {
	h.t.Helper()
	p := &Proc{out: &syncBuffer{}, done: make(chan struct{})}
	p.cmd = h.Command(context.Background(), name, args...)
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	// A child that left the process group may hold the output pipe open;
	// do not wait for it (the namespace's removal kills it).
	p.cmd.WaitDelay = time.Second
	if err := p.cmd.Start(); err != nil {
		h.t.Fatalf("%s: start %s: %v", h.NS, name, err)
	}
	go func() { _ = p.cmd.Wait(); close(p.done) }()
	h.t.Cleanup(p.Stop)
	return p
}

// Pid is the program's process ID ("ip netns exec" execs it in place).
func (p *Proc) Pid() int { return p.cmd.Process.Pid }

// Output is everything the program printed so far, as far as the test has
// read it: the output comes through a pipe, so it can lag behind what the
// program did after printing (a command it ran, a file it wrote). To see a
// line after such an effect, WaitOutput for it.
func (p *Proc) Output() string { return p.out.String() }

// Exited reports whether the program has ended.
func (p *Proc) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Signal sends sig to the program (not its group).
func (p *Proc) Signal(sig os.Signal) error { return p.cmd.Process.Signal(sig) }

// Wait waits up to limit for the program to end and returns its exit
// code, or -1 when it is still running.
func (p *Proc) Wait(limit time.Duration) int {
	select {
	case <-p.done:
		return p.cmd.ProcessState.ExitCode()
	case <-time.After(limit):
		return -1
	}
}

// Stop sends SIGTERM to the process group, then SIGKILL after two seconds.
func (p *Proc) Stop() {
	if p.Exited() {
		return
	}
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(2 * time.Second):
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.done
	}
}

// WaitOutput waits until the program has printed want, failing the test
// with what it did print when that takes longer than limit.
func (p *Proc) WaitOutput(t testing.TB, want string, limit time.Duration) {
	t.Helper()
	if !Eventually(limit, func() bool { return strings.Contains(p.Output(), want) }) {
		t.Fatalf("waited %v for %q; output so far:\n%s", limit, want, p.Output())
	}
}

// TestBinary returns the path at which testscript.Main installed the test
// binary under name: the first entry of PATH, never a system program of
// the same name (Debian's knock or knockd).
func TestBinary(t testing.TB, name string) string {
	t.Helper()
	dir, _, _ := strings.Cut(os.Getenv("PATH"), string(filepath.ListSeparator))
	p := filepath.Join(dir, name)
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("test binary %s not installed by testscript.Main: %v", name, err)
	}
	return p
}

// BuildRelease builds the main package at pkg (a path relative to the test's
// directory) the way goreleaser builds a release: without cgo, trimmed and
// stripped. It returns the binary's path, in a directory removed after the
// test, named after pkg's last element.
func BuildRelease(t testing.TB, pkg string) string {
	t.Helper()
	out, err := BuildReleaseTo(t.TempDir(), pkg)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// BuildReleaseTo is BuildRelease into dir, for a binary that outlives one
// test.
func BuildReleaseTo(dir, pkg string) (string, error) {
	out := filepath.Join(dir, filepath.Base(pkg))
	build := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w", "-o", out, pkg)
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if msg, err := build.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build %s: %v\n%s", pkg, err, msg)
	}
	return out, nil
}

// Eventually polls cond every 20ms until it holds or limit passes.
func Eventually(limit time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(limit)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// WaitFile waits until the file at path holds want (compared after
// trimming), failing the test with what it holds when limit passes.
func WaitFile(t testing.TB, path, want string, limit time.Duration) {
	t.Helper()
	var got []byte
	if !Eventually(limit, func() bool {
		got, _ = os.ReadFile(path)
		return strings.TrimSpace(string(got)) == want
	}) {
		t.Fatalf("waited %v for %s to hold %q; it holds %q", limit, filepath.Base(path), want, got)
	}
}

// WaitLines waits until the file at path holds exactly the lines want,
// in any order: commands of different knockers run side by side, so
// their lines may land in either order.
func WaitLines(t testing.TB, path string, want []string, limit time.Duration) {
	t.Helper()
	sorted := slices.Sorted(slices.Values(want))
	var got []byte
	if !Eventually(limit, func() bool {
		got, _ = os.ReadFile(path)
		lines := strings.Fields(string(got))
		slices.Sort(lines)
		return slices.Equal(lines, sorted)
	}) {
		t.Fatalf("waited %v for %s to hold the lines %q in any order; it holds %q", limit, filepath.Base(path), want, got)
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// WaitListening waits until something on h listens on TCP addr:port,
// so that a test's first connection does not race the listener's start
// (nc -l, a page, a daemon): a refused connection would read as a closed
// door.
func (h *Host) WaitListening(t testing.TB, addr netip.Addr, port uint16) {
	t.Helper()
	want := netip.AddrPortFrom(addr, port).String()
	if !Eventually(5*time.Second, func() bool {
		return strings.Contains(h.Run("ss", "-Hltn", "sport = :"+strconv.Itoa(int(port))), want)
	}) {
		t.Fatalf("nothing listens on tcp %s in %s:\n%s", want, h.NS, h.Run("ss", "-ltn"))
	}
}
