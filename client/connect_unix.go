//go:build unix

package client

import (
	"net"
	"net/netip"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// connectTCP starts a non-blocking connect() and closes the socket at once,
// as knock 0.8 does: the kernel sends its SYN while connect() runs, and a
// socket closed in SYN-SENT goes away without a packet, so a filtered port
// costs no time.
func connectTCP(h *Hit) error {
	dst := h.Dst.Addr()
	domain, level, opt := unix.AF_INET, unix.IPPROTO_IP, unix.IP_TTL
	if !dst.Is4() {
		domain, level, opt = unix.AF_INET6, unix.IPPROTO_IPV6, unix.IPV6_UNICAST_HOPS
	}
	fd, err := unix.Socket(domain, unix.SOCK_STREAM, unix.IPPROTO_TCP)
	if err != nil {
		return os.NewSyscallError("socket", err)
	}
	defer unix.Close(fd)
	unix.CloseOnExec(fd)
	if err := unix.SetNonblock(fd, true); err != nil {
		return os.NewSyscallError("fcntl", err)
	}
	if h.TTL > 0 {
		if err := unix.SetsockoptInt(fd, level, opt, h.TTL); err != nil {
			return os.NewSyscallError("setsockopt TTL", err)
		}
	}
	if h.SrcPort != 0 {
		if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1); err != nil {
			return os.NewSyscallError("setsockopt SO_REUSEADDR", err)
		}
		if err := unix.Bind(fd, sockaddr(netip.AddrPortFrom(unspecified(dst), h.SrcPort))); err != nil {
			return os.NewSyscallError("bind source port "+strconv.Itoa(int(h.SrcPort)), err)
		}
	}
	err = unix.Connect(fd, sockaddr(h.Dst))
	if err != nil && err != unix.EINPROGRESS && err != unix.EINTR {
		return os.NewSyscallError("connect", err)
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

func unspecified(a netip.Addr) netip.Addr {
	if a.Is4() {
		return netip.IPv4Unspecified()
	}
	return netip.IPv6Unspecified()
}

func sockaddr(ap netip.AddrPort) unix.Sockaddr {
	a := ap.Addr()
	if a.Is4() {
		return &unix.SockaddrInet4{Port: int(ap.Port()), Addr: a.As4()}
	}
	sa := &unix.SockaddrInet6{Port: int(ap.Port()), Addr: a.As16()}
	if z := a.Zone(); z != "" {
		if ifi, err := net.InterfaceByName(z); err == nil {
			sa.ZoneId = uint32(ifi.Index)
		} else if n, err := strconv.Atoi(z); err == nil {
			sa.ZoneId = uint32(n)
		}
	}
	return sa
}
