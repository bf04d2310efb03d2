//go:build linux

package knockdcmd

import (
	"context"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/knocktools/knock/internal/lab"
)

// TestAllowRepeatsWithRetransmissions knocks with connect() (nc -z)
// against a firewall that DROPs the knock ports, so the client's kernel
// retransmits every SYN: the Allow_Repeats door opens, the plain one (as
// knockd 0.8's) does not. Two client addresses knock the two doors at
// once, so neither sees the other's ports.
func TestAllowRepeatsWithRetransmissions(t *testing.T) {
	lab.Require(t, "nc", "iptables")
	l := lab.New(t)
	l.Server.Run("iptables", "-A", "INPUT", "-p", "tcp", "--dport", "7600:7799", "-j", "DROP")
	kd := l.Server.StartKnockd(t, ourKnockd(t), lab.Fixture(t, "repeats.conf"), nil)
	srv := l.Server.Addr4.String()
	a, b := l.Client.Addr4.String(), "10.77.0.3"
	l.Client.Run("ip", "addr", "add", b+"/24", "dev", "eth0")
	var wg sync.WaitGroup
	for _, k := range []struct {
		src   string
		first int
	}{{a, 7601}, {b, 7701}} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for port := k.first; port < k.first+3; port++ {
				// -w 2: the SYN, and its retransmission a second later.
				_ = l.Client.Command(context.Background(), "nc", "-z", "-w", "2", "-s", k.src, srv, strconv.Itoa(port)).Run()
			}
		}()
	}
	wg.Wait()
	lab.WaitFile(t, kd.DoorFile("rep"), a, 5*time.Second)
	time.Sleep(500 * time.Millisecond) // the plain door's command, were it to run
	log, _ := os.ReadFile(kd.DoorFile("knockd.log"))
	if got, err := os.ReadFile(kd.DoorFile("plain")); err == nil {
		t.Fatalf("the plain door opened for %q despite the retransmitted SYNs\n%s", got, log)
	}
	if !strings.Contains(string(log), b+": plain: Stage 1") {
		t.Fatalf("the plain door never saw its knocker, so the test proves nothing:\n%s", log)
	}
}
