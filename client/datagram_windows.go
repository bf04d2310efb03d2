//go:build windows

package client

import (
	"net"

	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
)

// sendDatagram sends a UDP knock, one datagram (see datagram), from the
// requested source port and with the requested TTL, through an ordinary
// socket (no privileges needed).
func sendDatagram(h *Hit) error {
	network := "udp4"
	if !h.Dst.Addr().Is4() {
		network = "udp6"
	}
	c, err := net.ListenUDP(network, &net.UDPAddr{Port: int(h.SrcPort)})
	if err != nil {
		return err
	}
	defer c.Close()
	if h.TTL > 0 {
		if network == "udp4" {
			err = ipv4.NewConn(c).SetTTL(h.TTL)
		} else {
			err = ipv6.NewConn(c).SetHopLimit(h.TTL)
		}
		if err != nil {
			return err
		}
	}
	if _, err := c.WriteToUDPAddrPort(datagram(h.Knock), h.Dst); err != nil {
		return err
	}
	h.SrcPort = uint16(c.LocalAddr().(*net.UDPAddr).Port)
	return nil
}
