package server

import (
	"encoding/binary"
	"net/netip"
	"time"

	"github.com/gopacket/gopacket"

	"github.com/knocktools/knock"
)

// Packet is one TCP or UDP packet as the detector sees it.
type Packet struct {
	Time  time.Time
	Src   netip.Addr
	Dst   netip.Addr
	Proto knock.Proto
	Port  uint16 // destination port
	SPort uint16 // source port, for debug lines
	Flags knock.TCPFlags
	Len   int    // bytes on the wire, for debug lines
	If    string // the interface it came in on ("" when replayed)
	// OnLoopback: it came in on a loopback interface, the only link on
	// which a loopback source is real.
	OnLoopback bool
	// Data is a UDP packet's payload (an SPA packet's data), a view of
	// the frame valid until the next one is read.
	Data []byte
}

// Decoder turns link-layer frames into Packets. It reads only what knockd
// needs, the addresses, the ports and the TCP flags, straight from the
// bytes, so decoding allocates nothing; and it links no table of
// protocols (gopacket's layers package fills megabytes of them at start,
// which a router's knockd would carry for nothing). One Decoder serves
// one goroutine.
type Decoder struct {
	link LinkType
}

// NewDecoder returns a decoder for frames of the given link type:
// Ethernet (VLAN tags included), Linux cooked captures (SLL and SLL2),
// raw IP (tun, WireGuard), BSD loopback and PPP.
func NewDecoder(link LinkType) *Decoder {
	return &Decoder{link: link}
}

// Ethernet types of the headers the decoder reads.
const (
	etherIPv4 = 0x0800
	etherIPv6 = 0x86dd
	etherVLAN = 0x8100 // 802.1Q
	etherQinQ = 0x88a8 // 802.1ad
	maxTags   = 8      // stacked VLAN tags read before giving up
)

// network finds the IP packet in a frame; it reports its Ethernet type
// (etherIPv4 or etherIPv6), or 0 when the frame holds neither.
func (d *Decoder) network(data []byte) ([]byte, uint16) {
	switch d.link {
	case LinkTypeEthernet:
		if len(data) < 14 {
			return nil, 0
		}
		return vlanPayload(binary.BigEndian.Uint16(data[12:]), data[14:])
	case LinkTypeLinuxSLL:
		if len(data) < 16 || binary.BigEndian.Uint16(data[4:]) > 8 { // an address of at most 8 bytes
			return nil, 0
		}
		return vlanPayload(binary.BigEndian.Uint16(data[14:]), data[16:])
	case LinkTypeLinuxSLL2:
		if len(data) < 20 || data[11] > 8 {
			return nil, 0
		}
		return vlanPayload(binary.BigEndian.Uint16(data[0:]), data[20:])
	case LinkTypeNull, LinkTypeLoop:
		if len(data) < 4 {
			return nil, 0
		}
		// The address family, in the byte order of the host that wrote
		// it: a small number, so two leading zero bytes mean big-endian.
		family := binary.LittleEndian.Uint32(data)
		if data[0] == 0 && data[1] == 0 {
			family = binary.BigEndian.Uint32(data)
		}
		switch family {
		case 2: // AF_INET
			return data[4:], etherIPv4
		case 10, 24, 28, 30: // AF_INET6 of Linux, the BSDs and Darwin
			return data[4:], etherIPv6
		}
		return nil, 0
	case LinkTypePPP:
		var ok bool
		if data, ok = pppPayload(data); !ok {
			return nil, 0
		}
		return rawIP(data)
	case LinkTypeRaw, linkTypeRawBSD, linkTypeRawOpenBSD, LinkTypeIPv4, LinkTypeIPv6:
		return rawIP(data)
	}
	return nil, 0
}

// vlanPayload steps over 802.1Q and 802.1ad tags to the IP packet.
func vlanPayload(etherType uint16, data []byte) ([]byte, uint16) {
	for range maxTags {
		switch etherType {
		case etherIPv4, etherIPv6:
			return data, etherType
		case etherVLAN, etherQinQ:
			if len(data) < 4 {
				return nil, 0
			}
			etherType, data = binary.BigEndian.Uint16(data[2:]), data[4:]
		default:
			return nil, 0
		}
	}
	return nil, 0
}

// rawIP tells a raw IP packet's version by its first nibble.
func rawIP(data []byte) ([]byte, uint16) {
	if len(data) == 0 {
		return nil, 0
	}
	switch data[0] >> 4 {
	case 4:
		return data, etherIPv4
	case 6:
		return data, etherIPv6
	}
	return nil, 0
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
// packet over IPv4 or IPv6. As knockd 0.8 reads them: the header right
// after IPv6's (no extension headers), and of IPv4 only first fragments
// (later ones hold no TCP or UDP header). Headers must be whole and their
// lengths consistent; IP and TCP options are stepped over unread.
// Malformed frames return false; they never panic.
func (d *Decoder) Decode(data []byte, ci gopacket.CaptureInfo, h *Packet) bool {
	pkt, etherType := d.network(data)
	var (
		proto   byte
		payload []byte
	)
	switch etherType {
	case etherIPv4:
		if len(pkt) < 20 {
			return false
		}
		ihl := int(pkt[0]&0x0f) * 4
		length := int(binary.BigEndian.Uint16(pkt[2:]))
		if length == 0 { // segmentation offload: the frame is the packet
			length = len(pkt)
		}
		if ihl < 20 || length < ihl || len(pkt) < ihl {
			return false
		}
		if binary.BigEndian.Uint16(pkt[6:])&0x1fff != 0 {
			return false // not the first fragment
		}
		proto, payload = pkt[9], pkt[ihl:min(len(pkt), length)]
		h.Src = netip.AddrFrom4([4]byte(pkt[12:16]))
		h.Dst = netip.AddrFrom4([4]byte(pkt[16:20]))
	case etherIPv6:
		if len(pkt) < 40 {
			return false
		}
		length := int(binary.BigEndian.Uint16(pkt[4:]))
		if length == 0 {
			return false // a jumbogram, which needs a hop-by-hop header
		}
		proto, payload = pkt[6], pkt[40:min(len(pkt), 40+length)]
		h.Src = netip.AddrFrom16([16]byte(pkt[8:24]))
		h.Dst = netip.AddrFrom16([16]byte(pkt[24:40]))
	default:
		return false
	}
	switch proto {
	case 6:
		if len(payload) < 20 {
			return false
		}
		if off := int(payload[12]>>4) * 4; off < 20 || off > len(payload) {
			return false
		}
		h.Proto, h.Flags, h.Data = knock.TCP, knock.TCPFlags(payload[13]), nil // the same bit layout
	case 17:
		if len(payload) < 8 {
			return false
		}
		n := int(binary.BigEndian.Uint16(payload[4:]))
		if n > 0 && n < 8 {
			return false // a length shorter than the header (0: a jumbogram's)
		}
		if n == 0 || n > len(payload) {
			n = len(payload)
		}
		h.Proto, h.Flags, h.Data = knock.UDP, 0, payload[8:n]
	default:
		return false
	}
	h.SPort = binary.BigEndian.Uint16(payload[0:])
	h.Port = binary.BigEndian.Uint16(payload[2:])
	h.Time, h.Len = ci.Timestamp, ci.Length
	if h.Len == 0 {
		h.Len = len(data)
	}
	return true
}
