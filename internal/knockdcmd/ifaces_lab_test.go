//go:build linux

package knockdcmd

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/knocktools/knock/internal/lab"
)

// TestSeveralInterfaces: Interface = eth0,eth1,eth2 in [options], one
// knocker on each link: eth1 has IPv6 only, eth2 IPv4 only. Each opens;
// the -D line names the interface; and a knocker whose packets come in
// on two interfaces is one attempt.
func TestSeveralInterfaces(t *testing.T) {
	l := lab.New(t)
	six := l.AddClient(t, "eth1", 1, lab.OnlyIPv6)
	four := l.AddClient(t, "eth2", 2, lab.OnlyIPv4)
	conf := strings.ReplaceAll(lab.Fixture(t, "ifaces.conf"), "@IFACES@", "eth0,eth1,eth2")
	kd := l.Server.StartKnockdArgs(t, ourKnockd(t), conf, nil, "listening on eth0,eth1,eth2", "-D")
	knock := ourKnock(t)

	l.Client.Run(knock, l.Server.Addr4.String(), "7001", "7002:udp", "7003")
	six.Run(knock, "fd77:1::2", "7001", "7002:udp", "7003")
	four.Run(knock, "10.77.2.2", "7001", "7002:udp", "7003")
	lab.WaitLines(t, kd.DoorFile("door"), []string{"10.77.0.1", "fd77:1::1", "10.77.2.1"}, 5*time.Second)

	// One knocker, two links: the first knock over eth0, the others over
	// eth2, all from 10.77.9.1 to the server's eth0 address (which the
	// server's eth2 answers ARP for).
	if err := os.Remove(kd.DoorFile("door")); err != nil {
		t.Fatal(err)
	}
	for _, h := range []*lab.Host{l.Client, four} {
		h.Run("ip", "addr", "add", "10.77.9.1/32", "dev", "lo")
		h.Run("ip", "route", "replace", l.Server.Addr4.String()+"/32", "dev", "eth0", "src", "10.77.9.1")
	}
	l.Client.Run(knock, l.Server.Addr4.String(), "7001")
	// Each capture hands its frames over a block at a time (within
	// blockTimeout), so packets on two interfaces a few milliseconds
	// apart may be read in either order: wait for the first.
	kd.WaitOutput(t, "10.77.9.1: door: Stage 1", 5*time.Second)
	four.Run(knock, l.Server.Addr4.String(), "7002:udp", "7003")
	lab.WaitLines(t, kd.DoorFile("door"), []string{"10.77.9.1"}, 5*time.Second)

	// The door's command can run before the test has read knockd's last
	// lines from its output pipe: wait for them, do not just look.
	for _, want := range []string{"10.77.0.1: door: stage 1 came in on eth0", "fd77:1::1: door: stage 1 came in on eth1",
		"10.77.2.1: door: stage 3 came in on eth2", "10.77.9.1: door: stage 1 came in on eth0", "10.77.9.1: door: stage 3 came in on eth2"} {
		kd.WaitOutput(t, want, 5*time.Second)
	}
}

// TestAnyInterface: -i any captures on the interfaces up at start, on one
// added later (IPv6 only), and on one that is removed and comes back.
func TestAnyInterface(t *testing.T) {
	l := lab.New(t)
	conf := strings.ReplaceAll(lab.Fixture(t, "ifaces.conf"), "\tInterface = @IFACES@\n", "")
	kd := l.Server.StartKnockdArgs(t, ourKnockd(t), conf, nil, "listening on any", "-i", "any", "-D")
	defer func() {
		if t.Failed() {
			t.Logf("knockd output:\n%s", kd.Output())
		}
	}()
	knock := ourKnock(t)
	door := kd.DoorFile("door")
	l.Client.Run(knock, l.Server.Addr4.String(), "7001", "7002:udp", "7003")
	lab.WaitLines(t, door, []string{"10.77.0.1"}, 5*time.Second)

	late := l.AddClient(t, "late0", 3, lab.OnlyIPv6)
	kd.WaitOutput(t, "capturing on late0\n", 10*time.Second)
	late.Run(knock, "fd77:3::2", "7001", "7002:udp", "7003")
	lab.WaitLines(t, door, []string{"10.77.0.1", "fd77:3::1"}, 5*time.Second)

	l.DelLink(t, "late0")
	kd.WaitOutput(t, "late0 is down or gone: no longer capturing on it", 10*time.Second)
	l.Relink(t, late, "late0", 3, lab.OnlyIPv6)
	waitCount(t, kd, "capturing on late0\n", 2, 10*time.Second)
	late.Run(knock, "fd77:3::2", "7001", "7002:udp", "7003")
	lab.WaitLines(t, door, []string{"10.77.0.1", "fd77:3::1", "fd77:3::1"}, 5*time.Second)
	if out := kd.Output(); !strings.Contains(out, "capturing on eth0\n") || strings.Contains(out, "capturing on lo") || strings.Contains(out, "cannot capture") {
		t.Errorf("output:\n%s", out)
	}
}

// waitCount waits until the program printed want n times.
func waitCount(t *testing.T, kd *lab.Knockd, want string, n int, limit time.Duration) {
	t.Helper()
	if !lab.Eventually(limit, func() bool { return strings.Count(kd.Output(), want) >= n }) {
		t.Fatalf("waited %v for %q %d times:\n%s", limit, want, n, kd.Output())
	}
}
