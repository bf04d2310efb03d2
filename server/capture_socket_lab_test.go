//go:build linux

package server

import (
	"context"
	"errors"
	"net/netip"
	"os"
	"os/exec"
	"runtime"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/knocktools/knock"
	"github.com/knocktools/knock/internal/lab"
)

// inNetns runs f on a thread moved into a lab host's network namespace
// (the sockets it opens stay there), and moves the thread back after.
func inNetns(t *testing.T, ns string, f func()) {
	t.Helper()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	self, err := os.Open("/proc/thread-self/ns/net")
	if err != nil {
		t.Fatal(err)
	}
	defer self.Close()
	h, err := os.Open("/var/run/netns/" + ns)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	if err := unix.Setns(int(h.Fd()), unix.CLONE_NEWNET); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := unix.Setns(int(self.Fd()), unix.CLONE_NEWNET); err != nil {
			panic(err) // a thread left in the lab would take the test process with it
		}
	}()
	f()
}

// TestSocketCapture runs the capture knockd falls back to where no ring
// can be set up (qemu-user): frames of the doors' ports come through its
// kernel filter, with their lengths, others do not, and Close ends a read
// under way.
func TestSocketCapture(t *testing.T) {
	l := lab.New(t)
	var src *socketSource
	inNetns(t, l.Server.NS, func() {
		var err error
		if src, err = openSocket(l.Server.If, LinkTypeEthernet, false, 256<<10, nil); err != nil {
			t.Error(err)
		}
	})
	if src == nil {
		t.FailNow()
	}
	defer src.Close()
	if err := src.SetPorts([]uint16{7000}, []uint16{8000}); err != nil {
		t.Fatal(err)
	}
	send := func(port string) {
		t.Helper()
		// Refused: nothing listens, which is all a knock needs.
		if out, err := l.Client.Command(context.Background(), "nc", "-z", "-w", "1", l.Server.Addr4.String(), port).CombinedOutput(); errors.Is(err, exec.ErrNotFound) {
			t.Fatalf("nc: %v %s", err, out)
		}
	}
	send("6999") // filtered out in the kernel
	send("7000")
	dec := NewDecoder(LinkTypeEthernet)
	var h Packet
	// A SYN that never comes must fail the test, not hang it.
	guard := time.AfterFunc(30*time.Second, func() { src.Close() })
	for {
		data, ci, err := src.ReadPacketData()
		if err != nil {
			t.Fatalf("no SYN to 7000 came through the filter: %v", err)
		}
		if ci.Length < len(data) || ci.Timestamp.IsZero() {
			t.Fatalf("capture info %+v for %d bytes", ci, len(data))
		}
		if !dec.Decode(data, ci, &h) {
			continue // an IPv6 router solicitation or the like, on other ports
		}
		if h.Port != 7000 || h.Proto != knock.TCP || h.Src != netip.MustParseAddr("10.77.0.1") {
			t.Fatalf("first packet through the filter: %+v, want the SYN to 7000", h)
		}
		break
	}
	if !guard.Stop() {
		t.Fatal("the capture was closed by the guard")
	}
	// qemu-user, which this capture is for, passes no PACKET_STATISTICS
	// through: knockd then reports no drops, rather than wrong ones.
	if drops, err := src.KernelDrops(); (err != nil && !errors.Is(err, unix.EOPNOTSUPP)) || drops != 0 {
		t.Errorf("KernelDrops = %d, %v", drops, err)
	}
	read := make(chan error)
	go func() {
		_, _, err := src.ReadPacketData()
		read <- err
	}()
	time.Sleep(50 * time.Millisecond)
	src.Close()
	select {
	case err := <-read:
		if err != errClosed {
			t.Errorf("a read under way ended with %v, want errClosed", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not end a read under way")
	}
}
