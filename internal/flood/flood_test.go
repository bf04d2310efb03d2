package flood

import (
	"bytes"
	"net"
	"net/netip"
	"strings"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/knocktools/knock"
)

var (
	macA = net.HardwareAddr{2, 0, 0, 0, 0, 1}
	macB = net.HardwareAddr{2, 0, 0, 0, 0, 2}
)

type frame struct {
	src, dst netip.Addr
	port     uint16
	syn, udp bool
	payload  string
}

func readAll(t *testing.T, b []byte) []frame {
	t.Helper()
	r, err := pcapgo.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if r.LinkType() != layers.LinkTypeEthernet {
		t.Fatalf("link type %v", r.LinkType())
	}
	var out []frame
	for {
		data, _, err := r.ReadPacketData()
		if err != nil {
			break
		}
		p := gopacket.NewPacket(data, layers.LayerTypeEthernet, gopacket.Default)
		if el := p.ErrorLayer(); el != nil {
			t.Fatalf("frame %d: %v", len(out), el.Error())
		}
		var f frame
		if eth := p.Layer(layers.LayerTypeEthernet).(*layers.Ethernet); !bytes.Equal(eth.DstMAC, macB) || !bytes.Equal(eth.SrcMAC, macA) {
			t.Fatalf("frame %d: MACs %v -> %v", len(out), eth.SrcMAC, eth.DstMAC)
		}
		src, dst := p.NetworkLayer().NetworkFlow().Endpoints()
		f.src, _ = netip.AddrFromSlice(src.Raw())
		f.dst, _ = netip.AddrFromSlice(dst.Raw())
		switch l := p.TransportLayer().(type) {
		case *layers.TCP:
			f.port, f.syn = uint16(l.DstPort), l.SYN
		case *layers.UDP:
			f.port, f.udp, f.payload = uint16(l.DstPort), true, string(l.Payload)
		}
		out = append(out, f)
	}
	return out
}

func TestWrite(t *testing.T) {
	seq, _ := knock.ParseSequence([]string{"7000", "8000:udp", "9000"}, knock.Defaults{})
	for _, tc := range []struct {
		name      string
		first     string
		dst       string
		knocker   string
		wantFirst string
	}{
		{"ipv4", "10.77.1.250", "10.77.0.2", "10.77.250.1", "10.77.1.250"},
		{"ipv6", "fd77:f1::fffe", "fd77::2", "fd77:fa::1", "fd77:f1::fffe"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			spec := Spec{Packets: 1000, Sources: 10, FirstSource: netip.MustParseAddr(tc.first),
				Ports: []uint16{7000, 7100}, Dst: netip.MustParseAddr(tc.dst), SrcMAC: macA, DstMAC: macB,
				Knockers: []Knocker{{netip.MustParseAddr(tc.knocker), seq}}, Gap: 100, Seed: 1}
			sum, err := Write(&buf, spec)
			if err != nil {
				t.Fatal(err)
			}
			if sum != (Summary{Frames: 1003, Spoofed: 1000, Knocks: 3}) {
				t.Fatalf("summary %+v", sum)
			}
			frames := readAll(t, buf.Bytes())
			if len(frames) != sum.Frames {
				t.Fatalf("%d frames, summary says %d", len(frames), sum.Frames)
			}
			sources := map[netip.Addr]bool{}
			var knocks []int
			for i, f := range frames {
				if f.dst != spec.Dst {
					t.Fatalf("frame %d to %s", i, f.dst)
				}
				if f.src == spec.Knockers[0].Src {
					knocks = append(knocks, i)
					continue
				}
				if !f.syn || (f.port != 7000 && f.port != 7100) {
					t.Fatalf("spoofed frame %d: %+v", i, f)
				}
				sources[f.src] = true
			}
			if len(sources) != 10 || !sources[netip.MustParseAddr(tc.wantFirst)] {
				t.Fatalf("sources %v", sources)
			}
			// The knocker starts half way through what leaves room for its
			// knocks, and knocks every 100 spoofed packets.
			if len(knocks) != 3 || knocks[0] != 400 || knocks[1] != 501 || knocks[2] != 602 {
				t.Fatalf("knocks at %v", knocks)
			}
			if f := frames[knocks[1]]; !f.udp || f.port != 8000 {
				t.Fatalf("second knock %+v", f)
			}
		})
	}
}

