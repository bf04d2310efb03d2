package client

import (
	"context"
	"encoding/hex"
	"net"
	"strconv"
	"testing"
	"time"
)

// UDP knocks carry their payload byte for byte (an empty one is a
// zero-length datagram); without one they carry knock 0.8's zero byte.
func TestDatagramPayloads(t *testing.T) {
	ln, port := loopbackUDP(t)
	seq := seqOf(t, port+":udp:hex=c0ffee", port+":udp:hex=", port+":udp", port+":udp:text=a:b")
	if err := (&Knocker{}).Knock(context.Background(), "127.0.0.1", seq, Options{Method: MethodConnect}); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 100)
	for _, want := range []string{"c0ffee", "", "00", hex.EncodeToString([]byte("a:b"))} {
		ln.SetReadDeadline(time.Now().Add(5 * time.Second))
		n, _, err := ln.ReadFromUDP(buf)
		if err != nil {
			t.Fatal(err)
		}
		if got := hex.EncodeToString(buf[:n]); got != want {
			t.Fatalf("datagram %q, want %q", got, want)
		}
	}
}

// A UDP knock leaves from the source port asked for, and reports the one
// the kernel picked when none was.
func TestDatagramSourcePort(t *testing.T) {
	ln, port := loopbackUDP(t)
	seq := seqOf(t, port+":udp")
	free, _ := loopbackUDP(t)
	src := free.LocalAddr().(*net.UDPAddr).Port
	free.Close()
	buf := make([]byte, 10)
	for _, want := range []int{src, 0} {
		var hit Hit
		k := &Knocker{Report: func(h Hit) { hit = h }}
		if err := k.Knock(context.Background(), "127.0.0.1", seq, Options{Method: MethodConnect, SourcePort: uint16(want), TTL: 7}); err != nil {
			t.Fatal(err)
		}
		ln.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, from, err := ln.ReadFromUDP(buf)
		if err != nil {
			t.Fatal(err)
		}
		if want != 0 && from.Port != want || int(hit.SrcPort) != from.Port {
			t.Fatalf("sent from port %d, reported %d, asked for %d", from.Port, hit.SrcPort, want)
		}
	}
}

// loopbackUDP listens on a free UDP port of 127.0.0.1, until the test
// ends, and returns the socket and its port.
func loopbackUDP(t *testing.T) (*net.UDPConn, string) {
	t.Helper()
	ln, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln, strconv.Itoa(ln.LocalAddr().(*net.UDPAddr).Port)
}
