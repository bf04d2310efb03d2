package server

import (
	"net"
	"net/netip"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/knocktools/knock"
)

var (
	macA = net.HardwareAddr{2, 0, 0, 0, 0, 1}
	macB = net.HardwareAddr{2, 0, 0, 0, 0, 2}
)

func serialize(t testing.TB, ls ...gopacket.SerializableLayer) []byte {
	t.Helper()
	for _, l := range ls {
		if tcp, ok := l.(*layers.TCP); ok {
			for _, n := range ls {
				if nl, ok := n.(gopacket.NetworkLayer); ok {
					_ = tcp.SetNetworkLayerForChecksum(nl)
				}
			}
		}
		if udp, ok := l.(*layers.UDP); ok {
			for _, n := range ls {
				if nl, ok := n.(gopacket.NetworkLayer); ok {
					_ = udp.SetNetworkLayerForChecksum(nl)
				}
			}
		}
	}
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ls...); err != nil {
		t.Fatal(err)
	}
	return append([]byte(nil), buf.Bytes()...)
}

func ip4(proto layers.IPProtocol) *layers.IPv4 {
	return &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Protocol: proto, SrcIP: net.IP{10, 77, 0, 1}, DstIP: net.IP{10, 77, 0, 2}}
}

func ip6(next layers.IPProtocol) *layers.IPv6 {
	return &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: next, SrcIP: net.ParseIP("fd77::1"), DstIP: net.ParseIP("fd77::2")}
}

// withOptions gives an IPv4 header a router alert option.
func withOptions(ip *layers.IPv4) *layers.IPv4 {
	ip.Options = []layers.IPv4Option{{OptionType: 148, OptionLength: 4, OptionData: []byte{0, 0}}}
	return ip
}

// zeroLength clears an IPv4 packet's total length, as captures of
// segmentation offload show it.
func zeroLength(b []byte) []byte {
	b[2], b[3] = 0, 0
	return b
}

