package server

import (
	"net/netip"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/knocktools/knock"
)

// Hit is one TCP or UDP packet as the detector sees it.
type Hit struct {
	Time  time.Time
	Src   netip.Addr
	Dst   netip.Addr
	Proto knock.Proto
	Port  uint16 // destination port
	SPort uint16 // source port, for debug lines
	Flags knock.TCPFlags
	Len   int    // bytes on the wire, for debug lines
	If    string // the interface it came in on ("" when replayed)
}

// Decoder turns link-layer frames into Hits with gopacket's
// DecodingLayerParser, reusing its layers: decoding allocates nothing.
// One Decoder serves one goroutine.
type Decoder struct {
	link    layers.LinkType
	parser  *gopacket.DecodingLayerParser // frames of the capture's link type
	parser6 *gopacket.DecodingLayerParser // raw IPv6, for raw-IP and PPP links
	decoded []gopacket.LayerType

	eth   layers.Ethernet
	dot1q layers.Dot1Q
	sll   layers.LinuxSLL
	sll2  layers.LinuxSLL2
	loop  layers.Loopback
	ip4   layers.IPv4
	ip6   layers.IPv6
	tcp   layers.TCP
	udp   layers.UDP
}

// NewDecoder returns a decoder for frames of the given link type:
// Ethernet (VLAN tags included), Linux cooked captures (SLL and SLL2),
// raw IP (tun, WireGuard), BSD loopback and PPP.
func NewDecoder(link layers.LinkType) *Decoder {
	d := &Decoder{link: link, decoded: make([]gopacket.LayerType, 0, 8)}
	all := []gopacket.DecodingLayer{&d.eth, &d.dot1q, &d.sll, &d.sll2, &d.loop, &d.ip4, &d.ip6, &d.tcp, &d.udp}
	d.parser = gopacket.NewDecodingLayerParser(firstLayer(link), all...)
	d.parser6 = gopacket.NewDecodingLayerParser(layers.LayerTypeIPv6, all...)
	// Payloads and layers we do not decode (ARP, ICMP, IPv6 extension
	// headers...) end the parse without an error.
	d.parser.IgnoreUnsupported = true
	d.parser6.IgnoreUnsupported = true
	return d
}

// firstLayer maps a capture's link type to the layer its frames start with.
func firstLayer(link layers.LinkType) gopacket.LayerType {
	switch link {
	case layers.LinkTypeLinuxSLL:
		return layers.LayerTypeLinuxSLL
	case layers.LinkTypeLinuxSLL2:
		return layers.LayerTypeLinuxSLL2
	case layers.LinkTypeNull, layers.LinkTypeLoop:
		return layers.LayerTypeLoopback
	case layers.LinkTypeRaw, layers.LinkTypePPP, layers.LinkTypeIPv4:
		return layers.LayerTypeIPv4
	case layers.LinkTypeIPv6:
		return layers.LayerTypeIPv6
	}
	return layers.LayerTypeEthernet
}

// pppPayload strips a PPP header (with or without the HDLC address and
// control bytes) and says whether an IPv4 or IPv6 packet follows.
func pppPayload(data []byte) ([]byte, bool) {
	if len(data) >= 2 && data[0] == 0xff && data[1] == 0x03 {
		data = data[2:]
	}
	if len(data) < 2 {
		return nil, false
	}
	switch uint16(data[0])<<8 | uint16(data[1]) {
	case 0x0021, 0x0057: // IPv4, IPv6
		return data[2:], true
	}
	return nil, false
}

// Decode fills h from a frame and reports whether it is a TCP or UDP
// packet over IPv4 or IPv6 (the first header after IPv6, as knockd reads
// it; IPv4 fragments other than the first are not TCP or UDP headers).
// Malformed frames return false; they never panic.
func (d *Decoder) Decode(data []byte, ci gopacket.CaptureInfo, h *Hit) bool {
	p := d.parser
	switch d.link {
	case layers.LinkTypePPP:
		var ok bool
		if data, ok = pppPayload(data); !ok {
			return false
		}
		fallthrough
	case layers.LinkTypeRaw, layers.LinkTypeIPv4, layers.LinkTypeIPv6:
		// Raw-IP frames hold IPv4 or IPv6: the version nibble decides.
		if len(data) > 0 && data[0]>>4 == 6 {
			p = d.parser6
		}
	}
	_ = p.DecodeLayers(data, &d.decoded)
	var haveIP, haveL4 bool
	for _, t := range d.decoded {
		switch t {
		case layers.LayerTypeIPv4:
			if d.ip4.FragOffset != 0 {
				return false
			}
			h.Src, _ = netip.AddrFromSlice(d.ip4.SrcIP)
			h.Dst, _ = netip.AddrFromSlice(d.ip4.DstIP)
			haveIP = true
		case layers.LayerTypeIPv6:
			h.Src, _ = netip.AddrFromSlice(d.ip6.SrcIP)
			h.Dst, _ = netip.AddrFromSlice(d.ip6.DstIP)
			haveIP = true
		case layers.LayerTypeTCP:
			h.Proto, h.Port, h.SPort = knock.TCP, uint16(d.tcp.DstPort), uint16(d.tcp.SrcPort)
			h.Flags = tcpFlags(&d.tcp)
			haveL4 = true
		case layers.LayerTypeUDP:
			h.Proto, h.Port, h.SPort, h.Flags = knock.UDP, uint16(d.udp.DstPort), uint16(d.udp.SrcPort), 0
			haveL4 = true
		}
	}
	if !haveIP || !haveL4 {
		return false
	}
	h.Time, h.Len = ci.Timestamp, ci.Length
	if h.Len == 0 {
		h.Len = len(data)
	}
	return true
}

func tcpFlags(t *layers.TCP) knock.TCPFlags {
	var f knock.TCPFlags
	for _, b := range [...]struct {
		set  bool
		flag knock.TCPFlags
	}{{t.FIN, knock.FIN}, {t.SYN, knock.SYN}, {t.RST, knock.RST}, {t.PSH, knock.PSH},
		{t.ACK, knock.ACK}, {t.URG, knock.URG}, {t.ECE, knock.ECE}, {t.CWR, knock.CWR}} {
		if b.set {
			f |= b.flag
		}
	}
	return f
}
