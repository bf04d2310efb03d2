package server

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/knocktools/knock"
	"github.com/knocktools/knock/knockdconf"
)

// writePcap writes TCP SYNs (or UDP datagrams for ports given as
// negative numbers) from src to 10.77.0.2, one per entry, at the given
// offsets from t0.
func writePcap(t *testing.T, path, src string, knocks []struct {
	port int
	at   time.Duration
}) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w := pcapgo.NewWriter(f)
	if err := w.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
		t.Fatal(err)
	}
	for _, k := range knocks {
		ip := &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Protocol: layers.IPProtocolTCP, SrcIP: net.ParseIP(src).To4(), DstIP: net.IP{10, 77, 0, 2}}
		var l4 gopacket.SerializableLayer
		if k.port < 0 {
			ip.Protocol = layers.IPProtocolUDP
			l4 = &layers.UDP{SrcPort: 40000, DstPort: layers.UDPPort(-k.port)}
		} else {
			l4 = &layers.TCP{SrcPort: 40000, DstPort: layers.TCPPort(k.port), SYN: true}
		}
		data := serialize(t, &layers.Ethernet{SrcMAC: macA, DstMAC: macB, EthernetType: layers.EthernetTypeIPv4}, ip, l4)
		ci := gopacket.CaptureInfo{Timestamp: t0.Add(k.at), CaptureLength: len(data), Length: len(data)}
		if err := w.WritePacket(ci, data); err != nil {
			t.Fatal(err)
		}
	}
}

func TestReplay(t *testing.T) {
	dir := t.TempDir()
	trace := filepath.Join(dir, "trace")
	cfg, err := knockdconf.Parse("r.conf", []byte("[door]\nsequence = 7001,7002:udp,7003\nseq_timeout = 5\ncommand = echo %IP% >> "+trace+"\n"))
	if err != nil {
		t.Fatal(err)
	}
	var logged bytes.Buffer
	log := &Logger{Verbose: &logged, Now: time.Now}
	actions := &Actions{Log: log}
	srv, err := New(cfg, log, actions)
	if err != nil {
		t.Fatal(err)
	}
	pcap := filepath.Join(dir, "in.pcap")
	type k = struct {
		port int
		at   time.Duration
	}
	// 10.77.0.1 knocks in time; 10.77.0.3 is too slow: the recorded times,
	// not the replay's speed, decide.
	writePcap(t, pcap, "10.77.0.1", []k{{7001, 0}, {-7002, time.Second}, {7003, 2 * time.Second}})
	src, err := OpenReplay(pcap)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Serve(context.Background(), src); err != nil {
		t.Fatal(err)
	}
	slow := filepath.Join(dir, "slow.pcap")
	writePcap(t, slow, "10.77.0.3", []k{{7001, 10 * time.Second}, {-7002, 12 * time.Second}, {7003, 16 * time.Second}})
	src, _ = OpenReplay(slow)
	if err := srv.Serve(context.Background(), src); err != nil {
		t.Fatal(err)
	}
	actions.Shutdown(context.Background())
	if b, _ := os.ReadFile(trace); string(b) != "10.77.0.1\n" {
		t.Fatalf("trace %q\nlog:\n%s", b, logged.String())
	}
	if st := srv.Stats(); st.Packets != 6 || st.Visible != 6 || st.Opened != 1 {
		t.Fatalf("stats %+v", st)
	}
	if !strings.Contains(logged.String(), "10.77.0.3: door: sequence timeout (stage 2)") {
		t.Fatalf("no timeout logged:\n%s", logged.String())
	}
}

func TestReplayRejectsNonPcap(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x")
	os.WriteFile(path, []byte("not a capture at all"), 0o600)
	if _, err := OpenReplay(path); err == nil || !strings.Contains(err.Error(), "not a pcap or pcapng file") {
		t.Fatalf("err = %v", err)
	}
}

