//go:build linux

package knockdcmd

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/knocktools/knock/internal/lab"
	"github.com/knocktools/knock/server"
)

// TestClientsAgainstOurKnockd knocks our knockd with knock 0.8's client and
// with ours, over IPv4 and IPv6, with plain and custom TCP flags.
func TestClientsAgainstOurKnockd(t *testing.T) {
	lab.Require(t, "knock")
	l := lab.New(t)
	kd := l.Server.StartKnockd(t, ourKnockd(t), lab.Fixture(t, "clients.conf"), nil)
	srv4 := l.Server.Addr4.String()

	l.Client.Run("/usr/bin/knock", srv4, "7101", "7102:udp", "7103")
	l.Client.Run(ourKnock(t), srv4, "7001", "7002:udp", "7003")
	l.Client.Run(ourKnock(t), "--flags", "fin", srv4, "7201", "7202")
	l.Client.Run("/usr/bin/knock", "-6", l.Server.Addr6.String(), "7301", "7302:udp")
	for door, who := range map[string]string{"theirs": l.Client.Addr4.String(), "ours": l.Client.Addr4.String(),
		"flags": l.Client.Addr4.String(), "six": l.Client.Addr6.String()} {
		lab.WaitFile(t, kd.DoorFile(door), who, 5*time.Second)
	}
	log, _ := os.ReadFile(kd.DoorFile("knockd.log"))
	for _, want := range []string{"] starting up, listening on eth0", "] 10.77.0.1: ours: Stage 1", "] 10.77.0.1: ours: OPEN SESAME",
		"] ours: running command: echo 10.77.0.1 >> "} {
		if !strings.Contains(string(log), want) {
			t.Errorf("knockd.log lacks %q:\n%s", want, log)
		}
	}
}

// TestSignals checks SIGHUP (reload; a bad config keeps the old one),
// SIGUSR1 (counters) and SIGTERM (pending stop commands run before knockd
// exits).
func TestSignals(t *testing.T) {
	lab.Require(t)
	l := lab.New(t)
	conf := lab.Fixture(t, "signals.conf")
	kd := l.Server.StartKnockd(t, ourKnockd(t), conf, nil)
	srv4, me := l.Server.Addr4.String(), l.Client.Addr4.String()

	// SIGHUP with a new door: the new door works.
	second := strings.ReplaceAll(conf, "@DIR@", kd.Dir) + "[second]\n\tsequence = 7101,7102\n\tcommand = echo %IP% >> " + kd.Dir + "/second\n"
	writeFile(t, kd.Conf, second)
	if err := kd.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	kd.WaitOutput(t, "re-read "+kd.Conf+": 2 doors", 5*time.Second)
	l.Client.Run(ourKnock(t), srv4, "7101", "7102")
	lab.WaitFile(t, kd.DoorFile("second"), me, 5*time.Second)

	// SIGHUP with a broken config: reported, the running doors stay.
	writeFile(t, kd.Conf, second+"[broken]\n\tsequence = 7000,abc\n")
	if err := kd.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	kd.WaitOutput(t, "keeping the running configuration", 5*time.Second)
	if kd.Exited() {
		t.Fatal("knockd exited on a bad config")
	}
	l.Client.Run(ourKnock(t), srv4, "7001", "7002")
	lab.WaitFile(t, kd.DoorFile("first"), "open "+me, 5*time.Second)

	// SIGUSR1: a status line with the counters, kernel drops included.
	if err := kd.Signal(syscall.SIGUSR1); err != nil {
		t.Fatal(err)
	}
	kd.WaitOutput(t, " dropped by the kernel, ", 5*time.Second)
	kd.WaitOutput(t, "1 stop commands pending", time.Second)

	// SIGTERM: the pending stop command (an hour away) runs now.
	if err := kd.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := kd.Wait(10 * time.Second); code != 0 {
		t.Fatalf("knockd exit status %d after SIGTERM\n%s", code, kd.Output())
	}
	lab.WaitFile(t, kd.DoorFile("first"), "open "+me+"\nclose "+me, time.Second)
}

// TestInterfaceComesLateAndGoesDown starts knockd on an interface that does
// not exist yet, then brings it in (by renaming the lab's link), takes it
// down and up again: knockd keeps running and the door keeps opening.
func TestInterfaceComesLateAndGoesDown(t *testing.T) {
	lab.Require(t)
	l := lab.New(t)
	dir := t.TempDir()
	conf := dir + "/knockd.conf"
	writeFile(t, conf, "[late]\n\tsequence = 7001,7002\n\tcommand = echo %IP% >> "+dir+"/late\n")
	kd := l.Server.Start(ourKnockd(t), "-i", "late0", "-c", conf, "-v", "--status-socket", dir+"/status.sock")
	kd.WaitOutput(t, "cannot capture on late0", 10*time.Second)
	kd.WaitOutput(t, "interface late0 does not exist (yet): waiting for it to appear", 10*time.Second)
	if strings.Contains(kd.Output(), "listening on late0") {
		t.Fatalf("knockd says it listens on a missing interface:\n%s", kd.Output())
	}

	l.Server.Run("ip", "link", "set", "eth0", "down")
	l.Server.Run("ip", "link", "set", "eth0", "name", "late0")
	l.Server.Run("ip", "link", "set", "late0", "up")
	l.Server.Run("ip", "addr", "replace", l.Server.Addr4.String()+"/24", "dev", "late0")
	me, srv := l.Client.Addr4.String(), l.Server.Addr4.String()
	// The capture is retried with a growing pause; knock until it is seen.
	opened := func(want string) bool {
		return lab.Eventually(40*time.Second, func() bool {
			l.Client.Run(ourKnock(t), srv, "7001", "7002")
			b, _ := os.ReadFile(dir + "/late")
			return strings.TrimSpace(string(b)) != "" && strings.HasSuffix(strings.TrimSpace(string(b)), want)
		})
	}
	if !opened(me) {
		t.Fatalf("door never opened on the late interface:\n%s", kd.Output())
	}
	before, _ := os.ReadFile(dir + "/late")
	l.Server.Run("ip", "link", "set", "late0", "down")
	time.Sleep(500 * time.Millisecond)
	l.Server.Run("ip", "link", "set", "late0", "up")
	l.Server.Run("ip", "addr", "replace", l.Server.Addr4.String()+"/24", "dev", "late0")
	if !lab.Eventually(40*time.Second, func() bool {
		l.Client.Run(ourKnock(t), srv, "7001", "7002")
		b, _ := os.ReadFile(dir + "/late")
		return len(b) > len(before)
	}) {
		t.Fatalf("door did not open after the interface came back:\n%s", kd.Output())
	}
	if kd.Exited() {
		t.Fatalf("knockd exited:\n%s", kd.Output())
	}
}

