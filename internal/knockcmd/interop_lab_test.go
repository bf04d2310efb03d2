//go:build linux

package knockcmd

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/knocktools/knock/internal/lab"
)

// TestInteropDebianKnockd knocks Debian's knockd 0.8 across a lab veth with
// our client and checks that each door's command ran with our address.
func TestInteropDebianKnockd(t *testing.T) {
	lab.Require(t, "knockd")
	knockBin := lab.TestBinary(t, "knock")
	l := lab.New(t)
	kd := l.Server.StartDebianKnockd(t, lab.Fixture(t, "interop.conf"))
	srv4, srv6 := l.Server.Addr4.String(), l.Server.Addr6.String()
	me4, me6 := l.Client.Addr4.String(), l.Client.Addr6.String()

	knock := func(t *testing.T, args ...string) time.Duration {
		t.Helper()
		start := time.Now()
		out, err := l.Client.Command(context.Background(), knockBin, args...).CombinedOutput()
		if err != nil {
			t.Fatalf("knock %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return time.Since(start)
	}
	opened := func(t *testing.T, door, who string) {
		t.Helper()
		lab.WaitFile(t, kd.DoorFile(door), who, 5*time.Second)
	}

	// Cases run one after another: knockd tracks attempts per source, and
	// a stray hit would fail another case's attempt.
	t.Run("tcp", func(t *testing.T) {
		knock(t, srv4, "7001", "7002", "7003")
		opened(t, "tcp", me4)
	})
	t.Run("udp with -u", func(t *testing.T) {
		knock(t, "-u", srv4, "7101", "7102", "7103")
		opened(t, "udp", me4)
	})
	t.Run("mixed", func(t *testing.T) {
		knock(t, srv4, "7201", "7202:udp", "7203:tcp")
		opened(t, "mixed", me4)
	})
	t.Run("delay", func(t *testing.T) {
		if took := knock(t, "-d", "300", srv4, "7301", "7302", "7303"); took < 600*time.Millisecond {
			t.Errorf("three knocks with -d 300 took %v, want at least 600ms", took)
		}
		opened(t, "delayed", me4)
	})
	t.Run("ipv6", func(t *testing.T) {
		knock(t, "-6", srv6, "7401", "7402:udp", "7403")
		opened(t, "ipv6", me6)
	})
	t.Run("flags fin against tcpflags fin,!ack", func(t *testing.T) {
		// Plain SYNs do not pass the door's flag filter: they are ignored.
		knock(t, srv4, "7501", "7502")
		knock(t, "--flags", "fin", srv4, "7501", "7502")
		opened(t, "fin", me4)
	})
	t.Run("per-knock flags against tcpflags syn,urg,!ack", func(t *testing.T) {
		knock(t, srv4, "7601:tcp:syn+urg", "7602:udp", "7603:tcp:urg+syn")
		opened(t, "synurg", me4)
	})
	t.Run("ipv6 with flags fin", func(t *testing.T) {
		knock(t, "--flags", "fin", srv6, "7801", "7802")
		opened(t, "fin6", me6)
	})
	t.Run("method connect", func(t *testing.T) {
		knock(t, "--method", "connect", srv4, "7701", "7702", "7703")
		opened(t, "connect", me4)
	})
	t.Run("unprivileged: auto falls back to connect", func(t *testing.T) {
		nobody := asNobody(t, knockBin)
		out, err := l.Client.Command(context.Background(), nobody[0], append(nobody[1:], "-v", srv4, "7901", "7902", "7903")...).CombinedOutput()
		if err != nil {
			t.Fatalf("knock as nobody: %v\n%s", err, out)
		}
		opened(t, "nobody", me4)
	})
	t.Run("unprivileged: custom flags say how to get raw sockets", func(t *testing.T) {
		nobody := asNobody(t, knockBin)
		cmd := l.Client.Command(context.Background(), nobody[0], append(nobody[1:], "--flags", "fin", srv4, "7501")...)
		out, err := cmd.CombinedOutput()
		if cmd.ProcessState.ExitCode() != 1 || !strings.Contains(string(out), "run as root, or allow raw sockets once with: sudo setcap cap_net_raw+ep") {
			t.Fatalf("knock --flags fin as nobody: %v\n%s", err, out)
		}
	})
	// Each door opened exactly once: a knock a door should have ignored
	// (the plain SYNs above) would have left a second line by now.
	for door, who := range map[string]string{"tcp": me4, "udp": me4, "mixed": me4, "delayed": me4,
		"ipv6": me6, "fin": me4, "synurg": me4, "fin6": me6, "connect": me4, "nobody": me4} {
		lab.WaitFile(t, kd.DoorFile(door), who, time.Second)
	}
	if t.Failed() {
		log, _ := os.ReadFile(kd.DoorFile("knockd.log"))
		t.Logf("knockd output:\n%s\nknockd.log:\n%s", kd.Output(), log)
	}
}

// TestRawPacketsOnTheWire captures what our client puts on the lab link and
// checks the fields the options set, and that the server's kernel accepts
// a raw SYN (its checksum is right) by answering it.
func TestRawPacketsOnTheWire(t *testing.T) {
	lab.Require(t, "tcpdump")
	knockBin := lab.TestBinary(t, "knock")
	l := lab.New(t)
	srv4, srv6 := l.Server.Addr4.String(), l.Server.Addr6.String()
	ln := l.Server.Start(lab.TestBinary(t, "lab-listen"), srv4+":7777", "["+srv6+"]:7777")
	ln.WaitOutput(t, "listening", 5*time.Second)
	pcap := t.TempDir() + "/wire.pcap"
	dump := l.Server.Start("tcpdump", "-i", "eth0", "-n", "-U", "-w", pcap, "tcp or udp")
	dump.WaitOutput(t, "listening on", 10*time.Second)

	run := func(args ...string) {
		t.Helper()
		if out, err := l.Client.Command(context.Background(), knockBin, args...).CombinedOutput(); err != nil {
			t.Fatalf("knock %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	run("--method", "raw", "--ttl", "33", "--source-port", "40404", srv4, "7777", "8001:tcp:fin+psh+urg", "8002:udp")
	run("--method", "connect", "--ttl", "34", "--source-port", "40405", srv4, "8003")
	run("--method", "raw", "--ttl", "35", "--source-port", "40406", srv6, "7777", "8004:tcp:ack+rst")
	run("--ttl", "36", "--source-port", "40407", srv6, "8005:udp")

	want := []wirePacket{
		{src: l.Client.Addr4.String(), sport: 40404, dport: 7777, proto: "tcp", flags: "syn", ttl: 33},
		{src: srv4, sport: 7777, dport: 40404, proto: "tcp", flags: "syn+ack"}, // the kernel answered
		{src: l.Client.Addr4.String(), sport: 40404, dport: 8001, proto: "tcp", flags: "fin+psh+urg", ttl: 33},
		{src: l.Client.Addr4.String(), sport: 40404, dport: 8002, proto: "udp", ttl: 33, payload: 1},
		{src: l.Client.Addr4.String(), sport: 40405, dport: 8003, proto: "tcp", flags: "syn", ttl: 34},
		{src: l.Client.Addr6.String(), sport: 40406, dport: 7777, proto: "tcp", flags: "syn", ttl: 35},
		{src: srv6, sport: 7777, dport: 40406, proto: "tcp", flags: "syn+ack"},
		{src: l.Client.Addr6.String(), sport: 40406, dport: 8004, proto: "tcp", flags: "rst+ack", ttl: 35},
		{src: l.Client.Addr6.String(), sport: 40407, dport: 8005, proto: "udp", ttl: 36, payload: 1},
	}
	var got []wirePacket
	if !lab.Eventually(5*time.Second, func() bool {
		got = readWire(t, pcap)
		return containsAll(got, want)
	}) {
		t.Fatalf("on the wire:\n%v\nwant (in any order, among others):\n%v", got, want)
	}
}

// asNobody returns the command line that runs a copy of bin as the user
// nobody, without any capability, from a directory nobody can read.
func asNobody(t *testing.T, bin string) []string {
	t.Helper()
	lab.Require(t, "setpriv")
	dir, err := os.MkdirTemp("", "knock-nobody-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	data, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	copyPath := filepath.Join(dir, filepath.Base(bin))
	if err := os.WriteFile(copyPath, data, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return []string{"setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "--inh-caps=-all", copyPath}
}

// TestProfileAgainstDebianKnockd saves a profile, exports it as a door,
// runs Debian's knockd with that door, and knocks it with "knock PROFILE":
// the door's iptables command must let the client in.
func TestProfileAgainstDebianKnockd(t *testing.T) {
	lab.Require(t, "knockd", "iptables")
	knockBin := lab.TestBinary(t, "knock")
	l := lab.New(t)
	cfg := filepath.Join(t.TempDir(), "config.yaml")
	knock := func(ns *lab.Host, args ...string) string {
		t.Helper()
		var cmd *exec.Cmd
		if ns == nil {
			cmd = exec.Command(knockBin, args...)
		} else {
			cmd = ns.Command(context.Background(), knockBin, args...)
		}
		cmd.Env = append(os.Environ(), "KNOCK_CONFIG="+cfg)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("knock %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	knock(nil, "profile", "add", "lab-ssh", "--host", l.Server.Addr4.String(),
		"--sequence", "7000,8000:udp,9000", "--flags", "fin+urg", "--delay", "50ms", "--port", "2222")
	door := knock(nil, "profile", "export", "lab-ssh", "--knockd")
	kd := l.Server.StartDebianKnockd(t, "[options]\n\tLogFile = @DIR@/knockd.log\n"+door)

	t0 := time.Now()
	knock(l.Client, "lab-ssh")
	defer func() { t.Logf("opened after %v", time.Since(t0)) }()
	want := "-A INPUT -s " + l.Client.Addr4.String() + "/32 -p tcp -m tcp --dport 2222 -j ACCEPT"
	if !lab.Eventually(5*time.Second, func() bool {
		return strings.Contains(l.Server.Run("iptables", "-S", "INPUT"), want)
	}) {
		t.Fatalf("door did not open: iptables has\n%s\nknockd said:\n%s", l.Server.Run("iptables", "-S", "INPUT"), kd.Output())
	}
}