func TestDecode(t *testing.T) {
	eth := func(tp layers.EthernetType) *layers.Ethernet {
		return &layers.Ethernet{SrcMAC: macA, DstMAC: macB, EthernetType: tp}
	}
	syn := &layers.TCP{SrcPort: 40000, DstPort: 7000, SYN: true, Window: 1024}
	finPsh := &layers.TCP{SrcPort: 40000, DstPort: 7001, FIN: true, PSH: true, URG: true}
	udp := &layers.UDP{SrcPort: 40000, DstPort: 8000}
	frag := ip4(layers.IPProtocolTCP)
	frag.FragOffset = 100
	tests := []struct {
		name string
		link layers.LinkType
		data []byte
		ok   bool
		want Packet
	}{
		{"ethernet ipv4 syn", layers.LinkTypeEthernet, serialize(t, eth(layers.EthernetTypeIPv4), ip4(layers.IPProtocolTCP), syn), true,
			Packet{Proto: knock.TCP, Port: 7000, Flags: knock.SYN}},
		{"ethernet ipv4 fin+psh+urg", layers.LinkTypeEthernet, serialize(t, eth(layers.EthernetTypeIPv4), ip4(layers.IPProtocolTCP), finPsh), true,
			Packet{Proto: knock.TCP, Port: 7001, Flags: knock.FIN | knock.PSH | knock.URG}},
		{"ethernet ipv4 udp", layers.LinkTypeEthernet, serialize(t, eth(layers.EthernetTypeIPv4), ip4(layers.IPProtocolUDP), udp, gopacket.Payload{0}), true,
			Packet{Proto: knock.UDP, Port: 8000}},
		{"vlan", layers.LinkTypeEthernet, serialize(t, eth(layers.EthernetTypeDot1Q), &layers.Dot1Q{VLANIdentifier: 7, Type: layers.EthernetTypeIPv4}, ip4(layers.IPProtocolTCP), syn), true,
			Packet{Proto: knock.TCP, Port: 7000, Flags: knock.SYN}},
		{"ethernet ipv6", layers.LinkTypeEthernet, serialize(t, eth(layers.EthernetTypeIPv6), ip6(layers.IPProtocolTCP), syn), true,
			Packet{Proto: knock.TCP, Port: 7000, Flags: knock.SYN}},
		{"linux sll", layers.LinkTypeLinuxSLL, append([]byte{0, 0, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0, 0x08, 0x00}, serialize(t, ip4(layers.IPProtocolUDP), udp)...), true,
			Packet{Proto: knock.UDP, Port: 8000}},
		{"raw ipv4", layers.LinkTypeRaw, serialize(t, ip4(layers.IPProtocolTCP), syn), true, Packet{Proto: knock.TCP, Port: 7000, Flags: knock.SYN}},
		{"raw ipv6", layers.LinkTypeRaw, serialize(t, ip6(layers.IPProtocolUDP), udp), true, Packet{Proto: knock.UDP, Port: 8000}},
		{"bsd loopback", layers.LinkTypeNull, serialize(t, &layers.Loopback{Family: layers.ProtocolFamilyIPv4}, ip4(layers.IPProtocolTCP), syn), true,
			Packet{Proto: knock.TCP, Port: 7000, Flags: knock.SYN}},
		{"ppp", layers.LinkTypePPP, append([]byte{0xff, 0x03, 0x00, 0x21}, serialize(t, ip4(layers.IPProtocolTCP), syn)...), true,
			Packet{Proto: knock.TCP, Port: 7000, Flags: knock.SYN}},
		{"ppp lcp", layers.LinkTypePPP, []byte{0xc0, 0x21, 1, 2, 3}, false, Packet{}},
		{"ipv4 fragment", layers.LinkTypeRaw, serialize(t, frag, syn), false, Packet{}},
		{"icmp", layers.LinkTypeRaw, serialize(t, ip4(layers.IPProtocolICMPv4), &layers.ICMPv4{}), false, Packet{}},
		{"ipv6 extension header", layers.LinkTypeRaw, append(serialize(t, ip6(layers.IPProtocolIPv6HopByHop)), 6, 0, 1, 4, 0, 0, 0, 0), false, Packet{}},
		{"arp", layers.LinkTypeEthernet, serialize(t, eth(layers.EthernetTypeARP), &layers.ARP{AddrType: 1, Protocol: layers.EthernetTypeIPv4, HwAddressSize: 6, ProtAddressSize: 4, SourceHwAddress: macA, SourceProtAddress: []byte{1, 2, 3, 4}, DstHwAddress: macB, DstProtAddress: []byte{1, 2, 3, 5}}), false, Packet{}},
		{"truncated tcp", layers.LinkTypeRaw, serialize(t, ip4(layers.IPProtocolTCP), syn)[:30], false, Packet{}},
		// knockd 0.8 reads the header right after IPv6's: a TCP header
		// behind a hop-by-hop one is not a knock.
		{"tcp behind hop-by-hop", layers.LinkTypeRaw, append(serialize(t, ip6(layers.IPProtocolIPv6HopByHop)), append([]byte{6, 0, 1, 4, 0, 0, 0, 0}, serialize(t, syn)...)...), false, Packet{}},
		{"qinq", layers.LinkTypeEthernet, serialize(t, eth(layers.EthernetTypeQinQ), &layers.Dot1Q{VLANIdentifier: 7, Type: layers.EthernetTypeDot1Q},
			&layers.Dot1Q{VLANIdentifier: 8, Type: layers.EthernetTypeIPv6}, ip6(layers.IPProtocolTCP), syn), true, Packet{Proto: knock.TCP, Port: 7000, Flags: knock.SYN}},
		{"linux sll2", layers.LinkTypeLinuxSLL2, append([]byte{0x86, 0xdd, 0, 0, 0, 0, 0, 2, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0}, serialize(t, ip6(layers.IPProtocolUDP), udp)...), true,
			Packet{Proto: knock.UDP, Port: 8000}},
		{"linux loopback, little-endian family", layers.LinkTypeNull, append([]byte{10, 0, 0, 0}, serialize(t, ip6(layers.IPProtocolTCP), syn)...), true,
			Packet{Proto: knock.TCP, Port: 7000, Flags: knock.SYN}},
		{"openbsd loop", layers.LinkTypeLoop, append([]byte{0, 0, 0, 2}, serialize(t, ip4(layers.IPProtocolUDP), udp)...), true, Packet{Proto: knock.UDP, Port: 8000}},
		{"ip and tcp options", layers.LinkTypeRaw, serialize(t, withOptions(ip4(layers.IPProtocolTCP)), &layers.TCP{SrcPort: 40000, DstPort: 7000, SYN: true, ECE: true, CWR: true,
			Options: []layers.TCPOption{{OptionType: layers.TCPOptionKindMSS, OptionLength: 4, OptionData: []byte{5, 0xb4}}}}), true,
			Packet{Proto: knock.TCP, Port: 7000, Flags: knock.SYN | knock.ECE | knock.CWR}},
		{"ipv4 total length 0 (segmentation offload)", layers.LinkTypeRaw, zeroLength(serialize(t, ip4(layers.IPProtocolTCP), syn)), true,
			Packet{Proto: knock.TCP, Port: 7000, Flags: knock.SYN}},
		{"ipv4 header longer than the packet", layers.LinkTypeRaw, func() []byte { b := serialize(t, ip4(layers.IPProtocolTCP), syn); b[0] = 0x4f; b[3] = 40; return b }(), false, Packet{}},
		{"tcp data offset past the segment", layers.LinkTypeRaw, func() []byte { b := serialize(t, ip4(layers.IPProtocolTCP), syn); b[32] = 0xf0; return b }(), false, Packet{}},
		{"802.3 length, not a type", layers.LinkTypeEthernet, append([]byte{2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0, 40}, serialize(t, ip4(layers.IPProtocolTCP), syn)...), false, Packet{}},
		{"empty", layers.LinkTypeEthernet, nil, false, Packet{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var h Packet
			ok := NewDecoder(LinkType(tt.link)).Decode(tt.data, gopacket.CaptureInfo{Length: len(tt.data)}, &h)
			if ok != tt.ok {
				t.Fatalf("Decode ok = %v, want %v (%+v)", ok, tt.ok, h)
			}
			if !ok {
				return
			}
			if h.Proto != tt.want.Proto || h.Port != tt.want.Port || h.Flags != tt.want.Flags {
				t.Fatalf("got %+v, want %+v", h, tt.want)
			}
			if h.Src.String() != "10.77.0.1" && h.Src.String() != "fd77::1" {
				t.Fatalf("src %v", h.Src)
			}
		})
	}
}

