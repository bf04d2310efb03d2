package client

import (
	"fmt"
	"net/netip"

	"golang.org/x/sys/unix"
)

// rawTCP says whether this OS can send TCP over raw sockets.
const rawTCP = true

// rawIP sends TCP knocks over a raw IP socket, in plain system calls: a
// knock is a whole process, and Go's net package would start its poller
// and wrap each send for sockets that are only ever written, a few times,
// before the process exits.
//
// The socket is IPPROTO_RAW, for IPv4 and IPv6 alike: it takes the packet
// exactly as gopacket built it, IP header included (Linux takes every
// header field in network order), and it is send-only, so the kernel never
// hands it copies of the host's inbound TCP segments (an IPPROTO_TCP raw
// socket gets every one, and needs a filter to keep them out). Connecting
// it routes it without sending anything, which gives the source address
// the checksums are computed with.
type rawIP struct {
	fd int
}

func openRaw(dst netip.Addr) (rawSocket, netip.Addr, error) {
	fd, err := unix.Socket(family(dst), unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.IPPROTO_RAW)
	if err != nil {
		return nil, netip.Addr{}, fmt.Errorf("socket: %w", err)
	}
	src, err := connectRoute(fd, dst)
	if err != nil {
		unix.Close(fd)
		return nil, netip.Addr{}, err
	}
	return &rawIP{fd: fd}, src, nil
}

// connectRoute connects fd to dst and returns the source address the
// kernel chose for it.
func connectRoute(fd int, dst netip.Addr) (netip.Addr, error) {
	if err := unix.Connect(fd, sockaddr(netip.AddrPortFrom(dst, 0))); err != nil {
		return netip.Addr{}, &noRouteError{dst, err}
	}
	sa, err := unix.Getsockname(fd)
	if err != nil {
		return netip.Addr{}, &noRouteError{dst, fmt.Errorf("getsockname: %w", err)}
	}
	var src netip.Addr
	switch sa := sa.(type) {
	case *unix.SockaddrInet4:
		src = netip.AddrFrom4(sa.Addr)
	case *unix.SockaddrInet6:
		src = netip.AddrFrom16(sa.Addr)
	}
	if !src.IsValid() || src.IsUnspecified() {
		return netip.Addr{}, &noRouteError{dst, fmt.Errorf("the kernel chose no source address (%v)", src)}
	}
	if dst.Zone() != "" {
		src = src.WithZone(dst.Zone())
	}
	return src, nil
}

func (r *rawIP) send(seg *segment) error {
	// The socket is connected to seg.dst: no address to pass.
	if err := unix.Sendto(r.fd, seg.packet, 0, nil); err != nil {
		return fmt.Errorf("sendto: %w", err)
	}
	return nil
}

func (r *rawIP) Close() error { return unix.Close(r.fd) }

// family is the address family of a.
func family(a netip.Addr) int {
	if a.Is4() {
		return unix.AF_INET
	}
	return unix.AF_INET6
}
