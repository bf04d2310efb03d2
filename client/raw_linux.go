package client

import (
	"fmt"
	"net/netip"

	"golang.org/x/sys/unix"
)

// rawTCP says whether this OS can send TCP over raw sockets.
const rawTCP = true

// rawIP sends TCP segments over a raw IP socket, in plain system calls: a
// knock is a whole process, and Go's net package would start its poller
// and wrap each send for sockets that are only ever written, a few times,
// before the process exits. IPv4 goes with IP_HDRINCL, the packet exactly
// as gopacket built it (Linux takes every header field in network order);
// IPv6 raw sockets take the TCP segment only, so the socket is bound to
// the source the checksum was computed with.
type rawIP struct {
	fd  int
	v6  bool
	hop int // the IPv6 hop limit set on the socket; 0 before the first send
}

func openRaw(src netip.Addr) (rawSocket, error) {
	fd, err := unix.Socket(family(src), unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.IPPROTO_TCP)
	if err != nil {
		return nil, fmt.Errorf("socket: %w", err)
	}
	r := &rawIP{fd: fd, v6: src.Is6()}
	if r.v6 {
		if err = unix.Bind(fd, sockaddr(netip.AddrPortFrom(src, 0))); err != nil {
			err = fmt.Errorf("bind %s: %w", src, err)
		}
	} else if err = unix.SetsockoptInt(fd, unix.IPPROTO_IP, unix.IP_HDRINCL, 1); err != nil {
		err = fmt.Errorf("IP_HDRINCL: %w", err)
	}
	if err != nil {
		unix.Close(fd)
		return nil, err
	}
	// A Linux raw TCP socket is also handed a copy of every TCP segment
	// the host receives, which a sender never reads; a filter that
	// accepts nothing keeps them out of its buffer. Harmless if refused.
	ret0 := []unix.SockFilter{{Code: unix.BPF_RET | unix.BPF_K, K: 0}}
	_ = unix.SetsockoptSockFprog(fd, unix.SOL_SOCKET, unix.SO_ATTACH_FILTER, &unix.SockFprog{Len: 1, Filter: &ret0[0]})
	return r, nil
}

func (r *rawIP) send(seg *segment) error {
	sa := sockaddr(netip.AddrPortFrom(seg.dst, 0))
	if !r.v6 {
		return sendErr(unix.Sendto(r.fd, seg.packet, 0, sa))
	}
	if hop := int(seg.ttl); hop != r.hop {
		if err := unix.SetsockoptInt(r.fd, unix.IPPROTO_IPV6, unix.IPV6_UNICAST_HOPS, hop); err != nil {
			return fmt.Errorf("set hop limit %d: %w", hop, err)
		}
		r.hop = hop
	}
	return sendErr(unix.Sendto(r.fd, seg.tcp(), 0, sa))
}

// sendErr names the system call; the caller names the knock and its
// destination.
func sendErr(err error) error {
	if err != nil {
		return fmt.Errorf("sendto: %w", err)
	}
	return nil
}

func (r *rawIP) Close() error { return unix.Close(r.fd) }

// sourceFor asks the kernel which source address it would use towards dst:
// connecting a UDP socket routes it without sending anything.
func sourceFor(dst netip.Addr) (netip.Addr, error) {
	fd, err := unix.Socket(family(dst), unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("no route to %s: %w", dst, err)
	}
	defer unix.Close(fd)
	if err := unix.Connect(fd, sockaddr(netip.AddrPortFrom(dst, 9))); err != nil {
		return netip.Addr{}, fmt.Errorf("no route to %s: %w", dst, err)
	}
	local, err := unix.Getsockname(fd)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("no route to %s: %w", dst, err)
	}
	var src netip.Addr
	switch l := local.(type) {
	case *unix.SockaddrInet4:
		src = netip.AddrFrom4(l.Addr)
	case *unix.SockaddrInet6:
		src = netip.AddrFrom16(l.Addr).Unmap()
	}
	if dst.Zone() != "" {
		src = src.WithZone(dst.Zone())
	}
	return src, nil
}

// family is the address family of a.
func family(a netip.Addr) int {
	if a.Is4() {
		return unix.AF_INET
	}
	return unix.AF_INET6
}
