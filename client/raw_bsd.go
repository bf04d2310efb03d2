//go:build darwin || dragonfly || freebsd || netbsd || openbsd

package client

import (
	"net"
	"net/netip"

	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
)

// rawIP sends TCP segments over a raw IP socket on the BSDs and macOS.
// IPv4 goes with IP_HDRINCL through x/net/ipv4, whose header marshalling
// knows these systems' host-order length and fragment fields; IPv6 raw
// sockets take the TCP segment only, so the socket is bound to the source
// the checksum was computed with. Their raw sockets are never handed the
// host's inbound TCP segments, so there is nothing to filter out.
type rawIP struct {
	conn net.PacketConn
	v4   *ipv4.RawConn
	v6   *ipv6.PacketConn
}

// rawTCP says whether this OS can send TCP over raw sockets.
const rawTCP = true

func openRaw(dst netip.Addr) (rawSocket, netip.Addr, error) {
	src, err := sourceFor(dst)
	if err != nil {
		return nil, netip.Addr{}, err
	}
	if src.Is4() {
		c, err := net.ListenPacket("ip4:6", "0.0.0.0") // 6 is TCP; "tcp" would read /etc/protocols
		if err != nil {
			return nil, netip.Addr{}, err
		}
		rc, err := ipv4.NewRawConn(c)
		if err != nil {
			c.Close()
			return nil, netip.Addr{}, err
		}
		return &rawIP{conn: c, v4: rc}, src, nil
	}
	c, err := net.ListenPacket("ip6:6", src.String())
	if err != nil {
		return nil, netip.Addr{}, err
	}
	return &rawIP{conn: c, v6: ipv6.NewPacketConn(c)}, src, nil
}

func (r *rawIP) send(seg *segment) error {
	if r.v4 != nil {
		ip := seg.ip4
		h := &ipv4.Header{
			Version:  4,
			Len:      ipv4.HeaderLen,
			TOS:      int(ip.TOS),
			TotalLen: len(seg.packet),
			ID:       int(ip.Id),
			Flags:    ipv4.HeaderFlags(ip.Flags),
			TTL:      int(ip.TTL),
			Protocol: int(ip.Protocol),
			Checksum: int(ip.Checksum),
			Src:      ip.SrcIP,
			Dst:      ip.DstIP,
		}
		return r.v4.WriteTo(h, seg.tcp(), nil)
	}
	if err := r.v6.SetHopLimit(int(seg.ttl)); err != nil {
		return err
	}
	_, err := r.conn.WriteTo(seg.tcp(), &net.IPAddr{IP: seg.dst.AsSlice(), Zone: seg.dst.Zone()})
	return err
}

func (r *rawIP) Close() error { return r.conn.Close() }

// sourceFor asks the kernel which source address it would use towards dst:
// connecting a UDP socket routes it without sending anything.
func sourceFor(dst netip.Addr) (netip.Addr, error) {
	c, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(netip.AddrPortFrom(dst, 9)))
	if err != nil {
		return netip.Addr{}, &noRouteError{dst, err}
	}
	defer c.Close()
	src := c.LocalAddr().(*net.UDPAddr).AddrPort().Addr().Unmap()
	if dst.Zone() != "" {
		src = src.WithZone(dst.Zone())
	}
	return src, nil
}
