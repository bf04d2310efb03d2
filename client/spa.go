package client

import (
	"context"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strconv"
	"strings"
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

// PublicIPv4 asks url for this host's public IPv4 address, as fwknop's -R
// does (the page's first IPv4 address).
func PublicIPv4(ctx context.Context, url string) (netip.Addr, error) {
	return publicIPv4(ctx, url, nil)
}

// publicIPv4 is PublicIPv4 trusting roots (nil: the system's).
func publicIPv4(ctx context.Context, url string, roots *x509.CertPool) (netip.Addr, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	body, err := httpGet(ctx, url, roots)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("resolving our address at %s: %w", url, err)
	}
	words := strings.FieldsFunc(string(body), func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
	for _, w := range words {
		if a, err := netip.ParseAddr(w); err == nil && a.Is4() {
			return a, nil
		}
	}
	return netip.Addr{}, fmt.Errorf("resolving our address at %s: no IPv4 address in its answer (%s)", url, strconv.Quote(string(body[:min(len(body), 80)])))
}