func TestNth(t *testing.T) {
	for _, tc := range []struct {
		a    string
		n    int
		want string
	}{
		{"10.77.1.0", 0, "10.77.1.0"},
		{"10.77.1.255", 1, "10.77.2.0"},
		{"10.77.1.0", 60000, "10.77.235.96"},
		{"fd77:f1::", 1_000_000, "fd77:f1::f:4240"},
		{"fd77:f1::ffff:ffff", 1, "fd77:f1::1:0:0"},
	} {
		if got := nth(netip.MustParseAddr(tc.a), tc.n); got.String() != tc.want {
			t.Errorf("nth(%s, %d) = %s, want %s", tc.a, tc.n, got, tc.want)
		}
	}
}

func TestWriteRefusesBadSpecs(t *testing.T) {
	good := Spec{Packets: 1, Sources: 1, FirstSource: netip.MustParseAddr("10.77.1.0"), Ports: []uint16{1},
		Dst: netip.MustParseAddr("10.77.0.2")}
	for name, mod := range map[string]func(*Spec){
		"no sources": func(s *Spec) { s.Sources = 0 },
		"no ports":   func(s *Spec) { s.Ports = nil },
		"knocks do not fit": func(s *Spec) {
			s.Knockers = []Knocker{{Src: netip.MustParseAddr("10.77.250.1"), Seq: knock.Sequence{{Port: 1}, {Port: 2}}}}
			s.Gap = 2
		},
		"mixed family": func(s *Spec) { s.Dst = netip.MustParseAddr("fd77::2") },
		"knocker family": func(s *Spec) {
			s.Knockers = []Knocker{{Src: netip.MustParseAddr("fd77::9"), Seq: knock.Sequence{{Port: 1}}}}
		},
	} {
		s := good
		mod(&s)
		if _, err := Write(&bytes.Buffer{}, s); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if _, err := Write(&bytes.Buffer{}, good); err != nil {
		t.Fatal(err)
	}
}

// TestWriteSPA: with Payloads the spoofed packets are UDP datagrams
// carrying them in turn, and a knocker's knock carries its own payload.
func TestWriteSPA(t *testing.T) {
	var buf bytes.Buffer
	real := knock.Knock{Port: 62201, Proto: knock.UDP, Payload: strings.Repeat("R", 300), HasPayload: true}
	sum, err := Write(&buf, Spec{Packets: 10, Sources: 4, FirstSource: netip.MustParseAddr("10.77.1.0"), Ports: []uint16{62201},
		Dst: netip.MustParseAddr("10.77.0.2"), SrcMAC: macA, DstMAC: macB, Gap: 1, Seed: 1,
		Payloads: [][]byte{[]byte(strings.Repeat("A", 250)), []byte(strings.Repeat("B", 250))},
		Knockers: []Knocker{{Src: netip.MustParseAddr("10.77.250.1"), Seq: knock.Sequence{real}}}})
	if err != nil || sum.Frames != 11 || sum.Knocks != 1 {
		t.Fatalf("%+v, %v", sum, err)
	}
	frames := readAll(t, buf.Bytes())
	var a, b, r int
	for _, f := range frames {
		switch {
		case !f.udp || f.port != 62201:
			t.Fatalf("frame %+v", f)
		case f.payload == real.Payload && f.src == netip.MustParseAddr("10.77.250.1"):
			r++
		case f.payload == strings.Repeat("A", 250):
			a++
		case f.payload == strings.Repeat("B", 250):
			b++
		}
	}
	if a != 5 || b != 5 || r != 1 {
		t.Fatalf("payloads A %d, B %d, real %d", a, b, r)
	}
}
