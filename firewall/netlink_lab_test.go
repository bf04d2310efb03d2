//go:build linux

package firewall_test

import (
	"context"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/knocktools/knock/firewall"
	"github.com/knocktools/knock/internal/lab"
)

// TestNetlinkHoles opens holes over netlink in a lab server's namespace,
// behind a drop of the port in our chain: each opens the port to its
// source only, shows in nft list with its timeout, closes by itself when
// the kernel's timeout runs out, or at once with Close, while a
// connection it let in lives on; a second open gets the whole timeout
// again, and a flushed ruleset is made again.
func TestNetlinkHoles(t *testing.T) {
	lab.Require(t, "nft", "nc")
	l := lab.New(t)
	ns, err := os.Open("/run/netns/" + l.Server.NS)
	if err != nil {
		t.Fatal(err)
	}
	defer ns.Close()
	n := &firewall.Netlink{NetNS: int(ns.Fd())}
	listeners := map[string]*lab.Proc{firewall.Holes4: l.Server.Start("nc", "-lk", l.Server.Addr4.String(), "2222"),
		firewall.Holes6: l.Server.Start("nc", "-lk", l.Server.Addr6.String(), "2222")}
	l.Server.WaitListening(t, l.Server.Addr4, 2222)
	l.Server.WaitListening(t, l.Server.Addr6, 2222)
	l.Server.Run("nft", "add", "table", "inet", "knockd")
	l.Server.Run("nft", "add", "chain", "inet", "knockd", "input", "{ type filter hook input priority filter - 10 ; policy accept ; }")
	l.Server.Run("nft", "add", "rule", "inet", "knockd", "input", "tcp", "dport", "2222", "drop")
	reachable := func(srv netip.Addr) bool {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		return l.Client.Command(ctx, "nc", "-z", "-w", "1", srv.String(), "2222").Run() == nil
	}
	hole := func(src netip.Addr) firewall.Rule { return firewall.Rule{Src: src, Port: 2222, Proto: "tcp"} }
	set := func(name string) string { return l.Server.Run("nft", "list", "set", "inet", "knockd", name) }

	for _, c := range []struct {
		src, srv netip.Addr
		set      string
	}{{l.Client.Addr4, l.Server.Addr4, firewall.Holes4}, {l.Client.Addr6, l.Server.Addr6, firewall.Holes6}} {
		if reachable(c.srv) {
			t.Fatalf("%s reachable before any hole", c.srv)
		}
		// The kernel closes it.
		if err := n.OpenFor(hole(c.src), 2*time.Second); err != nil {
			t.Fatal(err)
		}
		if out := set(c.set); !strings.Contains(out, c.src.String()+" . tcp . 2222 timeout 2s expires") {
			t.Fatalf("nft list set %s:\n%s", c.set, out)
		}
		if !reachable(c.srv) {
			t.Fatalf("%s not reachable through the hole:\n%s", c.srv, l.Server.Run("nft", "list", "ruleset"))
		}
		if !lab.Eventually(5*time.Second, func() bool { return !strings.Contains(set(c.set), c.src.String()) }) {
			t.Fatalf("the element outlived its timeout:\n%s", set(c.set))
		}
		if reachable(c.srv) {
			t.Fatalf("%s reachable after the timeout", c.srv)
		}
		// Opened twice: one element, with the second timeout; closed at
		// once, a connection it let in goes on.
		for _, d := range []time.Duration{time.Minute, time.Hour} {
			if err := n.OpenFor(hole(c.src), d); err != nil {
				t.Fatal(err)
			}
		}
		if out := set(c.set); strings.Count(out, c.src.String()) != 1 || !strings.Contains(out, "timeout 1h expires") {
			t.Fatalf("opened twice:\n%s", out)
		}
		gate := t.TempDir() + "/gate"
		l.Client.Start("sh", "-c", "(echo before-close-"+c.set+"; while [ ! -e "+gate+" ]; do sleep 0.05; done; echo after-close-"+c.set+"; sleep 5) | nc "+c.srv.String()+" 2222")
		listeners[c.set].WaitOutput(t, "before-close-"+c.set, 5*time.Second)
		if err := n.Close(hole(c.src)); err != nil {
			t.Fatal(err)
		}
		if err := n.Close(hole(c.src)); err != nil {
			t.Fatalf("closing what is closed: %v", err)
		}
		if err := os.WriteFile(gate, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		listeners[c.set].WaitOutput(t, "after-close-"+c.set, 5*time.Second)
		if reachable(c.srv) {
			t.Fatalf("%s reachable after Close:\n%s", c.srv, set(c.set))
		}
	}
	// Someone flushes the ruleset: the next hole makes it all again.
	l.Server.Run("nft", "flush", "ruleset")
	if err := n.OpenFor(hole(l.Client.Addr4), time.Minute); err != nil {
		t.Fatal(err)
	}
	if out := l.Server.Run("nft", "list", "chain", "inet", "knockd", "input"); !strings.Contains(out, "@holes4 accept") || !strings.Contains(out, "knockd-established") {
		t.Fatalf("after a flush:\n%s", out)
	}
	// No nft binary was needed: the library speaks netlink.
	if _, err := exec.LookPath("nft"); err != nil {
		t.Fatal(err)
	}
}