// TestDaemonMode runs knockd -d: it returns at once, the daemon writes its
// PidFile and log, opens doors, and on SIGTERM logs its end and removes
// the PidFile.
func TestDaemonMode(t *testing.T) {
	lab.Require(t)
	l := lab.New(t)
	dir := t.TempDir()
	conf, pid := dir+"/knockd.conf", dir+"/knockd.pid"
	writeFile(t, conf, "[options]\n\tLogFile = "+dir+"/knockd.log\n\tPidFile = "+pid+"\n[d]\n\tsequence = 7001,7002\n\tcommand = echo %IP% >> "+dir+"/d\n")
	l.Server.Run(ourKnockd(t), "-d", "-i", "eth0", "-c", conf, "--status-socket", dir+"/status.sock")
	var daemon int
	if !lab.Eventually(5*time.Second, func() bool {
		b, err := os.ReadFile(pid)
		if err != nil {
			return false
		}
		daemon, err = strconv.Atoi(strings.TrimSpace(string(b)))
		return err == nil
	}) {
		t.Fatal("no PidFile written")
	}
	t.Cleanup(func() { _ = syscall.Kill(daemon, syscall.SIGKILL) })
	if !lab.Eventually(5*time.Second, func() bool {
		b, _ := os.ReadFile(dir + "/knockd.log")
		return strings.Contains(string(b), "starting up, listening on eth0")
	}) {
		t.Fatal("daemon did not start listening")
	}
	l.Client.Run(ourKnock(t), l.Server.Addr4.String(), "7001", "7002")
	lab.WaitFile(t, dir+"/d", l.Client.Addr4.String(), 5*time.Second)
	if err := syscall.Kill(daemon, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if !lab.Eventually(5*time.Second, func() bool { _, err := os.Stat(pid); return os.IsNotExist(err) }) {
		t.Fatal("PidFile left behind after SIGTERM")
	}
	if b, _ := os.ReadFile(dir + "/knockd.log"); !strings.Contains(string(b), "] shutting down") {
		t.Fatalf("no shutdown logged:\n%s", b)
	}
}

// TestTimeBasedKnockInLab knocks a time-based door of our knockd with our
// client and a profile holding the same secret: a fresh knock opens; the
// same sequence again in its window is refused; a client whose clock is
// two windows behind is not let in, one window behind is.
func TestTimeBasedKnockInLab(t *testing.T) {
	lab.Require(t)
	l := lab.New(t)
	const secret, period = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", 4 * time.Second
	conf := "[options]\n\tLogFile = @DIR@/knockd.log\n\tStateDir = @DIR@\n[totp]\n\tsequence_secret = " + secret +
		"\n\tsequence_period = 4\n\tseq_timeout = 3\n\tcommand = echo %IP% >> @DIR@/totp\n"
	kd := l.Server.StartKnockd(t, ourKnockd(t), conf, nil)
	cfg := filepath.Join(t.TempDir(), "config.yaml")
	knockBin := ourKnock(t)
	l.Server.Run(knockBin, "--config", cfg, "profile", "add", "totp", "--host", l.Server.Addr4.String(),
		"--secret", secret, "--period", "4s")
	knock := func(args ...string) { l.Client.Run(knockBin, append([]string{"--config", cfg, "totp"}, args...)...) }
	me := l.Client.Addr4.String()
	opened := func() int {
		b, _ := os.ReadFile(kd.DoorFile("totp"))
		return len(strings.Fields(string(b)))
	}

	// Start at the beginning of a window, so every knock below falls in it.
	for time.Now().UnixMilli()%period.Milliseconds() > 500 {
		time.Sleep(50 * time.Millisecond)
	}
	knock("-v")
	if !lab.Eventually(2*time.Second, func() bool { return opened() == 1 }) {
		t.Fatalf("the door did not open:\n%s", kd.Output())
	}
	knock() // the same sequence again, in its window: a replay
	kd.WaitOutput(t, "already used: refused (a replay?)", 2*time.Second)
	knock("--clock-offset", "-8s") // two windows behind: not accepted
	knock("--clock-offset", "-4s") // one window behind: accepted
	lab.WaitFile(t, kd.DoorFile("totp"), me+"\n"+me, 2*time.Second)
	if n := opened(); n != 2 {
		t.Fatalf("door opened %d times, want 2\n%s", n, kd.Output())
	}
}

// TestStatus asks a running knockd what it has open: a door opened through
// knockd fw with its stop command an hour away, a door without a stop
// command, a knocker halfway through a third door; and the socket refuses
// a user other than root, at the file's mode and, the mode loosened, at
// the peer's credentials.
func TestStatus(t *testing.T) {
	lab.Require(t, "nft", "setpriv")
	l := lab.New(t)
	knockd := ourKnockd(t)
	conf := strings.ReplaceAll(lab.Fixture(t, "status.conf"), "@KNOCKD@", knockd)
	kd := l.Server.StartKnockd(t, knockd, conf, nil)
	srv, me := l.Server.Addr4.String(), l.Client.Addr4.String()
	l.Client.Run(ourKnock(t), srv, "7001", "7002")
	l.Client.Run(ourKnock(t), srv, "7101", "7102")
	l.Client.Run(ourKnock(t), srv, "7201", "7202")

	status := func(args ...string) (string, error) {
		out, err := l.Server.Command(t.Context(), knockd, append([]string{"status", "--socket", kd.StatusSocket()}, args...)...).CombinedOutput()
		return string(out), err
	}
	var st server.Status
	if !lab.Eventually(10*time.Second, func() bool {
		out, err := status("--json")
		if err != nil || json.Unmarshal([]byte(out), &st) != nil {
			return false
		}
		return len(st.Holes) == 1 && len(st.Doors) == 3 && len(st.Doors[0].Open) == 1 && !st.Doors[0].Open[0].ClosesAt.IsZero() &&
			len(st.Doors[1].Open) == 1 && st.Doors[2].Knockers == 1
	}) {
		out, err := status("--json")
		t.Fatalf("status never showed the open door, the hole and the knocker: %v\n%s\nknockd:\n%s", err, out, kd.Output())
	}
	open := st.Doors[0].Open[0]
	if open.Source != netip.MustParseAddr(me) || time.Until(open.ClosesAt) < 59*time.Minute || open.NoStop || st.Pending != 1 {
		t.Errorf("ssh's opening %+v, pending %d", open, st.Pending)
	}
	if h := st.Holes[0]; h.Backend != "nftables" || h.Proto != "tcp" || h.Port != 22 || h.Source != netip.MustParseAddr(me) || h.Door != "ssh" {
		t.Errorf("hole %+v", h)
	}
	if !st.Doors[1].Open[0].NoStop {
		t.Errorf("touch's opening %+v", st.Doors[1].Open[0])
	}
	if len(st.Captures) != 1 || st.Captures[0].Interface != l.Server.If || st.Captures[0].Frames == 0 || !st.Captures[0].Capturing {
		t.Errorf("captures %+v", st.Captures)
	}
	if st.Config != kd.Conf || st.Counters.Opened != 2 || st.PID == 0 {
		t.Errorf("config %q, counters %+v, pid %d", st.Config, st.Counters, st.PID)
	}
	// What a person reads; -v names the knocker at the third door.
	out, err := status("-v")
	for _, want := range []string{"[ssh] sequence: 1 open, 0 knocking", me, "closes ", "[touch] sequence: 1 open", "no stop_command",
		"knocking: 2 of 3 knocks", "1 stop command(s) pending", "nftables tcp/22 for " + me + ", door [ssh]"} {
		if !strings.Contains(out, want) {
			t.Errorf("knockd status -v lacks %q: %v\n%s", want, err, out)
		}
	}

	// Not root: the socket's mode keeps the user out ...
	nobody := func() (string, error) {
		bin := filepath.Join(worldDir(t), "knockd")
		copyFile(t, knockd, bin)
		out, err := l.Server.Command(t.Context(), "setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", bin, "status", "--socket", kd.StatusSocket()).CombinedOutput()
		return string(out), err
	}
	if out, err := nobody(); err == nil || !strings.Contains(out, "permission denied: knockd status is root's only") {
		t.Errorf("a user other than root: %v\n%s", err, out)
	}
	// ... and, the mode loosened, knockd refuses the peer.
	for _, p := range []string{filepath.Dir(kd.Dir), kd.Dir, kd.StatusSocket()} {
		if err := os.Chmod(p, 0o777); err != nil {
			t.Fatal(err)
		}
	}
	if out, err := nobody(); err == nil || !strings.Contains(out, "knockd status is root's only (uid 65534 asked)") {
		t.Errorf("a user other than root, the socket open to all: %v\n%s", err, out)
	}
}

// worldDir is a directory every user may enter and read.
func worldDir(t *testing.T) string {
	dir, err := os.MkdirTemp("", "knockd-world-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

func copyFile(t *testing.T, from, to string) {
	data, err := os.ReadFile(from)
	if err == nil {
		err = os.WriteFile(to, data, 0o755)
	}
	if err != nil {
		t.Fatal(err)
	}
}

// TestSPADoors runs knockd on an fwknopd user's files alone (no
// knockd.conf) and opens its doors with fwknop's own client across the
// lab: a stanza that runs commands (with fwknopd's variables), one that
// opens the firewall itself and closes it after its timeout; a replayed
// packet is refused.
func TestSPADoors(t *testing.T) {
	lab.Require(t, "fwknop", "iptables", "nc")
	l := lab.New(t)
	dir := t.TempDir()
	for name, fixture := range map[string]string{"access.conf": "spa-access.conf", "access-2222.conf": "spa-2222-access.conf", "fwknopd.conf": "spa-fwknopd.conf"} {
		text := strings.ReplaceAll(lab.Fixture(t, fixture), "@DIR@", dir)
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	kd := l.Server.Start(ourKnockd(t), "--fwknopd-conf", filepath.Join(dir, "fwknopd.conf"), "--access-conf", filepath.Join(dir, "access.conf"),
		"-v", "--status-socket", filepath.Join(dir, "status.sock"))
	kd.WaitOutput(t, "listening on eth0", 10*time.Second)
	me, srv := l.Client.Addr4.String(), l.Server.Addr4.String()
	fwknop := func(key, hmac, access string, extra ...string) {
		t.Helper()
		args := append([]string{"-A", access, "-a", me, "-D", srv, "--key-base64-rijndael", key, "--key-base64-hmac", hmac, "--rc-file", os.DevNull}, extra...)
		if out, err := l.Client.Command(t.Context(), "fwknop", args...).CombinedOutput(); err != nil {
			t.Fatalf("fwknop %v: %v\n%s", args, err, out)
		}
	}

	// The command cycle: open at once, close CMD_CYCLE_TIMER later.
	packet := filepath.Join(dir, "packet")
	fwknop("dGhpcy1pcy1hLTMyLWJ5dGUta2V5LWZvci10ZXN0cyE=", "aG1hYy1rZXktZm9yLWZ3a25vcC1jbGllbnQtdGVzdHMtaW4tc3BhZG9vcg==", "tcp/22", "--save-packet", packet)
	// fwknopd's $PROTO is the protocol's number, its $TIMEOUT the
	// packet's time plus the client's timeout (none here: the script
	// writes how far off it is, in tens of seconds).
	want := "open " + me + " 6/22 0\nclose " + me + "\n"
	if !lab.Eventually(10*time.Second, func() bool { b, _ := os.ReadFile(filepath.Join(dir, "cycle")); return string(b) == want }) {
		b, _ := os.ReadFile(filepath.Join(dir, "cycle"))
		t.Fatalf("the command cycle wrote %q, want %q\n%s", b, want, kd.Output())
	}

	// The same packet again: a replay.
	l.Client.Run("sh", "-c", "tr -d '\\n' < "+packet+" | nc -u -w1 "+srv+" 62201")
	kd.WaitOutput(t, me+": spa: Replay detected from source IP: "+me, 10*time.Second)

	// A port the stanza does not open is refused with fwknopd's words.
	fwknop("dGhpcy1pcy1hLTMyLWJ5dGUta2V5LWZvci10ZXN0cyE=", "aG1hYy1rZXktZm9yLWZ3a25vcC1jbGllbnQtdGVzdHMtaW4tc3BhZG9vcg==", "tcp/23")
	kd.WaitOutput(t, "(stanza #1) One or more requested protocol/ports was denied per access.conf.", 10*time.Second)

	// The second stanza's keys: the first stanza refuses (its HMAC), the
	// second opens tcp/2222 in iptables, which closes after its timeout;
	// opened again, SIGTERM closes it before knockd exits.
	second := func() {
		fwknop("YW5vdGhlci0zMi1ieXRlLWtleS1mb3ItdGhlLWxhYiE=", "c2Vjb25kLWhtYWMta2V5LWZvci10aGUtc3BhLWxhYi10ZXN0cy1vZi1rbm9ja2Q=", "tcp/2222")
	}
	rule := func() bool {
		return strings.Contains(l.Server.Run("iptables", "-S", "INPUT"), "-s "+me+"/32 -p tcp -m tcp --dport 2222")
	}
	for _, stop := range []string{"timeout", "SIGTERM"} {
		second()
		if !lab.Eventually(10*time.Second, rule) {
			t.Fatalf("no iptables rule for the second stanza:\n%s\n%s", l.Server.Run("iptables", "-S"), kd.Output())
		}
		if stop == "SIGTERM" {
			st, err := l.Server.Command(t.Context(), ourKnockd(t), "status", "--json", "--socket", filepath.Join(dir, "status.sock")).CombinedOutput()
			if err != nil || !strings.Contains(string(st), `"name":"spa#2","kind":"spa","open":[{"source":"`+me+`"`) {
				t.Errorf("knockd status of the SPA door: %v\n%s", err, st)
			}
			if err := kd.Signal(syscall.SIGTERM); err != nil {
				t.Fatal(err)
			}
			kd.Wait(10 * time.Second)
			if rule() { // at once: well within the door's 3 s
				t.Fatalf("knockd exited with its SPA door open:\n%s", l.Server.Run("iptables", "-S"))
			}
		}
		if !lab.Eventually(10*time.Second, func() bool { return !rule() }) {
			t.Fatalf("the rule outlived its door (%s):\n%s", stop, l.Server.Run("iptables", "-S"))
		}
	}
	if out := kd.Output(); !strings.Contains(out, "(stanza #2) SPA packet accepted: tcp/2222 for "+me+", 3s") {
		t.Errorf("no acceptance line:\n%s", out)
	}
	// The digest cache, in fwknopd's format, holds the packets taken.
	if data, err := os.ReadFile(filepath.Join(dir, "digest.cache")); err != nil || strings.Count(string(data), " 17 "+me+" ") < 2 {
		t.Errorf("digest.cache: %v\n%s", err, data)
	}
	// Started again, knockd still refuses the first packet as a replay:
	// it read the cache back.
	again := l.Server.Start(ourKnockd(t), "--fwknopd-conf", filepath.Join(dir, "fwknopd.conf"), "--access-conf", filepath.Join(dir, "access.conf"),
		"-v", "--status-socket", filepath.Join(dir, "status.sock"))
	again.WaitOutput(t, "listening on eth0", 10*time.Second)
	l.Client.Run("sh", "-c", "tr -d '\\n' < "+packet+" | nc -u -w1 "+srv+" 62201")
	again.WaitOutput(t, me+": spa: Replay detected from source IP: "+me, 10*time.Second)
}

// spaDiff is one packet of TestSPADifferential: what fwknop's client is
// given, and what each server does with it ("" for nothing).
type spaDiff struct {
	name          string
	args          []string // fwknop's, besides -D and the keys
	theirs, ours  string   // the line the stanza's command writes, "" for none
	differenceWhy string   // where ours differs from fwknopd 2.6.10 by design
	send          func(packet string) string
}

// spaDaemon is fwknopd or our knockd serving SPA in a lab, with its
// files in dir; the stanzas' command records what each opens.
type spaDaemon struct {
	*lab.Proc
	dir string
}

// opened is what the daemon's stanzas opened, a line each: "$SRC $PROTO
// $PORT" and $TIMEOUT as how far off now it is, in tens of seconds.
func (d spaDaemon) opened() []string { return d.lines("opened") }

// openedRaw is opened with $TIMEOUT as it was given.
func (d spaDaemon) openedRaw() []string { return d.lines("opened-raw") }

func (d spaDaemon) lines(file string) []string {
	b, _ := os.ReadFile(filepath.Join(d.dir, file))
	return strings.Split(strings.TrimSpace(string(b)), "\n")
}

// startSPAPair starts fwknopd 2.6.10 and our knockd on the lab server's
// eth0 with the same files: fwknopd.conf's lines besides the interface
// and port, and the stanzas (to each of which the recorder is added as
// its CMD_CYCLE_OPEN).
func startSPAPair(t *testing.T, l *lab.Lab, conf string, stanzas ...string) (theirs, ours spaDaemon) {
	t.Helper()
	start := func(ours bool) spaDaemon {
		dir := t.TempDir()
		// $4, fwknopd's $TIMEOUT, is the packet's time plus the client's
		// timeout: written as how far off that is, in tens of seconds.
		rec := filepath.Join(dir, "rec.sh")
		// opened-raw gets $4 as it is, for packets of a fixed time.
		if err := os.WriteFile(rec, []byte("#!/bin/sh\necho \"$1 $2 $3 $(( ($4 - $(date +%s) + 5) / 10 * 10 ))\" >> "+filepath.Join(dir, "opened")+
			"\necho \"$1 $2 $3 $4\" >> "+filepath.Join(dir, "opened-raw")+"\n"), 0o755); err != nil {
			t.Fatal(err)
		}
		var access strings.Builder
		for _, stanza := range stanzas {
			access.WriteString(stanza + "CMD_CYCLE_OPEN " + rec + " $SRC $PROTO $PORT $TIMEOUT\nCMD_CYCLE_CLOSE NONE\n\n")
		}
		files := map[string]string{
			"access.conf":  access.String(),
			"fwknopd.conf": "PCAP_INTF eth0;\nPCAP_FILTER udp port 62201;\nENABLE_PCAP_PROMISC N;\nFWKNOP_RUN_DIR " + dir + ";\n" + conf,
		}
		for name, text := range files {
			writeFile(t, filepath.Join(dir, name), text)
		}
		if ours {
			p := l.Server.Start(ourKnockd(t), "--fwknopd-conf", filepath.Join(dir, "fwknopd.conf"), "--access-conf", filepath.Join(dir, "access.conf"),
				"-v", "--status-socket", filepath.Join(dir, "status.sock"))
			p.WaitOutput(t, "listening on eth0", 10*time.Second)
			return spaDaemon{p, dir}
		}
		p := l.Server.Start("fwknopd", "-f", "-v", "-c", filepath.Join(dir, "fwknopd.conf"), "-a", filepath.Join(dir, "access.conf"),
			"-d", filepath.Join(dir, "digest.cache"), "-p", filepath.Join(dir, "fwknopd.pid"))
		p.WaitOutput(t, "Starting fwknopd main event loop", 15*time.Second)
		return spaDaemon{p, dir}
	}
	return start(false), start(true)
}

// TestSPADifferential shows fwknopd 2.6.10 and our knockd the same
// packets, sniffing the same interface with the same access.conf, and
// compares what each opened: every decision is the same but where
// fwknopd is wrong, each such difference listed with why.
func TestSPADifferential(t *testing.T) {
	lab.Require(t, "fwknop", "fwknopd", "nc")
	l := lab.New(t)
	const key, hmac = "dGhpcy1pcy1hLTMyLWJ5dGUta2V5LWZvci10ZXN0cyE=", "aG1hYy1rZXktZm9yLWZ3a25vcC1jbGllbnQtdGVzdHMtaW4tc3BhZG9vcg=="
	theirs, ours := startSPAPair(t, l, "", "SOURCE ANY\nKEY_BASE64 "+key+"\nHMAC_KEY_BASE64 "+hmac+"\nOPEN_PORTS tcp/22\nMAX_FW_TIMEOUT 60\nREQUIRE_SOURCE_ADDRESS Y\n")
	srv := l.Server.Addr4.String()
	fwknop := func(args ...string) string {
		t.Helper()
		file := filepath.Join(t.TempDir(), "packet")
		args = append([]string{"-D", srv, "--rc-file", os.DevNull, "--save-packet", file}, args...)
		if out, err := l.Client.Command(t.Context(), "fwknop", args...).CombinedOutput(); err != nil {
			t.Fatalf("fwknop %v: %v\n%s", args, err, out)
		}
		b, _ := os.ReadFile(file)
		return strings.TrimSpace(string(b))
	}
	keys := []string{"--key-base64-rijndael", key, "--key-base64-hmac", hmac}
	raw := func(data string) {
		l.Client.Run("sh", "-c", "printf %s '"+data+"' | nc -u -w1 "+srv+" 62201")
	}
	var first string
	cases := []spaDiff{
		{name: "taken", args: append([]string{"-A", "tcp/22", "-a", "10.77.1.1"}, keys...), theirs: "10.77.1.1 6 22 0", ours: "10.77.1.1 6 22 0"},
		{name: "a port OPEN_PORTS lacks", args: append([]string{"-A", "tcp/23", "-a", "10.77.1.2"}, keys...), theirs: "10.77.1.2 6 23 0",
			differenceWhy: "fwknopd 2.6.10 runs CMD_CYCLE_OPEN before its OPEN_PORTS check"},
		{name: "a client timeout past MAX_FW_TIMEOUT", args: append([]string{"-A", "tcp/22", "-a", "10.77.1.3", "-f", "1000"}, keys...),
			theirs: "10.77.1.3 6 22 1000", ours: "10.77.1.3 6 22 60", differenceWhy: "fwknopd 2.6.10 does not cap the client's timeout for CMD_CYCLE_OPEN"},
		{name: "wrong HMAC key", args: []string{"-A", "tcp/22", "-a", "10.77.1.4", "--key-base64-rijndael", key, "--key-base64-hmac", "d3Jvbmctd3Jvbmctd3Jvbmctd3Jvbmctd3Jvbmctd3Jvbmc="}},
		{name: "a replay", send: func(string) string { return first }},
		{name: "too old", args: append([]string{"-A", "tcp/22", "-a", "10.77.1.6", "--time-offset-minus", "300s"}, keys...)},
		{name: "0.0.0.0 where a source is required", args: append([]string{"-A", "tcp/22", "-s"}, keys...)},
		{name: "a bit flipped", args: append([]string{"-A", "tcp/22", "-a", "10.77.1.8"}, keys...), send: func(p string) string {
			b := []byte(p)
			b[len(b)/2] ^= 1
			if b[len(b)/2] == '+' || b[len(b)/2] == '/' { // stay in base64's alphabet
				b[len(b)/2] = 'A'
			}
			return string(b)
		}},
		{name: "the last, taken", args: append([]string{"-A", "tcp/22", "-a", "10.77.1.9"}, keys...), theirs: "10.77.1.9 6 22 0", ours: "10.77.1.9 6 22 0"},
	}
	for i, c := range cases {
		switch {
		case c.send == nil: // fwknop sends it
			if p := fwknop(c.args...); i == 0 {
				first = p
			}
		case c.args == nil:
			raw(c.send(""))
		default: // made, not sent, by fwknop; changed, then sent
			raw(c.send(fwknop(append(c.args, "--test")...)))
		}
		time.Sleep(300 * time.Millisecond)
	}
	done := func(d spaDaemon) bool { return slices.Contains(d.opened(), "10.77.1.9 6 22 0") }
	if !lab.Eventually(15*time.Second, func() bool { return done(theirs) && done(ours) }) {
		t.Fatalf("the last packet did not open both:\nfwknopd %q\nknockd %q\n%s\n%s", theirs.opened(), ours.opened(), theirs.Output(), ours.Output())
	}
	var wantTheirs, wantOurs []string
	for _, c := range cases {
		if c.theirs != "" {
			wantTheirs = append(wantTheirs, c.theirs)
		}
		if c.ours != "" {
			wantOurs = append(wantOurs, c.ours)
		}
		if c.differenceWhy != "" {
			t.Logf("difference by design, %s: fwknopd %q, knockd %q (%s)", c.name, c.theirs, c.ours, c.differenceWhy)
		}
	}
	if got := theirs.opened(); strings.Join(got, "|") != strings.Join(wantTheirs, "|") {
		t.Errorf("fwknopd opened %q, want %q (has fwknopd changed?)\n%s", got, wantTheirs, theirs.Output())
	}
	if got := ours.opened(); strings.Join(got, "|") != strings.Join(wantOurs, "|") {
		t.Errorf("knockd opened %q, want %q\n%s", got, wantOurs, ours.Output())
	}
}

// TestSPAFwknopVectors shows fwknopd 2.6.10 and our knockd the packets
// of fwknop's own test suite with their key (legacy IV mode, aging off, as
// there): the hostile ones of its Rijndael fuzzing test, each refused by
// both for the same reason, and the legacy-IV packets of its
// backwards-compatibility test, each opened by both.
func TestSPAFwknopVectors(t *testing.T) {
	lab.Require(t, "fwknopd", "nc")
	l := lab.New(t)
	theirs, ours := startSPAPair(t, l, "ENABLE_SPA_PACKET_AGING N;\n", "SOURCE ANY\nKEY fwknoptest\nFW_ACCESS_TIMEOUT 3\nENCRYPTION_MODE legacy\n")
	var hostile, legacy [][]string
	for _, file := range []struct {
		path   string
		fields int
		into   *[][]string
	}{{"../../spadoor/testdata/fwknop-fuzzing.txt", 3, &hostile}, {"../../spa/testdata/fwknop-test-suite.txt", 5, &legacy}} {
		data, err := os.ReadFile(file.path)
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(string(data), "\n") {
			if f := strings.Split(line, "|"); len(f) == file.fields && !strings.HasPrefix(line, "#") {
				*file.into = append(*file.into, f)
			}
		}
	}
	srv := l.Server.Addr4.String()
	send := func(data string) {
		l.Client.Run("sh", "-c", "printf %s '"+data+"' | nc -u -w1 "+srv+" 62201")
		time.Sleep(200 * time.Millisecond)
	}
	var wantOpened []string
	for _, v := range hostile {
		send(v[1])
	}
	for _, v := range legacy {
		if v[1] == "legacy" && v[2] == "fwknoptest" {
			send(v[4])
			wantOpened = append(wantOpened, v[0])
		}
	}
	// The refusals, in order: fwknopd's words, and ours (which go on
	// with what was wrong, in parentheses).
	reasons := regexp.MustCompile(`\(stanza #1\) (Error creating fko context: Args contain invalid data: \w+|No stanza encryption mode match[^.]*)`)
	refusals := func(d spaDaemon) []string {
		var out []string
		for _, m := range reasons.FindAllStringSubmatch(d.Output(), -1) {
			out = append(out, m[1])
		}
		return out
	}
	if !lab.Eventually(10*time.Second, func() bool {
		return len(refusals(theirs)) == len(hostile) && len(theirs.opened()) == len(wantOpened) && len(ours.opened()) == len(wantOpened)
	}) {
		t.Fatalf("fwknopd: %d refusals, opened %q; knockd: %d refusals, opened %q; want %d and %d\n%s\n%s",
			len(refusals(theirs)), theirs.opened(), len(refusals(ours)), ours.opened(), len(hostile), len(wantOpened), theirs.Output(), ours.Output())
	}
	gotTheirs, gotOurs := refusals(theirs), refusals(ours)
	for i, v := range hostile {
		if !strings.Contains(gotTheirs[i], v[2]) {
			t.Errorf("%s: fwknopd said %q, its suite expects %q (has fwknopd changed?)", v[0], gotTheirs[i], v[2])
		}
		if i >= len(gotOurs) || gotOurs[i] != gotTheirs[i] {
			t.Errorf("%s: fwknopd said %q, knockd %q", v[0], gotTheirs[i], gotOurs[min(i, len(gotOurs)-1)])
		}
	}
	// $TIMEOUT as given: these packets' times are fixed, and $TIMEOUT is
	// the packet's time plus the stanza's FW_ACCESS_TIMEOUT.
	if th, ou := theirs.openedRaw(), ours.openedRaw(); !slices.Equal(th, ou) {
		t.Errorf("the legacy-IV packets %q: fwknopd opened %q, knockd %q", wantOpened, th, ou)
	}
}

// TestSPASockets: fwknopd.conf's ENABLE_UDP_SERVER and ENABLE_TCP_SERVER
// take SPA packets through plain sockets, from fwknop's client over UDP
// and TCP and from knock's (server_proto: tcp).
func TestSPASockets(t *testing.T) {
	lab.Require(t, "fwknop")
	l := lab.New(t)
	dir := t.TempDir()
	const key, hmac = "dGhpcy1pcy1hLTMyLWJ5dGUta2V5LWZvci10ZXN0cyE=", "aG1hYy1rZXktZm9yLWZ3a25vcC1jbGllbnQtdGVzdHMtaW4tc3BhZG9vcg=="
	files := map[string]string{
		"access.conf": "SOURCE ANY\nKEY_BASE64 " + key + "\nHMAC_KEY_BASE64 " + hmac + "\nREQUIRE_SOURCE_ADDRESS Y\n" +
			"CMD_CYCLE_OPEN echo $SRC $PROTO $PORT >> " + dir + "/opened\nCMD_CYCLE_CLOSE NONE\n",
		"fwknopd.conf": "PCAP_INTF eth0;\nENABLE_UDP_SERVER Y;\nENABLE_TCP_SERVER Y;\nFWKNOP_RUN_DIR " + dir + ";\n",
	}
	for name, text := range files {
		writeFile(t, filepath.Join(dir, name), text)
	}
	kd := l.Server.Start(ourKnockd(t), "--fwknopd-conf", filepath.Join(dir, "fwknopd.conf"), "--access-conf", filepath.Join(dir, "access.conf"),
		"-v", "--status-socket", filepath.Join(dir, "status.sock"))
	kd.WaitOutput(t, "listening on eth0", 10*time.Second)
	srv := l.Server.Addr4.String()
	for _, c := range []struct{ proto, allow string }{{"udp", "10.77.2.1"}, {"tcp", "10.77.2.2"}} {
		args := []string{"-A", "tcp/22", "-a", c.allow, "-D", srv, "--server-proto", c.proto, "--rc-file", os.DevNull, "--key-base64-rijndael", key, "--key-base64-hmac", hmac}
		if out, err := l.Client.Command(t.Context(), "fwknop", args...).CombinedOutput(); err != nil {
			t.Fatalf("fwknop %v: %v\n%s", args, err, out)
		}
	}
	cfg := filepath.Join(dir, "config.yaml")
	profile := "profiles:\n  door:\n    host: " + srv + "\n    spa:\n      access: tcp/2222\n      key_base64: " + key + "\n      hmac_key_base64: " + hmac + "\n      allow_ip: 10.77.2.3\n      server_proto: tcp\n"
	writeFile(t, cfg, profile)
	if out, err := l.Client.Command(t.Context(), ourKnock(t), "--config", cfg, "door").CombinedOutput(); err != nil {
		t.Fatalf("knock door: %v\n%s", err, out)
	}
	want := "10.77.2.1 6 22\n10.77.2.2 6 22\n10.77.2.3 6 2222\n"
	if !lab.Eventually(10*time.Second, func() bool { b, _ := os.ReadFile(filepath.Join(dir, "opened")); return string(b) == want }) {
		b, _ := os.ReadFile(filepath.Join(dir, "opened"))
		t.Fatalf("opened %q, want %q\n%s", b, want, kd.Output())
	}
}

// TestSPAOverIPv6: knock's SPA packets over IPv6 open knockd's door for
// the packet's IPv6 source (allow_ip source, 0.0.0.0 in the message), for
// an IPv6 address the message carries, and for the address allow_ip
// resolve found asking over IPv6 (fwknopd 2.6 refuses all three).
func TestSPAOverIPv6(t *testing.T) {
	lab.Require(t, "nc")
	l := lab.New(t)
	dir := t.TempDir()
	const key, hmac = "dGhpcy1pcy1hLTMyLWJ5dGUta2V5LWZvci10ZXN0cyE=", "aG1hYy1rZXktZm9yLWZ3a25vcC1jbGllbnQtdGVzdHMtaW4tc3BhZG9vcg=="
	writeFile(t, filepath.Join(dir, "access.conf"), "SOURCE fd77::/64\nKEY_BASE64 "+key+"\nHMAC_KEY_BASE64 "+hmac+"\n"+
		"CMD_CYCLE_OPEN echo $SRC $PROTO $PORT >> "+dir+"/opened\nCMD_CYCLE_CLOSE NONE\n")
	writeFile(t, filepath.Join(dir, "fwknopd.conf"), "PCAP_INTF eth0;\n")
	kd := l.Server.Start(ourKnockd(t), "--fwknopd-conf", filepath.Join(dir, "fwknopd.conf"), "--access-conf", filepath.Join(dir, "access.conf"),
		"-v", "--status-socket", filepath.Join(dir, "status.sock"))
	kd.WaitOutput(t, "listening on eth0", 10*time.Second)
	// The page allow_ip resolve asks, served on the server's IPv6 address
	// only: an answer means the question went over IPv6.
	page := l.Server.Start("sh", "-c", "printf 'HTTP/1.0 200 OK\\r\\n\\r\\nyou are fd77::77\\r\\n' | nc -N -l "+l.Server.Addr6.String()+" 8080")
	t.Cleanup(page.Stop)
	l.Server.WaitListening(t, l.Server.Addr6, 8080)
	cfg := filepath.Join(dir, "config.yaml")
	profile := func(name, allow, port string) string {
		p := "  " + name + ":\n    host: " + l.Server.Addr6.String() + "\n    spa:\n      access: tcp/" + port + "\n      key_base64: " + key +
			"\n      hmac_key_base64: " + hmac + "\n      allow_ip: " + allow + "\n"
		if allow == "resolve" {
			p += "      resolve_url: http://[" + l.Server.Addr6.String() + "]:8080/\n"
		}
		return p
	}
	writeFile(t, cfg, "profiles:\n"+profile("source", "source", "22")+profile("named", "fd77::99", "2222")+profile("resolved", "resolve", "2223"))
	for _, name := range []string{"source", "named", "resolved"} {
		if out, err := l.Client.Command(t.Context(), ourKnock(t), "--config", cfg, name).CombinedOutput(); err != nil {
			t.Fatalf("knock %s: %v\n%s", name, err, out)
		}
	}
	want := "fd77::1 6 22\nfd77::99 6 2222\nfd77::77 6 2223\n"
	if !lab.Eventually(10*time.Second, func() bool { b, _ := os.ReadFile(filepath.Join(dir, "opened")); return string(b) == want }) {
		b, _ := os.ReadFile(filepath.Join(dir, "opened"))
		t.Fatalf("opened %q, want %q\n%s", b, want, kd.Output())
	}
}

// TestSPADifferentialVariants shows fwknopd 2.6.10 and our knockd the
// variants of fwknop's client, knock's packets and copies of them
// changed on the way, on one link, with one access.conf of nine stanzas
// (one per HMAC digest with the same keys, plain keys, legacy mode
// without an HMAC): each opens the same door in both, or none in both.
func TestSPADifferentialVariants(t *testing.T) {
	lab.Require(t, "fwknop", "fwknopd", "nc")
	l := lab.New(t)
	const key, hmac = "dGhpcy1pcy1hLTMyLWJ5dGUta2V5LWZvci10ZXN0cyE=", "aG1hYy1rZXktZm9yLWZ3a25vcC1jbGllbnQtdGVzdHMtaW4tc3BhZG9vcg=="
	digests := []string{"md5", "sha1", "sha256", "sha384", "sha512", "sha3_256", "sha3_512"}
	var stanzas []string
	for _, d := range digests {
		stanzas = append(stanzas, "SOURCE ANY\nKEY_BASE64 "+key+"\nHMAC_KEY_BASE64 "+hmac+"\nHMAC_DIGEST_TYPE "+strings.ToUpper(d)+
			"\nOPEN_PORTS tcp/22\nREQUIRE_SOURCE_ADDRESS Y\n")
	}
	stanzas = append(stanzas, "SOURCE ANY\nKEY plainpassphrase1\nHMAC_KEY plainhmackey2\nOPEN_PORTS tcp/22\nREQUIRE_SOURCE_ADDRESS Y\n",
		"SOURCE ANY\nKEY legacykey\nENCRYPTION_MODE legacy\nOPEN_PORTS tcp/22\nREQUIRE_SOURCE_ADDRESS Y\n")
	theirs, ours := startSPAPair(t, l, "", stanzas...)
	srv := l.Server.Addr4.String()
	dir := t.TempDir()
	rc := filepath.Join(dir, "fwknoprc")
	writeFile(t, rc, "[plain]\nKEY plainpassphrase1\nHMAC_KEY plainhmackey2\nUSE_HMAC Y\n")
	// A second address on the client, for packets sent from elsewhere
	// than the address they ask for.
	l.Client.Run("ip", "addr", "add", "10.77.0.11/24", "dev", "eth0")
	made := func(args ...string) string { // by fwknop's client, not sent
		t.Helper()
		file := filepath.Join(t.TempDir(), "packet")
		args = append([]string{"-D", srv, "--test", "--save-packet", file}, args...)
		if !slices.Contains(args, "--rc-file") {
			args = append(args, "--rc-file", os.DevNull)
		}
		if out, err := l.Client.Command(t.Context(), "fwknop", args...).CombinedOutput(); err != nil {
			t.Fatalf("fwknop %v: %v\n%s", args, err, out)
		}
		b, _ := os.ReadFile(file)
		return strings.TrimSpace(string(b))
	}
	send := func(data, from string) {
		l.Client.Run("sh", "-c", "printf %s '"+data+"' | nc -u -w1 -s "+from+" "+srv+" 62201")
		time.Sleep(300 * time.Millisecond)
	}
	b64 := []string{"--key-base64-rijndael", key, "--key-base64-hmac", hmac}
	var want, wantTheirs []string // wantTheirs: fwknopd's, where it differs by design
	both := func(line string) { want, wantTheirs = append(want, line), append(wantTheirs, line) }
	n := 0
	next := func() string { n++; return fmt.Sprintf("10.77.3.%d", n) }
	for _, d := range digests { // every HMAC digest
		a := next()
		send(made(append([]string{"-A", "tcp/22", "-a", a, "--hmac-digest-type", d}, b64...)...), l.Client.Addr4.String())
		both(a + " 6 22 0")
	}
	for _, m := range []string{"md5", "sha1", "sha384", "sha512", "sha3_256", "sha3_512"} { // every message digest
		a := next()
		send(made(append([]string{"-A", "tcp/22", "-a", a, "-m", m}, b64...)...), l.Client.Addr4.String())
		both(a + " 6 22 0")
	}
	a := next() // plain keys, from fwknoprc
	send(made("-A", "tcp/22", "-a", a, "--rc-file", rc, "-n", "plain"), l.Client.Addr4.String())
	both(a + " 6 22 0")
	a = next() // legacy mode, no HMAC
	send(made("-A", "tcp/22", "-a", a, "-M", "legacy", "--key-rijndael", "legacykey"), l.Client.Addr4.String())
	both(a + " 6 22 0")
	a = next() // a client timeout past MAX_FW_TIMEOUT (300 by default)
	send(made(append([]string{"-A", "tcp/22", "-a", a, "-f", "600"}, b64...)...), l.Client.Addr4.String())
	want, wantTheirs = append(want, a+" 6 22 300"), append(wantTheirs, a+" 6 22 600")
	t.Logf("difference by design, -f 600: fwknopd 600 s, knockd 300 (fwknopd 2.6.10 does not cap the client's timeout for CMD_CYCLE_OPEN)")
	a = next() // sent from an address other than the one it asks for
	send(made(append([]string{"-A", "tcp/22", "-a", a}, b64...)...), "10.77.0.11")
	both(a + " 6 22 0")
	// Refused by both: truncated, a port no stanza opens, a key no stanza
	// has, a stray byte at the end.
	send(made(append([]string{"-A", "tcp/22", "-a", next()}, b64...)...)[:150], l.Client.Addr4.String())
	a = next()
	send(made(append([]string{"-A", "tcp/23", "-a", a}, b64...)...), l.Client.Addr4.String())
	wantTheirs = append(wantTheirs, a+" 6 23 0")
	t.Logf("difference by design, tcp/23: fwknopd runs the command, knockd refuses (fwknopd 2.6.10 runs CMD_CYCLE_OPEN before its OPEN_PORTS check)")
	send(made("-A", "tcp/22", "-a", next(), "--key-rijndael", "not-a-key-here", "--key-base64-hmac", hmac), l.Client.Addr4.String())
	send(made(append([]string{"-A", "tcp/22", "-a", next()}, b64...)...)+"A", l.Client.Addr4.String())
	// knock's own packets, each HMAC digest.
	cfg := filepath.Join(dir, "config.yaml")
	var profiles strings.Builder
	profiles.WriteString("profiles:\n")
	var names []string
	for _, d := range digests {
		a := next()
		name := "k-" + strings.ReplaceAll(d, "_", "")
		names = append(names, name)
		fmt.Fprintf(&profiles, "  %s:\n    host: %s\n    spa:\n      access: tcp/22\n      key_base64: %s\n      hmac_key_base64: %s\n      hmac_digest_type: %s\n      allow_ip: %s\n",
			name, srv, key, hmac, d, a)
		both(a + " 6 22 0")
	}
	writeFile(t, cfg, profiles.String())
	for _, name := range names {
		if out, err := l.Client.Command(t.Context(), ourKnock(t), "--config", cfg, name).CombinedOutput(); err != nil {
			t.Fatalf("knock %s: %v\n%s", name, err, out)
		}
		time.Sleep(300 * time.Millisecond)
	}
	last := want[len(want)-1]
	if !lab.Eventually(15*time.Second, func() bool { return slices.Contains(theirs.opened(), last) && slices.Contains(ours.opened(), last) }) {
		t.Fatalf("the last packet did not open both:\nfwknopd %q\nknockd %q\n%s\n%s", theirs.opened(), ours.opened(), theirs.Output(), ours.Output())
	}
	if got := theirs.opened(); !slices.Equal(got, wantTheirs) {
		t.Errorf("fwknopd opened %q,\nwant %q (has fwknopd changed?)\n%s", got, wantTheirs, theirs.Output())
	}
	if got := ours.opened(); !slices.Equal(got, want) {
		t.Errorf("knockd opened %q,\nwant %q\n%s", got, want, ours.Output())
	}
}
