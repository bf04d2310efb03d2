package server

import (
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"golang.org/x/net/bpf"
)

func vmFor(t *testing.T, link LinkType, tcp, udp []uint16) *bpf.VM {
	t.Helper()
	raw, ok := Filter(link, tcp, udp)
	if !ok {
		t.Fatal("filter did not assemble")
	}
	ins, allDecoded := bpf.Disassemble(raw)
	if !allDecoded {
		t.Fatal("filter does not disassemble")
	}
	vm, err := bpf.NewVM(ins)
	if err != nil {
		t.Fatal(err)
	}
	return vm
}

func TestFilter(t *testing.T) {
	eth4 := func(l4 ...gopacket.SerializableLayer) []byte {
		proto := layers.IPProtocolTCP
		if _, ok := l4[0].(*layers.UDP); ok {
			proto = layers.IPProtocolUDP
		}
		return serialize(t, append([]gopacket.SerializableLayer{&layers.Ethernet{SrcMAC: macA, DstMAC: macB, EthernetType: layers.EthernetTypeIPv4}, ip4(proto)}, l4...)...)
	}
	eth6 := func(l4 gopacket.SerializableLayer, proto layers.IPProtocol) []byte {
		return serialize(t, &layers.Ethernet{SrcMAC: macA, DstMAC: macB, EthernetType: layers.EthernetTypeIPv6}, ip6(proto), l4)
	}
	withOptions := ip4(layers.IPProtocolTCP)
	withOptions.Options = []layers.IPv4Option{{OptionType: 1}, {OptionType: 1}, {OptionType: 1}, {OptionType: 1}}
	frag := ip4(layers.IPProtocolTCP)
	frag.FragOffset = 8
	tests := []struct {
		name string
		link layers.LinkType
		data []byte
		pass bool
	}{
		{"tcp door port", layers.LinkTypeEthernet, eth4(&layers.TCP{DstPort: 7000, SYN: true}), true},
		{"tcp other port", layers.LinkTypeEthernet, eth4(&layers.TCP{DstPort: 7001, SYN: true}), false},
		{"udp door port", layers.LinkTypeEthernet, eth4(&layers.UDP{DstPort: 8000}), true},
		{"udp port of a tcp knock", layers.LinkTypeEthernet, eth4(&layers.UDP{DstPort: 7000}), false},
		{"tcp source port only", layers.LinkTypeEthernet, eth4(&layers.TCP{SrcPort: 7000, DstPort: 22}), false},
		{"ipv4 options", layers.LinkTypeEthernet, serialize(t, &layers.Ethernet{SrcMAC: macA, DstMAC: macB, EthernetType: layers.EthernetTypeIPv4}, withOptions, &layers.TCP{DstPort: 9000}), true},
		{"later fragment", layers.LinkTypeEthernet, serialize(t, &layers.Ethernet{SrcMAC: macA, DstMAC: macB, EthernetType: layers.EthernetTypeIPv4}, frag, &layers.TCP{DstPort: 7000}), false},
		{"ipv6 tcp", layers.LinkTypeEthernet, eth6(&layers.TCP{DstPort: 9000}, layers.IPProtocolTCP), true},
		{"ipv6 udp", layers.LinkTypeEthernet, eth6(&layers.UDP{DstPort: 8000}, layers.IPProtocolUDP), true},
		{"ipv6 other", layers.LinkTypeEthernet, eth6(&layers.UDP{DstPort: 53}, layers.IPProtocolUDP), false},
		{"arp", layers.LinkTypeEthernet, serialize(t, &layers.Ethernet{SrcMAC: macA, DstMAC: macB, EthernetType: layers.EthernetTypeARP}, gopacket.Payload(make([]byte, 28))), false},
		{"raw ipv4", layers.LinkTypeRaw, serialize(t, ip4(layers.IPProtocolTCP), &layers.TCP{DstPort: 7000}), true},
		{"raw ipv6", layers.LinkTypeRaw, serialize(t, ip6(layers.IPProtocolUDP), &layers.UDP{DstPort: 8000}), true},
		{"raw ipv4 other", layers.LinkTypeRaw, serialize(t, ip4(layers.IPProtocolTCP), &layers.TCP{DstPort: 1}), false},
		{"short frame", layers.LinkTypeEthernet, []byte{1, 2, 3}, false},
	}
	for _, tt := range tests {
		vm := vmFor(t, LinkType(tt.link), []uint16{7000, 9000}, []uint16{8000})
		n, err := vm.Run(tt.data)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if (n > 0) != tt.pass {
			t.Errorf("%s: filter returned %d, want pass=%v", tt.name, n, tt.pass)
		}
	}
}

// Large configs keep the kernel filter: hundreds of doors' ports compare
// exactly (in chunks, each jump short enough), ranges of ports take two
// instructions, and only a port list too long for any filter passes
// everything of its protocol.
func TestFilterManyPorts(t *testing.T) {
	packet := func(port uint16, udp bool) []byte {
		if udp {
			return serialize(t, &layers.Ethernet{SrcMAC: macA, DstMAC: macB, EthernetType: layers.EthernetTypeIPv4}, ip4(layers.IPProtocolUDP), &layers.UDP{DstPort: layers.UDPPort(port)})
		}
		return serialize(t, &layers.Ethernet{SrcMAC: macA, DstMAC: macB, EthernetType: layers.EthernetTypeIPv4}, ip4(layers.IPProtocolTCP), &layers.TCP{DstPort: layers.TCPPort(port)})
	}
	// 600 scattered ports (200 doors of 3 knocks), and a run of 1000.
	var scattered, run []uint16
	for i := range uint16(600) {
		scattered = append(scattered, 2000+7*i)
	}
	for p := range uint16(1000) {
		run = append(run, 10000+p)
	}
	vm := vmFor(t, LinkTypeEthernet, scattered, run)
	for _, tc := range []struct {
		port uint16
		udp  bool
		pass bool
	}{
		{2000, false, true}, {2000 + 7*599, false, true}, {2000 + 7*300, false, true}, {2001, false, false}, {1, false, false},
		{10000, true, true}, {10999, true, true}, {10500, true, true}, {9999, true, false}, {11000, true, false}, {2000, true, false},
	} {
		if n, err := vm.Run(packet(tc.port, tc.udp)); err != nil || (n > 0) != tc.pass {
			t.Errorf("port %d (udp %v): filter returned %d, %v; want pass=%v", tc.port, tc.udp, n, err, tc.pass)
		}
	}
	// Every other port: too many tests for a filter; every TCP packet passes.
	var every []uint16
	for p := uint16(2); p < 10000; p += 2 {
		every = append(every, p)
	}
	vm = vmFor(t, LinkTypeEthernet, every, nil)
	if n, _ := vm.Run(packet(1, false)); n == 0 {
		t.Fatal("dropped a TCP packet with an oversized port list")
	}
	if _, ok := Filter(LinkTypeLinuxSLL, nil, nil); ok {
		t.Fatal("unknown link type accepted")
	}
}

func TestPortRuns(t *testing.T) {
	got := portRuns([]uint16{1, 2, 3, 7, 9, 10, 65535})
	want := [][2]uint16{{1, 3}, {7, 7}, {9, 10}, {65535, 65535}}
	if len(got) != len(want) {
		t.Fatalf("runs %v", got)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("runs %v, want %v", got, want)
		}
	}
}
