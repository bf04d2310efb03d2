package knock

import "net/netip"

// NotAPeer says why an address can never be a real knocker's source, and
// so never the address a door opens for, or "" when it can be one.
//
// An IPv4-mapped (::ffff:a.b.c.d) or IPv4-compatible (::a.b.c.d) IPv6
// source is never seen from a real peer on the wire, yet many tools read
// it as the IPv4 address inside: a forged IPv6 packet would open an IPv4
// hole. Unspecified, multicast and broadcast addresses are never the
// source of a unicast packet. Loopback is left to the caller: it is real
// on a loopback interface and forged anywhere else.
func NotAPeer(a netip.Addr) string {
	switch {
	case !a.IsValid():
		return "no address"
	case a.Is4In6():
		return "an IPv4-mapped IPv6 address"
	case a.Is6() && isV4Compatible(a):
		return "an IPv4-compatible IPv6 address"
	case a.IsUnspecified() || a.Is4() && a.As4()[0] == 0:
		return "an unspecified address"
	case a.IsMulticast():
		return "a multicast address"
	case a == netip.AddrFrom4([4]byte{255, 255, 255, 255}):
		return "the broadcast address"
	}
	return ""
}

// isV4Compatible reports whether a is ::a.b.c.d (RFC 4291's deprecated
// form): 96 zero bits then an IPv4 address, :: and ::1 aside.
func isV4Compatible(a netip.Addr) bool {
	b := a.As16()
	for _, x := range b[:12] {
		if x != 0 {
			return false
		}
	}
	return !a.IsUnspecified() && !a.IsLoopback()
}
