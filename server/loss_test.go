package server

import (
	"bytes"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
)

// droppingSource is a capture whose kernel drop counter the test sets.
type droppingSource struct{ drops uint64 }

func (d *droppingSource) ReadPacketData() ([]byte, gopacket.CaptureInfo, error) {
	return nil, gopacket.CaptureInfo{}, io.EOF
}
func (d *droppingSource) LinkType() LinkType           { return LinkTypeEthernet }
func (d *droppingSource) Close() error                 { return nil }
func (d *droppingSource) KernelDrops() (uint64, error) { return d.drops, nil }

// Frames the kernel drops are logged without anyone asking, at most once
// per lossInterval, and a reopened capture counts from zero again.
func TestKernelDropsAreLogged(t *testing.T) {
	var logged bytes.Buffer
	srv := newTestServer(t, "[d]\nsequence = 7001,7002\n", &logged)
	src := &droppingSource{}
	srv.setLive("eth0", src)
	lines := func() []string {
		out := strings.TrimSpace(logged.String())
		logged.Reset()
		if out == "" {
			return nil
		}
		return strings.Split(out, "\n")
	}
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }

	srv.Tick(at(1))
	if l := lines(); l != nil {
		t.Fatalf("no drops, yet logged %q", l)
	}
	src.drops = 500
	srv.Tick(at(2))
	want := "the kernel dropped 500 packets on eth0 that knockd did not read in time (500 since the capture opened): knocks among them were missed"
	if l := lines(); len(l) != 1 || l[0] != want {
		t.Fatalf("logged %q, want %q", l, want)
	}
	src.drops = 800
	srv.Tick(at(5)) // within lossInterval: held for later
	if l := lines(); l != nil {
		t.Fatalf("logged %q within %v of the last report", l, lossInterval)
	}
	srv.Tick(at(12))
	if l := lines(); len(l) != 1 || !strings.HasPrefix(l[0], "the kernel dropped 300 packets ") {
		t.Fatalf("logged %q, want the 300 new drops", l)
	}
	srv.Tick(at(30)) // nothing new
	if l := lines(); l != nil {
		t.Fatalf("no new drops, yet logged %q", l)
	}
	reopened := &droppingSource{drops: 7}
	srv.setLive("eth0", reopened)
	srv.Tick(at(31))
	if l := lines(); len(l) != 1 || !strings.HasPrefix(l[0], "the kernel dropped 7 packets ") {
		t.Fatalf("after reopening: logged %q, want the new capture's 7 drops", l)
	}
}

// Several captures: every one gets the kernel filter, their drops add
// up in Stats, and each is reported under its own name.
func TestSeveralCaptures(t *testing.T) {
	var logged bytes.Buffer
	srv := newTestServer(t, "[d]\nsequence = 7001,7002\n", &logged)
	a, b := &droppingSource{drops: 3}, &droppingSource{drops: 4}
	srv.setLive("eth0", a)
	srv.setLive("wg0", b)
	if st := srv.Stats(); st.KernelDrops != 7 {
		t.Fatalf("kernel drops %d, want 7", st.KernelDrops)
	}
	srv.reportLoss(t0)
	for _, want := range []string{"dropped 3 packets on eth0", "dropped 4 packets on wg0"} {
		if !strings.Contains(logged.String(), want) {
			t.Errorf("no %q in\n%s", want, logged.String())
		}
	}
	srv.setLive("wg0", nil)
	if st := srv.Stats(); st.KernelDrops != 3 {
		t.Fatalf("kernel drops %d after wg0 closed, want 3", st.KernelDrops)
	}
}
