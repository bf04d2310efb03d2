package client

import (
	"fmt"
	"net/netip"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/knocktools/knock"
)

// defaultTTL is what raw packets carry when --ttl is not given: the common
// default of Linux, macOS and the BSDs, so a knock does not stand out.
const defaultTTL = 64

// segmentSpec is everything that goes into one raw TCP knock.
type segmentSpec struct {
	Src, Dst         netip.Addr
	SrcPort, DstPort uint16
	Flags            knock.TCPFlags
	TTL              uint8
	Seq, Ack         uint32
	ID               uint16 // IPv4 identification
}

// segment is a built TCP knock: the whole IP packet as it goes on the wire,
// and the offset of its TCP header. Linux raw sockets take the whole packet
// (IPPROTO_RAW); the BSDs' take the IPv4 header from us (IP_HDRINCL) but
// an IPv6 packet's TCP part only.
type segment struct {
	ip4    *layers.IPv4 // nil for IPv6
	dst    netip.Addr
	ttl    uint8
	packet []byte
	tcpOff int
}

func (s *segment) tcp() []byte { return s.packet[s.tcpOff:] }

// buildSegment serializes the IP and TCP headers with gopacket, checksums
// included. A SYN carries an MSS option as a kernel's would; other flag sets
// go out bare.
func buildSegment(sp segmentSpec) (*segment, error) {
	var b segmentBuilder
	return b.build(sp)
}

// segmentBuilder builds the segments of one sequence in the same layers
// and buffer, one after another: a segment is sent before the next one is
// built, and then nothing of it is needed. A knock is a whole process, in
// which every allocation is a first one: reused, a sequence's packets cost
// one set of them.
type segmentBuilder struct {
	tcp      layers.TCP
	ip4      layers.IPv4
	ip6      layers.IPv6
	mss      [1]layers.TCPOption
	mssData  [2]byte
	src, dst [16]byte
	buf      gopacket.SerializeBuffer
	seg      segment
}

// build is buildSegment into b; the segment it returns is good until the
// next call.
func (b *segmentBuilder) build(sp segmentSpec) (*segment, error) {
	if !sp.Src.IsValid() || !sp.Dst.IsValid() || sp.Src.Is4() != sp.Dst.Is4() {
		return nil, fmt.Errorf("build TCP segment: source %v and destination %v must be addresses of one family", sp.Src, sp.Dst)
	}
	ttl := sp.TTL
	if ttl == 0 {
		ttl = defaultTTL
	}
	tcp := &b.tcp
	*tcp = layers.TCP{
		SrcPort: layers.TCPPort(sp.SrcPort),
		DstPort: layers.TCPPort(sp.DstPort),
		Seq:     sp.Seq,
		Window:  64240,
		FIN:     sp.Flags&knock.FIN != 0,
		SYN:     sp.Flags&knock.SYN != 0,
		RST:     sp.Flags&knock.RST != 0,
		PSH:     sp.Flags&knock.PSH != 0,
		ACK:     sp.Flags&knock.ACK != 0,
		URG:     sp.Flags&knock.URG != 0,
		ECE:     sp.Flags&knock.ECE != 0,
		CWR:     sp.Flags&knock.CWR != 0,
	}
	if tcp.ACK {
		tcp.Ack = sp.Ack
	}
	var network gopacket.SerializableLayer
	seg := &b.seg
	*seg = segment{dst: sp.Dst, ttl: ttl}
	mss := uint16(1460)
	b.src, b.dst = sp.Src.As16(), sp.Dst.As16()
	if sp.Src.Is4() {
		ip := &b.ip4
		*ip = layers.IPv4{
			Version:  4,
			IHL:      5,
			TTL:      ttl,
			Id:       sp.ID,
			Flags:    layers.IPv4DontFragment,
			Protocol: layers.IPProtocolTCP,
			SrcIP:    b.src[12:],
			DstIP:    b.dst[12:],
		}
		if err := tcp.SetNetworkLayerForChecksum(ip); err != nil {
			return nil, err
		}
		network, seg.ip4, seg.tcpOff = ip, ip, 20
	} else {
		ip := &b.ip6
		*ip = layers.IPv6{
			Version:    6,
			HopLimit:   ttl,
			NextHeader: layers.IPProtocolTCP,
			SrcIP:      b.src[:],
			DstIP:      b.dst[:],
		}
		if err := tcp.SetNetworkLayerForChecksum(ip); err != nil {
			return nil, err
		}
		network, seg.tcpOff = ip, 40
		mss = 1440
	}
	if tcp.SYN && !tcp.ACK {
		b.mssData = [2]byte{byte(mss >> 8), byte(mss)}
		b.mss[0] = layers.TCPOption{OptionType: layers.TCPOptionKindMSS, OptionLength: 4, OptionData: b.mssData[:]}
		tcp.Options = b.mss[:]
	}
	if b.buf == nil {
		b.buf = gopacket.NewSerializeBuffer()
	} else if err := b.buf.Clear(); err != nil {
		return nil, err
	}
	opts := gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}
	if err := gopacket.SerializeLayers(b.buf, opts, network, tcp); err != nil {
		return nil, fmt.Errorf("build TCP segment: %w", err)
	}
	seg.packet = b.buf.Bytes()
	return seg, nil
}
