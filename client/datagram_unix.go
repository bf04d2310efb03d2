//go:build unix

package client

import (
	"net/netip"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// sendDatagram sends a UDP knock: one datagram holding the knock's
// payload, or a single zero byte as knock 0.8 sends, from the requested
// source port and with the requested TTL, through an ordinary socket (no
// privileges needed). Plain system calls, as connectTCP: a net socket
// would start the runtime's poller for one sendto, and x/net's TTL setter
// links tables that every knock would build at start.
func sendDatagram(h *Hit) error {
	dst := h.Dst.Addr()
	domain, level, opt := unix.AF_INET, unix.IPPROTO_IP, unix.IP_TTL
	if !dst.Is4() {
		domain, level, opt = unix.AF_INET6, unix.IPPROTO_IPV6, unix.IPV6_UNICAST_HOPS
	}
	fd, err := unix.Socket(domain, unix.SOCK_DGRAM, unix.IPPROTO_UDP)
	if err != nil {
		return os.NewSyscallError("socket", err)
	}
	defer unix.Close(fd)
	unix.CloseOnExec(fd)
	if h.TTL > 0 {
		if err := unix.SetsockoptInt(fd, level, opt, h.TTL); err != nil {
			return os.NewSyscallError("setsockopt TTL", err)
		}
	}
	if h.SrcPort != 0 {
		if !dst.Is4() {
			// As Go's "udp6" sockets: the port is taken for IPv6 only.
			if err := unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_V6ONLY, 1); err != nil {
				return os.NewSyscallError("setsockopt IPV6_V6ONLY", err)
			}
		}
		if err := unix.Bind(fd, sockaddr(netip.AddrPortFrom(unspecified(dst), h.SrcPort))); err != nil {
			return os.NewSyscallError("bind source port "+strconv.Itoa(int(h.SrcPort)), err)
		}
	}
	data := []byte{0}
	if h.Knock.HasPayload {
		data = []byte(h.Knock.Payload)
	}
	if err := unix.Sendto(fd, data, 0, sockaddr(h.Dst)); err != nil {
		return os.NewSyscallError("sendto", err)
	}
	if sa, err := unix.Getsockname(fd); err == nil {
		switch sa := sa.(type) {
		case *unix.SockaddrInet4:
			h.SrcPort = uint16(sa.Port)
		case *unix.SockaddrInet6:
			h.SrcPort = uint16(sa.Port)
		}
	}
	return nil
}
