package server

import (
	"crypto/rand"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/knocktools/knock"
	"github.com/knocktools/knock/fwknopconf"
	"github.com/knocktools/knock/internal/flood"
	"github.com/knocktools/knock/spa"
	"github.com/knocktools/knock/spadoor"
)

// spaServer is a server with a door, SPA served with one stanza whose
// commands are cycle, and a dry run of what it would run.
func spaServer(t *testing.T, cycle string) (*Server, *lockedBuffer) {
	t.Helper()
	out := &lockedBuffer{}
	srv := newTestServer(t, "[d]\nsequence = 7001,7002\n", nil)
	srv.Actions.DryRun = out
	a, err := fwknopconf.ParseAccess("access.conf", []byte("SOURCE ANY\nKEY a-passphrase-for-tests\nHMAC_KEY an-hmac-key-for-the-tests\n"+
		"REQUIRE_SOURCE_ADDRESS Y\n"+cycle), nil)
	if err != nil {
		t.Fatal(err)
	}
	srv.SetSPA(&SPA{Port: 62201, Verifier: &spadoor.Verifier{Stanzas: a.Stanzas, Replays: &spadoor.Cache{}}})
	return srv, out
}

// spaPacket is a packet spaServer's stanza takes, asking tcp/22 for
// 10.77.0.5, and its message.
func spaPacket(t *testing.T) (string, spa.Message) {
	t.Helper()
	k := spa.Keys{Key: []byte("a-passphrase-for-tests"), HMACKey: []byte("an-hmac-key-for-the-tests"), HMAC: spa.SHA256}
	m := spa.Message{Random: "1234567890123456", User: "alice", Time: time.Now().Unix(), Version: spa.Version, Type: spa.AccessMsg, Access: "10.77.0.5,tcp/22"}
	p, err := spa.Build(m, spa.SHA256, k, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return p, m
}

// An SPA packet on the SPA port goes to the verifier, not the doors; a
// dry run (knockd --replay) says what its stanza would run, with fwknopd's
// variables filled in, and the kernel filter lets the SPA port through.
func TestSPAStage(t *testing.T) {
	srv, out := spaServer(t, "CMD_CYCLE_OPEN open $SRC $PROTO/$PORT $TIMEOUT from $PKT_SRC to $DST\nCMD_CYCLE_CLOSE close $IP\nCMD_CYCLE_TIMER 9\n")
	if _, udp := srv.filterPorts(); len(udp) != 1 || udp[0] != 62201 {
		t.Fatalf("filter's udp ports %v", udp)
	}
	p, m := spaPacket(t)
	h := Packet{Src: srcA, Dst: me, Proto: knock.UDP, Port: 62201, SPort: 40000, Data: []byte(p), Time: time.Now()}
	srv.Handle(&h)
	// $PROTO is the protocol's number and $TIMEOUT the packet's time
	// plus the client's timeout (none here), as fwknopd has them.
	want := fmt.Sprintf("10.77.0.1: spa: (stanza #1) would be accepted: tcp/22 for 10.77.0.5, 30s\n"+
		"spa#1: would run: open 10.77.0.5 6/22 %d from 10.77.0.1 to 10.77.0.2\nspa#1: would run after Cmd_Timeout (9s): close 10.77.0.5\n", m.Time)
	if out.String() != want {
		t.Fatalf("dry run:\n%s\nwant\n%s", out.String(), want)
	}
	if st := srv.Stats(); st.Opened != 1 {
		t.Errorf("opened %d", st.Opened)
	}
	// Its replay is refused, and the dry run says so.
	srv.Handle(&h)
	if got := strings.TrimPrefix(out.String(), want); got != "10.77.0.1: spa: Replay detected from source IP: 10.77.0.1\n" {
		t.Errorf("the replay: %q", got)
	}
}

// BenchmarkSPAFloodPcap is the per-packet cost of decode, the SPA stage
// and its verifier over a flood of forged SPA packets (valid base64 of a
// real packet's length, a wrong HMAC) from 60,000 spoofed sources, one
// stanza: what knockd spends a forgery, capture aside.
//
//	go test ./server -run '^$' -bench SPAFloodPcap -benchmem
func BenchmarkSPAFloodPcap(b *testing.B) {
	payloads := flood.Forgeries(204, 1024, 1) // fwknop's packets for tcp/22 with an HMAC are 204 bytes
	frames, cis := floodFrames(b, flood.Spec{Packets: 100_000, Sources: 60_000, FirstSource: netip.MustParseAddr("10.77.1.0"),
		Ports: []uint16{62201}, Dst: me, SrcMAC: macA, DstMAC: macB, Seed: 1, Payloads: payloads})
	srv, _ := floodServer(b, 0, false)
	a, err := fwknopconf.ParseAccess("access.conf", []byte("SOURCE ANY\nKEY a-passphrase-for-tests\nHMAC_KEY an-hmac-key-for-the-tests\nCMD_CYCLE_OPEN true\nCMD_CYCLE_CLOSE NONE\n"), nil)
	if err != nil {
		b.Fatal(err)
	}
	srv.SetSPA(&SPA{Port: 62201, Verifier: &spadoor.Verifier{Stanzas: a.Stanzas, Replays: &spadoor.Cache{}}})
	dec := NewDecoder(LinkTypeEthernet)
	var h Packet
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		n := i % len(frames)
		if dec.Decode(frames[n], cis[n], &h) {
			srv.Handle(&h)
		}
	}
	if st := srv.Stats(); st.Opened != 0 {
		b.Fatalf("opened %d", st.Opened)
	}
}

// TestSPAWorkers: with SPA workers a packet is decided off the capture's
// path, its data copied first (the capture reuses its buffer): among
// forgeries, the real packet opens its door once, and its copies are
// replays, however the workers interleave.
func TestSPAWorkers(t *testing.T) {
	srv, out := spaServer(t, "CMD_CYCLE_OPEN open $SRC\nCMD_CYCLE_CLOSE NONE\n")
	srv.StartSPAWorkers(t.Context(), 4)
	p, _ := spaPacket(t)
	buf := make([]byte, len(p))
	for i := range 200 {
		data := []byte(p)
		if i%10 != 5 { // a forgery: the packet with a byte changed
			data[i%len(data)] ^= 1
		}
		copy(buf, data) // one buffer for every packet, as a capture ring
		srv.Handle(&Packet{Src: srcA, Dst: me, Proto: knock.UDP, Port: 62201, SPort: 40000, Data: buf, Time: time.Now()})
		for j := range buf {
			buf[j] = 'x' // the capture moves on
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for srv.Stats().Opened < 1 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond) // for a second opening, were there one
	if st := srv.Stats(); st.Opened != 1 || st.SPADropped != 0 {
		t.Fatalf("opened %d, dropped %d; want 1 and 0\n%s", st.Opened, st.SPADropped, out.String())
	}
	// What would run, once; each packet said in the dry run.
	said := out.String()
	if strings.Count(said, "would run") != 1 || !strings.Contains(said, "\nspa#1: would run: open 10.77.0.5\n") {
		t.Fatalf("what would run, in:\n%s", said)
	}
	if n := strings.Count(said, "\n"); n != 201 {
		t.Fatalf("%d lines for 200 packets and one door, want 201", n)
	}
}
