package server

import (
	"bytes"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"

	"github.com/knocktools/knock"
	"github.com/knocktools/knock/internal/flood"
)

const floodConf = `[door1]
sequence = 7000,8000,9000
seq_timeout = 5
[door2]
sequence = 7100,8100,9100
seq_timeout = 5
`

// The spoofed SYNs hit the doors' first ports (a quarter go to random
// ports): what makes the most state, and never a sequence by chance.
var floodPorts = []uint16{7000, 7100}

const floodScan = 0.25

func floodSeq(ports ...uint16) knock.Sequence {
	var s knock.Sequence
	for _, p := range ports {
		s = append(s, knock.Knock{Port: p, Proto: knock.TCP, Flags: knock.SYN})
	}
	return s
}

// floodKnockers are five real knockers, alternating between the doors.
func floodKnockers(first string) []flood.Knocker {
	a := netip.MustParseAddr(first)
	var ks []flood.Knocker
	for i := range 5 {
		k := flood.Knocker{Src: a, Seq: floodSeq(7000, 8000, 9000)}
		if i%2 == 1 {
			k.Seq = floodSeq(7100, 8100, 9100)
		}
		ks = append(ks, k)
		a = a.Next()
	}
	return ks
}

// floodFrames writes a flood to a pcap file and reads its frames back.
func floodFrames(tb testing.TB, spec flood.Spec) ([][]byte, []gopacket.CaptureInfo) {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "flood.pcap")
	var buf bytes.Buffer
	if _, err := flood.Write(&buf, spec); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		tb.Fatal(err)
	}
	src, err := OpenReplay(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer src.Close()
	var frames [][]byte
	var cis []gopacket.CaptureInfo
	for {
		data, ci, err := src.ReadPacketData()
		if err != nil {
			break
		}
		frames = append(frames, append([]byte(nil), data...))
		cis = append(cis, ci)
	}
	return frames, cis
}

// floodServer is a server with floodConf; with count, its openings are
// counted by knocker.
func floodServer(tb testing.TB, maxSources int, count bool) (*Server, openCounter) {
	opened := openCounter{}
	var logTo io.Writer
	if count {
		logTo = opened
	}
	srv := newTestServer(tb, floodConf, logTo)
	srv.SetLocal([]netip.Addr{me, me6})
	if maxSources > 0 {
		srv.tracker.MaxSources = maxSources
	}
	return srv, opened
}

// openCounter counts the "IP: door: OPEN SESAME" lines of a verbose log
// by knocker.
type openCounter map[netip.Addr]int

func (c openCounter) Write(p []byte) (int, error) {
	if ip, _, ok := strings.Cut(string(p), ": "); ok && strings.HasSuffix(strings.TrimSpace(string(p)), "OPEN SESAME") {
		c[netip.MustParseAddr(ip)]++
	}
	return len(p), nil
}

// TestFloodLetsRealKnockersIn replays floods of spoofed SYNs to every door
// port with real knockers woven in: each real knocker gets in, and the
// table never holds more than its bound, however many sources there are.
func TestFloodLetsRealKnockersIn(t *testing.T) {
	for _, tc := range []struct {
		name       string
		packets    int
		sources    int
		first      string
		knockers   string
		dst        netip.Addr
		maxSources int
		gap        int
	}{
		{"ipv4 60k sources", 300_000, 60_000, "10.77.1.0", "10.77.250.1", me, 0, 20_000},
		{"ipv6 distinct sources, small table", 200_000, 200_000, "fd77:f1::", "fd77:fa::1", me6, 4096, 3_000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if testing.Short() {
				t.Skip("a long replay")
			}
			knockers := floodKnockers(tc.knockers)
			frames, cis := floodFrames(t, flood.Spec{Packets: tc.packets, Sources: tc.sources,
				FirstSource: netip.MustParseAddr(tc.first), Ports: floodPorts, Scan: floodScan, Dst: tc.dst,
				SrcMAC: macA, DstMAC: macB, Knockers: knockers, Gap: tc.gap, Seed: 1})
			srv, opened := floodServer(t, tc.maxSources, true)
			dec := NewDecoder(LinkTypeEthernet)
			var h Packet
			peak, queue := 0, 0
			for i, data := range frames {
				if dec.Decode(data, cis[i], &h) {
					srv.Handle(&h)
				}
				peak = max(peak, srv.tracker.Tracked())
				queue = max(queue, len(srv.tracker.queue)-srv.tracker.head)
			}
			for _, k := range knockers {
				if opened[k.Src] != 1 {
					t.Errorf("real knocker %s got in %d times, want once", k.Src, opened[k.Src])
				}
			}
			if len(opened) != len(knockers) {
				t.Errorf("%d sources got in, want only the %d real knockers", len(opened), len(knockers))
			}
			if limit := srv.tracker.MaxSources; peak > limit || queue > 2*limit+1025 {
				t.Errorf("tracked %d sources at once and queued %d, bound %d", peak, queue, limit)
			}
		})
	}
}