func BenchmarkDecode(b *testing.B) {
	data := serialize(b, &layers.Ethernet{SrcMAC: macA, DstMAC: macB, EthernetType: layers.EthernetTypeIPv4},
		ip4(layers.IPProtocolTCP), &layers.TCP{SrcPort: 40000, DstPort: 7000, SYN: true})
	d := NewDecoder(LinkTypeEthernet)
	ci := gopacket.CaptureInfo{Length: len(data)}
	var h Packet
	b.ReportAllocs()
	for range b.N {
		if !d.Decode(data, ci, &h) {
			b.Fatal("not decoded")
		}
	}
}

// gopacketView is how the oracle read a frame: the layers gopacket's
// own decoders found in it, in order, and whether one of them failed.
// FuzzDecode compares our verdict with this view, and byDesign judges the
// same view, so an exception can never look at a reading the oracle did
// not make.
type gopacketView struct {
	link    layers.LinkType
	rawIP   []byte // the IP packet of a raw or PPP frame, nil for other links
	decoded []gopacket.LayerType
	err     error
	eth     layers.Ethernet
	dot1q   [maxTags + 2]layers.Dot1Q
	sll     layers.LinuxSLL
	sll2    layers.LinuxSLL2
	loop    layers.Loopback
	ip4     layers.IPv4
	ip6     layers.IPv6
	tcp     layers.TCP
	udp     layers.UDP
}

