package server

import "strconv"

// LinkType is what a capture's frames start with: a pcap LINKTYPE_ value,
// as capture files record it.
type LinkType uint16

// The link types knockd decodes.
const (
	LinkTypeNull      LinkType = 0   // BSD loopback: the address family, host byte order
	LinkTypeEthernet  LinkType = 1   // Ethernet II, 802.1Q and 802.1ad tags included
	LinkTypePPP       LinkType = 9   // PPP, with or without the HDLC address and control bytes
	LinkTypeRaw       LinkType = 101 // raw IPv4 or IPv6 (tun, WireGuard)
	LinkTypeLoop      LinkType = 108 // OpenBSD loopback: the address family, network byte order
	LinkTypeLinuxSLL  LinkType = 113 // Linux cooked capture
	LinkTypeIPv4      LinkType = 228
	LinkTypeIPv6      LinkType = 229
	LinkTypeLinuxSLL2 LinkType = 276 // Linux cooked capture, version 2
	// DLT_RAW as some systems number it in capture files.
	linkTypeRawBSD     LinkType = 12
	linkTypeRawOpenBSD LinkType = 14
)

var linkNames = map[LinkType]string{
	LinkTypeNull: "Null", LinkTypeEthernet: "Ethernet", LinkTypePPP: "PPP", LinkTypeRaw: "Raw",
	linkTypeRawBSD: "Raw", linkTypeRawOpenBSD: "Raw", LinkTypeLoop: "Loop", LinkTypeLinuxSLL: "Linux SLL",
	LinkTypeIPv4: "IPv4", LinkTypeIPv6: "IPv6", LinkTypeLinuxSLL2: "Linux SLL2",
}

func (l LinkType) String() string {
	if n, ok := linkNames[l]; ok {
		return n
	}
	return "link type " + strconv.Itoa(int(l))
}

// Known reports whether knockd decodes frames of this link type.
func (l LinkType) Known() bool {
	_, ok := linkNames[l]
	return ok
}