// BenchmarkFloodPcap is the per-packet cost of decode, filter and state
// machine over the frames of a flood pcap: 60,000 spoofed sources hitting
// every door port, five real knockers among them.
//
//	go test ./server -run '^$' -bench FloodPcap -benchmem
func BenchmarkFloodPcap(b *testing.B) {
	frames, cis := floodFrames(b, flood.Spec{Packets: 200_000, Sources: 60_000,
		FirstSource: netip.MustParseAddr("10.77.1.0"), Ports: floodPorts, Scan: floodScan, Dst: me,
		SrcMAC: macA, DstMAC: macB, Knockers: floodKnockers("10.77.250.1"), Gap: 20_000, Seed: 1})
	srv, _ := floodServer(b, 0, false)
	dec := NewDecoder(LinkTypeEthernet)
	span := cis[len(cis)-1].Timestamp.Sub(cis[0].Timestamp) + time.Second
	var h Packet
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		n := i % len(frames)
		ci := cis[n]
		ci.Timestamp = ci.Timestamp.Add(time.Duration(i/len(frames)) * span) // time goes on between laps
		if dec.Decode(frames[n], ci, &h) {
			srv.Handle(&h)
		}
	}
}

// BenchmarkFloodDoors is what the number of doors costs under one flood:
// 300,000 spoofed first knocks from distinct IPv6 sources at the first
// port that 1, 10, 100 or 200 doors share (door i: 7000, 8000+i,
// 9000+i), with the default knocker table and log limit. It reports the
// cost per packet and the peak of the server's Go heap during the replay
// (above what the test's frames take); compare the rows: 200 doors stay
// within 3x one door's CPU, and the heap does not grow with the doors.
//
//	go test ./server -run '^$' -bench FloodDoors -benchtime 1x
func BenchmarkFloodDoors(b *testing.B) {
	frames, cis := floodFrames(b, flood.Spec{Packets: 300_000, Sources: 300_000,
		FirstSource: netip.MustParseAddr("fd77:f1::"), Ports: []uint16{7000}, Dst: me6,
		SrcMAC: macA, DstMAC: macB, Seed: 1})
	for _, doors := range []int{1, 10, 100, 200} {
		b.Run(fmt.Sprintf("doors=%d", doors), func(b *testing.B) {
			var conf strings.Builder
			for i := range doors {
				fmt.Fprintf(&conf, "[door%d]\nsequence = 7000,%d,%d\nseq_timeout = 5\ncommand = true\n", i, 8000+i, 9000+i)
			}
			var peak, base uint64
			var ms runtime.MemStats
			b.ResetTimer()
			for range b.N {
				b.StopTimer()
				runtime.GC()
				runtime.ReadMemStats(&ms)
				base = ms.HeapInuse // the frames, which knockd would not hold
				srv := newTestServer(b, conf.String(), io.Discard)
				srv.SetLocal([]netip.Addr{me, me6})
				dec := NewDecoder(LinkTypeEthernet)
				var h Packet
				b.StartTimer()
				for i, data := range frames {
					if dec.Decode(data, cis[i], &h) {
						srv.Handle(&h)
					}
					if i%20_000 == 0 {
						b.StopTimer()
						runtime.ReadMemStats(&ms)
						peak = max(peak, ms.HeapInuse-min(base, ms.HeapInuse))
						b.StartTimer()
					}
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(frames)), "ns/packet")
			b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
		})
	}
}
