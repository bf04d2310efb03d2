package client

import (
	"context"
	"errors"
	"net"
	"syscall"
	"time"

	"golang.org/x/sys/windows"
)

// connectWait bounds how long a Windows connect knock waits: Windows has no
// portable way to start a connect and walk away, so the dial is cancelled
// shortly after ConnectEx has put the SYN on the wire. The wait starts
// when the socket exists, right before the connect: counted from the start
// of the dial, a slow start (a loaded machine, Wine) used it all up before
// any SYN was sent, and the knock was reported sent but never was.
// dialLimit bounds the whole dial.
const (
	connectWait = 25 * time.Millisecond
	dialLimit   = 5 * time.Second
)

// connectTCP sends a plain SYN with the system's TCP stack. A refused or
// unanswered connection still delivered the knock.
func connectTCP(h *Hit) error {
	ctx, cancel := context.WithTimeout(context.Background(), dialLimit)
	defer cancel()
	d := net.Dialer{
		LocalAddr: &net.TCPAddr{Port: int(h.SrcPort)},
		Control: func(network, address string, c syscall.RawConn) error {
			time.AfterFunc(connectWait, cancel) // from here: the connect comes next
			if h.TTL == 0 {
				return nil
			}
			level, opt := windows.IPPROTO_IP, windows.IP_TTL
			if !h.Dst.Addr().Is4() {
				level, opt = windows.IPPROTO_IPV6, windows.IPV6_UNICAST_HOPS
			}
			var serr error
			err := c.Control(func(fd uintptr) {
				serr = windows.SetsockoptInt(windows.Handle(fd), level, opt, h.TTL)
			})
			return errors.Join(err, serr)
		},
	}
	conn, err := d.DialContext(ctx, "tcp", h.Dst.String())
	if err == nil {
		conn.Close()
		return nil
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, context.Canceled) || errors.Is(err, windows.WSAECONNREFUSED) {
		return nil
	}
	return err
}