// gopacketRead decodes a frame with gopacket's decoders, one layer after
// the other as its DecodingLayerParser does, keeping every VLAN tag.
func gopacketRead(link layers.LinkType, data []byte) *gopacketView {
	v := &gopacketView{link: link}
	next := layers.LayerTypeEthernet
	switch link {
	case layers.LinkTypeLinuxSLL:
		next = layers.LayerTypeLinuxSLL
	case layers.LinkTypeLinuxSLL2:
		next = layers.LayerTypeLinuxSLL2
	case layers.LinkTypeNull, layers.LinkTypeLoop:
		next = layers.LayerTypeLoopback
	case layers.LinkTypePPP, layers.LinkTypeRaw:
		if link == layers.LinkTypePPP {
			var ok bool
			if data, ok = pppPayload(data); !ok {
				return v
			}
		}
		if len(data) == 0 {
			return v
		}
		v.rawIP = data
		next = layers.LayerTypeIPv4
		if data[0]>>4 == 6 {
			next = layers.LayerTypeIPv6
		}
	}
	tags := 0
	for len(data) > 0 {
		var l gopacket.DecodingLayer
		switch next {
		case layers.LayerTypeEthernet:
			l = &v.eth
		case layers.LayerTypeDot1Q:
			if tags == len(v.dot1q) {
				return v
			}
			l = &v.dot1q[tags]
			tags++
		case layers.LayerTypeLinuxSLL:
			l = &v.sll
		case layers.LayerTypeLinuxSLL2:
			l = &v.sll2
		case layers.LayerTypeLoopback:
			l = &v.loop
		case layers.LayerTypeIPv4:
			l = &v.ip4
		case layers.LayerTypeIPv6:
			l = &v.ip6
		case layers.LayerTypeTCP:
			l = &v.tcp
		case layers.LayerTypeUDP:
			l = &v.udp
		default:
			return v
		}
		if err := l.DecodeFromBytes(data, gopacket.NilDecodeFeedback); err != nil {
			v.err = err
			return v
		}
		v.decoded = append(v.decoded, next)
		next, data = l.NextLayerType(), l.LayerPayload()
	}
	return v
}

// hit is the oracle's verdict: the addresses, ports and flags of the
// first IP packet and the TCP or UDP header that follows it.
func (v *gopacketView) hit() (Packet, bool) {
	var h Packet
	var haveIP, haveL4 bool
	for _, t := range v.decoded {
		switch t {
		case layers.LayerTypeIPv4:
			if v.ip4.FragOffset != 0 {
				return h, false
			}
			h.Src, _ = netip.AddrFromSlice(v.ip4.SrcIP)
			h.Dst, _ = netip.AddrFromSlice(v.ip4.DstIP)
			haveIP = true
		case layers.LayerTypeIPv6:
			h.Src, _ = netip.AddrFromSlice(v.ip6.SrcIP)
			h.Dst, _ = netip.AddrFromSlice(v.ip6.DstIP)
			haveIP = true
		case layers.LayerTypeTCP:
			h.Proto, h.Port, h.SPort = knock.TCP, uint16(v.tcp.DstPort), uint16(v.tcp.SrcPort)
			h.Flags = knock.TCPFlags(v.tcp.Contents[13])
			haveL4 = true
		case layers.LayerTypeUDP:
			h.Proto, h.Port, h.SPort = knock.UDP, uint16(v.udp.DstPort), uint16(v.udp.SrcPort)
			haveL4 = true
		}
	}
	return h, haveIP && haveL4
}

// FuzzDecode holds our decoder to gopacket's on any frame of any link
// type: the same verdict and the same addresses, ports and flags, but
// where we differ by design. We read IPv6 as knockd 0.8 does (no
// extension header; gopacket steps over a hop-by-hop one) and IPv4 first
// fragments as it does (gopacket stops at any fragment; it also reads
// the Ethernet type 0xffff as raw IPv4), raw IP only
// of version 4 or 6 (gopacket reads any other version as IPv4), at most
// 8 VLAN tags, and we step over IP and TCP options without reading them
// (gopacket refuses a packet whose options it cannot parse).
func FuzzDecode(f *testing.F) {
	f.Add(uint8(0), serialize(f, &layers.Ethernet{SrcMAC: macA, DstMAC: macB, EthernetType: layers.EthernetTypeIPv4},
		ip4(layers.IPProtocolTCP), &layers.TCP{DstPort: 7000, SYN: true}))
	f.Add(uint8(1), serialize(f, ip6(layers.IPProtocolUDP), &layers.UDP{DstPort: 8000}))
	f.Add(uint8(2), []byte{0xff, 0x03, 0x00, 0x57, 0x60})
	f.Add(uint8(0), serialize(f, &layers.Ethernet{SrcMAC: macA, DstMAC: macB, EthernetType: layers.EthernetTypeDot1Q},
		&layers.Dot1Q{Type: layers.EthernetTypeIPv6}, ip6(layers.IPProtocolTCP), &layers.TCP{DstPort: 7000, SYN: true}))
	f.Add(uint8(3), append([]byte{0, 0, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0, 0x08, 0x00}, serialize(f, withOptions(ip4(layers.IPProtocolUDP)), &layers.UDP{DstPort: 8000})...))
	f.Add(uint8(5), append([]byte{2, 0, 0, 0}, serialize(f, ip4(layers.IPProtocolTCP), &layers.TCP{DstPort: 7000, ACK: true})...))
	links := []layers.LinkType{layers.LinkTypeEthernet, layers.LinkTypeRaw, layers.LinkTypePPP, layers.LinkTypeLinuxSLL,
		layers.LinkTypeLinuxSLL2, layers.LinkTypeNull, layers.LinkTypeLoop}
	decoders := make([]*Decoder, len(links))
	for i, l := range links {
		decoders[i] = NewDecoder(LinkType(l))
	}
	f.Fuzz(func(t *testing.T, link uint8, data []byte) {
		var h Packet
		n := int(link) % len(decoders)
		ok := decoders[n].Decode(data, gopacket.CaptureInfo{}, &h)
		view := gopacketRead(links[n], data)
		want, wantOK := view.hit()
		if ok && (!h.Src.IsValid() || !h.Dst.IsValid()) {
			t.Fatalf("decoded a hit without addresses: %+v", h)
		}
		switch {
		case ok && wantOK:
			if h.Src != want.Src || h.Dst != want.Dst || h.Proto != want.Proto || h.Port != want.Port || h.SPort != want.SPort || h.Flags != want.Flags {
				t.Fatalf("%v frame % x: ours %+v, gopacket's %+v", links[n], data, h, want)
			}
		case ok != wantOK && !view.byDesign(data):
			t.Fatalf("%v frame % x: ours decodes it %v, gopacket's %v", links[n], data, ok, wantOK)
		}
	})
}

