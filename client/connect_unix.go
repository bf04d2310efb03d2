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
	fd, err := knockSocket(h, unix.SOCK_STREAM)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	if err := unix.SetNonblock(fd, true); err != nil {
		return os.NewSyscallError("fcntl", err)
	}
	err = unix.Connect(fd, sockaddr(h.Dst))
	if err != nil && err != unix.EINPROGRESS && err != unix.EINTR {
		return os.NewSyscallError("connect", err)
	}
	h.SrcPort = localPort(fd, h.SrcPort)
	return nil
}

// knockSocket opens a socket of type typ (stream or datagram) for a knock
// to h.Dst, in plain system calls (no poller for a socket only written
// once), with h's TTL, and bound to h.SrcPort when the knock asks for one:
// reusable for TCP, as knock 0.8 binds it, and IPv6-only for an IPv6 UDP
// socket, as Go's "udp6" sockets are.
func knockSocket(h *Hit, typ int) (int, error) {
	dst := h.Dst.Addr()
	domain, level, opt := unix.AF_INET, unix.IPPROTO_IP, unix.IP_TTL
	if !dst.Is4() {
		domain, level, opt = unix.AF_INET6, unix.IPPROTO_IPV6, unix.IPV6_UNICAST_HOPS
	}
	fd, err := unix.Socket(domain, typ, 0)
	if err != nil {
		return -1, os.NewSyscallError("socket", err)
	}
	unix.CloseOnExec(fd)
	fail := func(err error) (int, error) {
		unix.Close(fd)
		return -1, err
	}
	if h.TTL > 0 {
		if err := unix.SetsockoptInt(fd, level, opt, h.TTL); err != nil {
			return fail(os.NewSyscallError("setsockopt TTL", err))
		}
	}
	if h.SrcPort != 0 {
		switch {
		case typ == unix.SOCK_STREAM:
			if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1); err != nil {
				return fail(os.NewSyscallError("setsockopt SO_REUSEADDR", err))
			}
		case !dst.Is4():
			if err := unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_V6ONLY, 1); err != nil {
				return fail(os.NewSyscallError("setsockopt IPV6_V6ONLY", err))
			}
		}
		if err := unix.Bind(fd, sockaddr(netip.AddrPortFrom(unspecified(dst), h.SrcPort))); err != nil {
			return fail(os.NewSyscallError("bind source port "+strconv.Itoa(int(h.SrcPort)), err))
		}
	}
	return fd, nil
}

// localPort is the port fd is bound to, or def when the kernel does not
// say.
func localPort(fd int, def uint16) uint16 {
	sa, err := unix.Getsockname(fd)
	if err != nil {
		return def
	}
	switch sa := sa.(type) {
	case *unix.SockaddrInet4:
		return uint16(sa.Port)
	case *unix.SockaddrInet6:
		return uint16(sa.Port)
	}
	return def
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