// newTestServer runs the knockd.conf text conf, its log lines going to
// logTo (nil: nowhere).
func newTestServer(t testing.TB, conf string, logTo io.Writer) *Server {
	t.Helper()
	cfg, err := knockdconf.Parse("test.conf", []byte(conf))
	if err != nil {
		t.Fatal(err)
	}
	log := &Logger{Verbose: logTo, Now: time.Now}
	srv, err := New(cfg, log, &Actions{Log: log})
	if err != nil {
		t.Fatal(err)
	}
	return srv
}

// Sources that can never be a real peer open nothing: an IPv4-mapped or
// IPv4-compatible IPv6 source (a tool that unmaps %IP% would open an IPv4
// hole for it), unspecified, multicast and broadcast sources, and a
// loopback source that arrived on a link other than loopback.
func TestNoDoorForImpossibleSources(t *testing.T) {
	var logged bytes.Buffer
	srv := newTestServer(t, "[d]\nsequence = 7001,7002\nTarget = fd77::2\n\n[d4]\nsequence = 7001,7002\nTarget = 10.77.0.2\n", &logged)
	knockFrom := func(src, dst, iface string, loop bool) {
		for i, port := range []uint16{7001, 7002} {
			h := Packet{Src: netip.MustParseAddr(src), Dst: netip.MustParseAddr(dst), Proto: knock.TCP, Port: port,
				Flags: knock.SYN, Time: t0.Add(time.Duration(i) * time.Millisecond), If: iface, OnLoopback: loop}
			srv.Handle(&h)
		}
	}
	knockFrom("::ffff:10.77.0.1", "fd77::2", "eth0", false)
	knockFrom("::10.77.0.1", "fd77::2", "eth0", false)
	knockFrom("::", "fd77::2", "eth0", false)
	knockFrom("ff02::1", "fd77::2", "eth0", false)
	knockFrom("0.0.0.0", "10.77.0.2", "eth0", false)
	knockFrom("224.0.0.5", "10.77.0.2", "eth0", false)
	knockFrom("255.255.255.255", "10.77.0.2", "eth0", false)
	knockFrom("127.0.0.1", "10.77.0.2", "eth0", false)
	knockFrom("::1", "fd77::2", "eth0", false)
	knockFrom("127.0.0.1", "10.77.0.2", "", false) // replayed, to another address
	if got := srv.Stats().Opened; got != 0 {
		t.Fatalf("opened %d times for impossible sources:\n%s", got, logged.String())
	}
	knockFrom("127.0.0.1", "10.77.0.2", "lo", true) // real on loopback
	knockFrom("fd77::1", "fd77::2", "eth0", false)
	if got := srv.Stats().Opened; got != 2 {
		t.Fatalf("opened %d times, want 2 (loopback on lo, fd77::1):\n%s", got, logged.String())
	}
}

func TestOnlyIPv4AndLocalAddresses(t *testing.T) {
	var logged bytes.Buffer
	srv := newTestServer(t, "[d]\nsequence = 7001\n", &logged)
	srv.Log.Debug = true
	srv.SetLocal([]netip.Addr{me, me6})
	hit := func(src, dst string) {
		h := Packet{Src: netip.MustParseAddr(src), Dst: netip.MustParseAddr(dst), Proto: knock.TCP, Port: 7001, Flags: knock.SYN, Time: t0}
		srv.Handle(&h)
	}
	hit("10.77.0.1", "10.77.0.50") // not ours
	hit("fd77::1", "fd77::2")
	srv.OnlyIPv4 = true
	hit("fd77::1", "fd77::2") // -4
	hit("10.77.0.1", "10.77.0.2")
	if st := srv.Stats(); st.Opened != 2 {
		t.Fatalf("opened %d, want 2 (ipv6 before -4, ipv4)\n%s", st.Opened, logged.String())
	}
	if !strings.Contains(logged.String(), "2026-11-24 12:00:00: tcp: 10.77.0.1:0 -> 10.77.0.2:7001 0 bytes") {
		t.Fatalf("no -D packet line:\n%s", logged.String())
	}
}

