//go:build unix

package client

import (
	"os"

	"golang.org/x/sys/unix"
)

// sendDatagram sends a UDP knock, one datagram (see datagram), from the
// requested source port and with the requested TTL, through an ordinary
// socket (no privileges needed). Plain system calls, as connectTCP: a net socket
// would start the runtime's poller for one sendto, and x/net's TTL setter
// links tables that every knock would build at start.
func sendDatagram(h *Hit) error {
	fd, err := knockSocket(h, unix.SOCK_DGRAM)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	if err := unix.Sendto(fd, datagram(h.Knock), 0, sockaddr(h.Dst)); err != nil {
		return os.NewSyscallError("sendto", err)
	}
	h.SrcPort = localPort(fd, h.SrcPort)
	return nil
}
