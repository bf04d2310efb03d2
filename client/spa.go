package client

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/netip"
	"time"

	"github.com/knocktools/knock"
)

// MethodSPA is how an SPA packet goes: one UDP datagram, or one TCP
// connection that carries it (fwknop's -P tcp).
const MethodSPA Method = "spa"

// SPA is one Single Packet Authorization packet to send (built by
// package spa).
type SPA struct {
	Packet string
	Port   uint16 // the server's SPA port, 62201 by default
	TCP    bool   // over a TCP connection instead of a datagram
}

// spaDialTimeout bounds the TCP connection an SPA packet goes over.
const spaDialTimeout = 5 * time.Second

// SendSPA resolves host and sends the packet to it, returning the address
// it went to (the one a connection that follows must use: the server
// opens the door for the packet's source, towards that address). Family
// and DryRun are read from o; an address the kernel cannot reach gives
// way to the next one, as in KnockHost.
func (k *Knocker) SendSPA(ctx context.Context, host string, s SPA, o Options) (netip.Addr, error) {
	return k.firstReachable(ctx, host, o, func(dst netip.Addr) (int, error) {
		return 0, k.sendSPA(ctx, host, dst, s, o)
	})
}

func (k *Knocker) sendSPA(ctx context.Context, host string, dst netip.Addr, s SPA, o Options) error {
	proto := knock.UDP
	if s.TCP {
		proto = knock.TCP
	}
	h := Hit{Host: host, Knock: knock.Knock{Port: s.Port, Proto: proto}, Method: MethodSPA,
		Dst: netip.AddrPortFrom(dst, s.Port), DryRun: o.DryRun}
	if !o.DryRun {
		network := "udp"
		if s.TCP {
			network = "tcp"
		}
		d := net.Dialer{Timeout: spaDialTimeout}
		c, err := d.DialContext(ctx, network, h.Dst.String())
		if err != nil {
			return fmt.Errorf("SPA packet to %s %s: %w", network, h.Dst, err)
		}
		_, err = io.WriteString(c, s.Packet)
		if cerr := c.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("SPA packet to %s %s: %w", network, h.Dst, err)
		}
	}
	h.Time = k.now()
	if k.Report != nil {
		k.Report(h)
	}
	return nil
}