// BenchmarkFlood runs the whole per-packet path (decode, filter, state
// machine) over spoofed SYNs to a door's first port from ever new sources,
// with the source table full: what a flood costs per packet.
//
//	go test ./server -run '^$' -bench Flood -benchmem
func BenchmarkFlood(b *testing.B) {
	srv := newTestServer(b, "[d]\nsequence = 7001,7002,7003\n", nil)
	srv.SetLocal([]netip.Addr{me})
	const n = 1 << 16
	frames := make([][]byte, n)
	for i := range frames {
		ip := &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Protocol: layers.IPProtocolTCP,
			SrcIP: net.IP{10, 78, byte(i >> 8), byte(i)}, DstIP: net.IP{10, 77, 0, 2}}
		frames[i] = serialize(b, &layers.Ethernet{SrcMAC: macA, DstMAC: macB, EthernetType: layers.EthernetTypeIPv4},
			ip, &layers.TCP{SrcPort: 40000, DstPort: 7001, SYN: true})
	}
	dec := NewDecoder(LinkTypeEthernet)
	var h Packet
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		data := frames[i%n]
		ci := gopacket.CaptureInfo{Timestamp: t0.Add(time.Duration(i) * time.Microsecond), Length: len(data)}
		if dec.Decode(data, ci, &h) {
			srv.Handle(&h)
		}
	}
}

// With -l, a resolver that never answers does not hold up the packet
// path: Who returns the bare address at once, the knocker still gets in,
// and names found later appear in later lines. Lookups are bounded: a
// flood of new sources finds the queue full and goes without names.
func TestLookupNeverBlocksPackets(t *testing.T) {
	release := make(chan struct{})
	asked := make(chan string, 1000)
	var logged bytes.Buffer
	srv := newTestServer(t, "[d]\nsequence = 7001,7002\n", &logged)
	srv.SetLocal([]netip.Addr{me})
	srv.Log.Lookup = true
	srv.Log.LookupAddr = func(ctx context.Context, addr string) ([]string, error) {
		asked <- addr
		select {
		case <-release:
			return []string{"knocker.example."}, nil
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	start := time.Now()
	for i, port := range []uint16{7001, 7002} {
		h := Packet{Src: netip.MustParseAddr("10.77.0.1"), Dst: me, Proto: knock.TCP, Port: port, Flags: knock.SYN, Time: t0.Add(time.Duration(i) * time.Millisecond)}
		srv.Handle(&h)
	}
	// A flood of first knocks from new sources while the resolver hangs.
	for i := range 1000 {
		h := Packet{Src: netip.AddrFrom4([4]byte{10, 77, byte(2 + i/250), byte(i % 250)}), Dst: me, Proto: knock.TCP, Port: 7001, Flags: knock.SYN, Time: t0.Add(time.Second)}
		srv.Handle(&h)
	}
	if srv.Stats().Opened != 1 || !strings.Contains(logged.String(), "10.77.0.1: d: OPEN SESAME") {
		t.Fatalf("the knocker did not get in while DNS hung:\n%s", logged.String())
	}
	if took := time.Since(start); took > lookupTimeout {
		t.Fatalf("1002 packets took %v: the packet path waited for DNS", took) // a hang, not a speed target
	}
	srv.Log.names.mu.Lock()
	n := len(srv.Log.names.known)
	srv.Log.names.mu.Unlock()
	if n > lookupQueue+1 {
		t.Fatalf("%d lookups queued or remembered for a flood, want at most %d", n, lookupQueue+1)
	}
	close(release)
	// The name, once found, is in the lines that follow.
	deadline := time.Now().Add(10 * time.Second)
	for srv.Log.Who(netip.MustParseAddr("10.77.0.1")) != "10.77.0.1 (knocker.example)" {
		if time.Now().After(deadline) {
			t.Fatalf("the name never appeared: %q", srv.Log.Who(netip.MustParseAddr("10.77.0.1")))
		}
		time.Sleep(time.Millisecond)
	}
}
