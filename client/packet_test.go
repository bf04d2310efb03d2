package client

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/knocktools/knock"
)

// onesSum is the Internet checksum sum (RFC 1071) folded to 16 bits; over
// data that includes a correct checksum it is 0xffff.
func onesSum(parts ...[]byte) uint16 {
	var sum uint32
	for _, b := range parts {
		for i := 0; i+1 < len(b); i += 2 {
			sum += uint32(binary.BigEndian.Uint16(b[i:]))
		}
		if len(b)%2 == 1 {
			sum += uint32(b[len(b)-1]) << 8
		}
	}
	for sum > 0xffff {
		sum = sum>>16 + sum&0xffff
	}
	return uint16(sum)
}

func pseudoHeader(src, dst netip.Addr, tcpLen int) []byte {
	if src.Is4() {
		b := append(src.AsSlice(), dst.AsSlice()...)
		return append(b, 0, 6, byte(tcpLen>>8), byte(tcpLen))
	}
	b := append(src.AsSlice(), dst.AsSlice()...)
	b = binary.BigEndian.AppendUint32(b, uint32(tcpLen))
	return append(b, 0, 0, 0, 6)
}

func TestBuildSegment(t *testing.T) {
	tests := []struct {
		name     string
		src, dst string
		flags    knock.TCPFlags
		ttl      uint8
	}{
		{"ipv4 syn", "10.77.0.1", "10.77.0.2", knock.SYN, 0},
		{"ipv4 fin+psh", "10.77.0.1", "10.77.0.2", knock.FIN | knock.PSH, 7},
		{"ipv4 every flag", "10.77.0.1", "10.77.0.2", 0xff, 255},
		{"ipv6 syn", "fd77::1", "fd77::2", knock.SYN, 0},
		{"ipv6 syn+urg", "fd77::1", "fd77::2", knock.SYN | knock.URG, 3},
		{"ipv6 ack", "fd77::1", "fd77::2", knock.ACK, 64},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src, dst := netip.MustParseAddr(tt.src), netip.MustParseAddr(tt.dst)
			seg, err := buildSegment(segmentSpec{Src: src, Dst: dst, SrcPort: 40000, DstPort: 7000,
				Flags: tt.flags, TTL: tt.ttl, Seq: 12345, Ack: 999, ID: 77})
			if err != nil {
				t.Fatal(err)
			}
			first := layers.LayerTypeIPv4
			if src.Is6() {
				first = layers.LayerTypeIPv6
			}
			p := gopacket.NewPacket(seg.packet, first, gopacket.Default)
			if el := p.ErrorLayer(); el != nil {
				t.Fatalf("decode: %v", el.Error())
			}
			tcp, _ := p.Layer(layers.LayerTypeTCP).(*layers.TCP)
			if tcp == nil {
				t.Fatal("no TCP layer")
			}
			if tcp.SrcPort != 40000 || tcp.DstPort != 7000 || tcp.Seq != 12345 {
				t.Errorf("ports/seq = %d %d %d", tcp.SrcPort, tcp.DstPort, tcp.Seq)
			}
			if got := knock.TCPFlags(seg.tcp()[13]); got != tt.flags {
				t.Errorf("flags on the wire = %v, want %v", got, tt.flags)
			}
			wantTTL := tt.ttl
			if wantTTL == 0 {
				wantTTL = defaultTTL
			}
			if ip4, ok := p.Layer(layers.LayerTypeIPv4).(*layers.IPv4); ok {
				if ip4.TTL != wantTTL || ip4.Id != 77 || int(ip4.Length) != len(seg.packet) {
					t.Errorf("ipv4 header: ttl %d id %d len %d", ip4.TTL, ip4.Id, ip4.Length)
				}
				if s := onesSum(seg.packet[:20]); s != 0xffff {
					t.Errorf("IPv4 header checksum wrong (sum %#x)", s)
				}
				if seg.ip4.Checksum != binary.BigEndian.Uint16(seg.packet[10:]) {
					t.Error("layer checksum not filled in")
				}
			}
			if ip6, ok := p.Layer(layers.LayerTypeIPv6).(*layers.IPv6); ok {
				if ip6.HopLimit != wantTTL || int(ip6.Length) != len(seg.tcp()) {
					t.Errorf("ipv6 header: hop limit %d payload %d", ip6.HopLimit, ip6.Length)
				}
			}
			if s := onesSum(pseudoHeader(src, dst, len(seg.tcp())), seg.tcp()); s != 0xffff {
				t.Errorf("TCP checksum wrong (sum %#x)", s)
			}
			hasMSS := len(tcp.Options) == 1 && tcp.Options[0].OptionType == layers.TCPOptionKindMSS
			if wantMSS := tt.flags&(knock.SYN|knock.ACK) == knock.SYN; hasMSS != wantMSS {
				t.Errorf("MSS option present = %v, want %v", hasMSS, wantMSS)
			}
			if tt.flags&knock.ACK != 0 && tcp.Ack != 999 || tt.flags&knock.ACK == 0 && tcp.Ack != 0 {
				t.Errorf("ack number %d with flags %v", tcp.Ack, tt.flags)
			}
		})
	}
}