// byDesign reports whether the oracle's view of a frame holds what
// FuzzDecode's comment lists as read differently by design: an IPv4 or
// TCP header with options, an IPv4 first fragment, gopacket's own marker
// for raw IPv4 in a link header (the Ethernet type 0xffff, which no
// standard gives), an IPv6 extension header, a raw IP version other than
// 4 and 6, or more than 8 VLAN tags.
func (v *gopacketView) byDesign(data []byte) bool {
	if v.rawIP != nil && v.rawIP[0]>>4 != 4 && v.rawIP[0]>>4 != 6 {
		return true
	}
	tags := 0
	for _, t := range v.decoded {
		switch t {
		case layers.LayerTypeEthernet:
			if v.eth.EthernetType == layers.EthernetTypeRaw {
				return true
			}
		case layers.LayerTypeLinuxSLL:
			if v.sll.EthernetType == layers.EthernetTypeRaw {
				return true
			}
		case layers.LayerTypeLinuxSLL2:
			if v.sll2.ProtocolType == layers.EthernetTypeRaw {
				return true
			}
		case layers.LayerTypeDot1Q:
			if v.dot1q[tags].Type == layers.EthernetTypeRaw {
				return true
			}
			tags++
		case layers.LayerTypeIPv4:
			if v.ip4.IHL > 5 || v.ip4.Flags&layers.IPv4MoreFragments != 0 {
				return true
			}
		case layers.LayerTypeIPv6:
			if v.ip6.NextHeader != layers.IPProtocolTCP && v.ip6.NextHeader != layers.IPProtocolUDP {
				return true
			}
		case layers.LayerTypeTCP:
			if v.tcp.DataOffset > 5 {
				return true
			}
		}
	}
	if tags > maxTags {
		return true
	}
	// A layer gopacket could not decode: look at the raw bytes.
	if v.err != nil {
		return rawOptions(v.link, data)
	}
	return false
}

// rawOptions reports whether a frame that gopacket could not decode holds
// IPv4 or TCP options, or an IPv6 extension header, by our decoder's own
// reading of the headers.
func rawOptions(link layers.LinkType, data []byte) bool {
	pkt, etherType := NewDecoder(LinkType(link)).network(data)
	switch etherType {
	case etherIPv4:
		if len(pkt) < 20 {
			return false
		}
		ihl := int(pkt[0]&0x0f) * 4
		if ihl > 20 {
			return true
		}
		if len(pkt) >= ihl+13 && pkt[ihl+12]>>4 > 5 {
			return true
		}
	case etherIPv6:
		if len(pkt) >= 40 && pkt[6] != 6 && pkt[6] != 17 {
			return true
		}
		if len(pkt) >= 53 && pkt[52]>>4 > 5 {
			return true
		}
	}
	return false
}
