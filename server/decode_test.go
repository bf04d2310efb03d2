package server

import (
	"net"
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
		want Hit
	}{
		{"ethernet ipv4 syn", layers.LinkTypeEthernet, serialize(t, eth(layers.EthernetTypeIPv4), ip4(layers.IPProtocolTCP), syn), true,
			Hit{Proto: knock.TCP, Port: 7000, Flags: knock.SYN}},
		{"ethernet ipv4 fin+psh+urg", layers.LinkTypeEthernet, serialize(t, eth(layers.EthernetTypeIPv4), ip4(layers.IPProtocolTCP), finPsh), true,
			Hit{Proto: knock.TCP, Port: 7001, Flags: knock.FIN | knock.PSH | knock.URG}},
		{"ethernet ipv4 udp", layers.LinkTypeEthernet, serialize(t, eth(layers.EthernetTypeIPv4), ip4(layers.IPProtocolUDP), udp, gopacket.Payload{0}), true,
			Hit{Proto: knock.UDP, Port: 8000}},
		{"vlan", layers.LinkTypeEthernet, serialize(t, eth(layers.EthernetTypeDot1Q), &layers.Dot1Q{VLANIdentifier: 7, Type: layers.EthernetTypeIPv4}, ip4(layers.IPProtocolTCP), syn), true,
			Hit{Proto: knock.TCP, Port: 7000, Flags: knock.SYN}},
		{"ethernet ipv6", layers.LinkTypeEthernet, serialize(t, eth(layers.EthernetTypeIPv6), ip6(layers.IPProtocolTCP), syn), true,
			Hit{Proto: knock.TCP, Port: 7000, Flags: knock.SYN}},
		{"linux sll", layers.LinkTypeLinuxSLL, append([]byte{0, 0, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0, 0x08, 0x00}, serialize(t, ip4(layers.IPProtocolUDP), udp)...), true,
			Hit{Proto: knock.UDP, Port: 8000}},
		{"raw ipv4", layers.LinkTypeRaw, serialize(t, ip4(layers.IPProtocolTCP), syn), true, Hit{Proto: knock.TCP, Port: 7000, Flags: knock.SYN}},
		{"raw ipv6", layers.LinkTypeRaw, serialize(t, ip6(layers.IPProtocolUDP), udp), true, Hit{Proto: knock.UDP, Port: 8000}},
		{"bsd loopback", layers.LinkTypeNull, serialize(t, &layers.Loopback{Family: layers.ProtocolFamilyIPv4}, ip4(layers.IPProtocolTCP), syn), true,
			Hit{Proto: knock.TCP, Port: 7000, Flags: knock.SYN}},
		{"ppp", layers.LinkTypePPP, append([]byte{0xff, 0x03, 0x00, 0x21}, serialize(t, ip4(layers.IPProtocolTCP), syn)...), true,
			Hit{Proto: knock.TCP, Port: 7000, Flags: knock.SYN}},
		{"ppp lcp", layers.LinkTypePPP, []byte{0xc0, 0x21, 1, 2, 3}, false, Hit{}},
		{"ipv4 fragment", layers.LinkTypeRaw, serialize(t, frag, syn), false, Hit{}},
		{"icmp", layers.LinkTypeRaw, serialize(t, ip4(layers.IPProtocolICMPv4), &layers.ICMPv4{}), false, Hit{}},
		{"ipv6 extension header", layers.LinkTypeRaw, append(serialize(t, ip6(layers.IPProtocolIPv6HopByHop)), 6, 0, 1, 4, 0, 0, 0, 0), false, Hit{}},
		{"arp", layers.LinkTypeEthernet, serialize(t, eth(layers.EthernetTypeARP), &layers.ARP{AddrType: 1, Protocol: layers.EthernetTypeIPv4, HwAddressSize: 6, ProtAddressSize: 4, SourceHwAddress: macA, SourceProtAddress: []byte{1, 2, 3, 4}, DstHwAddress: macB, DstProtAddress: []byte{1, 2, 3, 5}}), false, Hit{}},
		{"truncated tcp", layers.LinkTypeRaw, serialize(t, ip4(layers.IPProtocolTCP), syn)[:30], false, Hit{}},
		{"empty", layers.LinkTypeEthernet, nil, false, Hit{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var h Hit
			ok := NewDecoder(tt.link).Decode(tt.data, gopacket.CaptureInfo{Length: len(tt.data)}, &h)
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
	d := NewDecoder(layers.LinkTypeEthernet)
	ci := gopacket.CaptureInfo{Length: len(data)}
	var h Hit
	b.ReportAllocs()
	for range b.N {
		if !d.Decode(data, ci, &h) {
			b.Fatal("not decoded")
		}
	}
}

func FuzzDecode(f *testing.F) {
	f.Add(uint8(0), serialize(f, &layers.Ethernet{SrcMAC: macA, DstMAC: macB, EthernetType: layers.EthernetTypeIPv4},
		ip4(layers.IPProtocolTCP), &layers.TCP{DstPort: 7000, SYN: true}))
	f.Add(uint8(1), serialize(f, ip6(layers.IPProtocolUDP), &layers.UDP{DstPort: 8000}))
	f.Add(uint8(2), []byte{0xff, 0x03, 0x00, 0x57, 0x60})
	links := []layers.LinkType{layers.LinkTypeEthernet, layers.LinkTypeRaw, layers.LinkTypePPP, layers.LinkTypeLinuxSLL,
		layers.LinkTypeLinuxSLL2, layers.LinkTypeNull}
	decoders := make([]*Decoder, len(links))
	for i, l := range links {
		decoders[i] = NewDecoder(l)
	}
	f.Fuzz(func(t *testing.T, link uint8, data []byte) {
		var h Hit
		d := decoders[int(link)%len(decoders)]
		if d.Decode(data, gopacket.CaptureInfo{}, &h) && (!h.Src.IsValid() || !h.Dst.IsValid()) {
			t.Fatalf("decoded a hit without addresses: %+v", h)
		}
	})
}