func TestBuildSegmentRefusesMixedFamilies(t *testing.T) {
	_, err := buildSegment(segmentSpec{Src: netip.MustParseAddr("10.77.0.1"), Dst: netip.MustParseAddr("fd77::2")})
	if err == nil {
		t.Fatal("mixed families accepted")
	}
}

func FuzzBuildSegment(f *testing.F) {
	f.Add(true, uint16(1), uint16(7000), uint8(knock.SYN), uint8(0), uint32(1))
	f.Add(false, uint16(65535), uint16(1), uint8(0xff), uint8(255), uint32(0))
	f.Fuzz(func(t *testing.T, v4 bool, sport, dport uint16, flags, ttl uint8, seq uint32) {
		src, dst := netip.MustParseAddr("fd77::1"), netip.MustParseAddr("fd77::2")
		if v4 {
			src, dst = netip.MustParseAddr("10.77.0.1"), netip.MustParseAddr("10.77.0.2")
		}
		seg, err := buildSegment(segmentSpec{Src: src, Dst: dst, SrcPort: sport, DstPort: dport,
			Flags: knock.TCPFlags(flags), TTL: ttl, Seq: seq})
		if err != nil {
			t.Fatal(err)
		}
		if s := onesSum(pseudoHeader(src, dst, len(seg.tcp())), seg.tcp()); s != 0xffff {
			t.Fatalf("bad TCP checksum")
		}
		if knock.TCPFlags(seg.tcp()[13]) != knock.TCPFlags(flags) {
			t.Fatalf("flags changed")
		}
	})
}

// One builder, reused for a sequence, builds each segment exactly as a
// fresh one would: nothing of the previous segment (its MSS option, its
// ACK number, its family) carries over.
func TestSegmentBuilderReuse(t *testing.T) {
	v4s, v4d := netip.MustParseAddr("10.77.0.1"), netip.MustParseAddr("10.77.0.2")
	v6s, v6d := netip.MustParseAddr("fd77::1"), netip.MustParseAddr("fd77::2")
	specs := []segmentSpec{
		{Src: v4s, Dst: v4d, SrcPort: 40000, DstPort: 7000, Flags: knock.SYN, Seq: 1, ID: 9},
		{Src: v4s, Dst: v4d, SrcPort: 40000, DstPort: 7001, Flags: knock.FIN | knock.ACK, Seq: 2, Ack: 77, TTL: 3},
		{Src: v4s, Dst: v4d, SrcPort: 40000, DstPort: 7002, Flags: knock.SYN, Seq: 3},
		{Src: v6s, Dst: v6d, SrcPort: 40001, DstPort: 7003, Flags: knock.SYN, Seq: 4},
		{Src: v6s, Dst: v6d, SrcPort: 40001, DstPort: 7004, Flags: knock.RST, Seq: 5},
		{Src: v4s, Dst: v4d, SrcPort: 40002, DstPort: 7005, Flags: knock.PSH, Seq: 6},
	}
	var b segmentBuilder
	for i, sp := range specs {
		got, err := b.build(sp)
		if err != nil {
			t.Fatal(err)
		}
		want, err := buildSegment(sp)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.packet, want.packet) || got.tcpOff != want.tcpOff || got.ttl != want.ttl || (got.ip4 == nil) != (want.ip4 == nil) {
			t.Fatalf("segment %d: reused builder gave % x, a fresh one % x", i+1, got.packet, want.packet)
		}
	}
}
