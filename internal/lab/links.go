//go:build linux

package lab

import (
	"bytes"
	"fmt"
	"net/netip"
	"os/exec"
	"strings"
	"testing"
)

// Family says which address families a link gets.
type Family int

const (
	Both     Family = iota // IPv4 and IPv6
	OnlyIPv4               // no IPv6 address at all
	OnlyIPv6               // no IPv4 address at all
)

// AddClient connects one more client host to the lab's server by a veth
// of its own, whose server end is called serverIf (eth1, wg0, ...).
// Link n gets 10.77.n.1 (client) and 10.77.n.2 (server), and fd77:n::1
// and fd77:n::2, as fam allows; n must not be 0 (the lab's own link).
// The host is removed with the lab.
func (l *Lab) AddClient(t testing.TB, serverIf string, n int, fam Family) *Host {
	t.Helper()
	if n < 1 || n > 255 {
		t.Fatalf("lab: link %d: want 1-255", n)
	}
	ns := fmt.Sprintf("%s-c%d", strings.TrimSuffix(l.Client.NS, "-c"), n)
	if out, err := exec.Command("ip", "netns", "add", ns).CombinedOutput(); err != nil {
		t.Fatalf("lab: ip netns add %s: %v: %s", ns, err, bytes.TrimSpace(out))
	}
	t.Cleanup(func() { remove(ns) })
	h := &Host{NS: ns, If: "eth0", t: t}
	if fam != OnlyIPv6 {
		h.Addr4 = netip.MustParseAddr(fmt.Sprintf("10.77.%d.1", n))
	}
	if fam != OnlyIPv4 {
		h.Addr6 = netip.MustParseAddr(fmt.Sprintf("fd77:%x::1", n))
	}
	l.link(t, h, serverIf, n, fam)
	return h
}

// Relink puts back the link of host h (added by AddClient) after
// DelLink removed it.
func (l *Lab) Relink(t testing.TB, h *Host, serverIf string, n int, fam Family) {
	t.Helper()
	l.link(t, h, serverIf, n, fam)
}

// DelLink removes the server's interface serverIf, and so its veth peer.
func (l *Lab) DelLink(t testing.TB, serverIf string) {
	t.Helper()
	l.Server.Run("ip", "link", "del", serverIf)
}

func (l *Lab) link(t testing.TB, h *Host, serverIf string, n int, fam Family) {
	t.Helper()
	steps := [][]string{
		{"link", "add", "eth0", "netns", h.NS, "type", "veth", "peer", "name", serverIf, "netns", l.Server.NS},
		{"-n", h.NS, "link", "set", "lo", "up"},
		{"-n", h.NS, "link", "set", "eth0", "up"},
		{"-n", l.Server.NS, "link", "set", serverIf, "up"},
	}
	for _, side := range []struct {
		ns, dev string
		host    int
	}{{h.NS, "eth0", 1}, {l.Server.NS, serverIf, 2}} {
		if fam != OnlyIPv6 {
			steps = append(steps, []string{"-n", side.ns, "addr", "add", fmt.Sprintf("10.77.%d.%d/24", n, side.host), "dev", side.dev})
		}
		if fam != OnlyIPv4 {
			steps = append(steps, []string{"-n", side.ns, "addr", "add", fmt.Sprintf("fd77:%x::%d/64", n, side.host), "dev", side.dev, "nodad"})
		} else {
			steps = append(steps, []string{"netns", "exec", side.ns, "sysctl", "-q", "-w", "net.ipv6.conf." + side.dev + ".disable_ipv6=1"})
		}
	}
	for _, s := range steps {
		if out, err := exec.Command("ip", s...).CombinedOutput(); err != nil {
			t.Fatalf("lab: ip %s: %v: %s", strings.Join(s, " "), err, bytes.TrimSpace(out))
		}
	}
}
