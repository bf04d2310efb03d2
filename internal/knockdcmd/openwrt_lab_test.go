//go:build linux

package knockdcmd

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/knocktools/knock/internal/lab"
)

// TestOpenWrtDoor runs the OpenWrt package's door as shipped: its
// knockd.conf, and its nftables includes inside a table laid out as
// OpenWrt's fw4 lays out its own (a WAN input chain that rejects ssh, our
// rule included at its top). Debian's knock 0.8 knocks over IPv4 and
// IPv6; each knocker is let in through the set, for the door's 30 seconds.
func TestOpenWrtDoor(t *testing.T) {
	lab.Require(t, "nft", "nc", "knock")
	l := lab.New(t)
	repo, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	ruleset := filepath.Join(t.TempDir(), "fw4.nft")
	if err := os.WriteFile(ruleset, []byte(`table inet fw4 {
	include "`+repo+`/etc/openwrt/nftables.d/table-pre/*.nft"
	chain input {
		type filter hook input priority filter; policy accept;
		ct state established,related accept
		iifname "`+l.Server.If+`" jump input_wan
	}
	chain input_wan {
		include "`+repo+`/etc/openwrt/nftables.d/chain-pre/input_wan/*.nft"
		tcp dport 22 reject
	}
}
`), 0o600); err != nil {
		t.Fatal(err)
	}
	l.Server.Run("nft", "-f", ruleset)
	l.Server.Start("nc", "-lk", l.Server.Addr4.String(), "22")
	l.Server.Start("nc", "-lk", l.Server.Addr6.String(), "22")
	conf, err := os.ReadFile("../../etc/openwrt/knockd.conf")
	if err != nil {
		t.Fatal(err)
	}
	srv4, srv6 := l.Server.Addr4.String(), l.Server.Addr6.String()
	if reachable(l, srv4, "22") || reachable(l, srv6, "22") {
		t.Fatal("ssh reachable before any knock")
	}
	// The config's own Interface (any) and sizes, as on a router; but the
	// lab has no syslog daemon (OpenWrt's logd listens on /dev/log).
	text := strings.Replace(string(conf), "\tUseSyslog\n", "", 1)
	k := l.Server.StartKnockdArgs(t, ourKnockd(t), text, nil, "capturing on "+l.Server.If)
	for _, args := range [][]string{{srv4, "7000", "8000", "9000"}, {"-6", srv6, "7000", "8000", "9000"}} {
		l.Client.Run(lab.DebianKnock, args...)
	}
	for _, set := range []struct{ name, member string }{{"knockd_ssh4", l.Client.Addr4.String()}, {"knockd_ssh6", l.Client.Addr6.String()}} {
		if !lab.Eventually(10*time.Second, func() bool {
			return strings.Contains(l.Server.Run("nft", "list", "set", "inet", "fw4", set.name), set.member)
		}) {
			t.Fatalf("%s never held %s; knockd said:\n%s", set.name, set.member, k.Output())
		}
	}
	out := l.Server.Run("nft", "list", "set", "inet", "fw4", "knockd_ssh4")
	if !strings.Contains(out, "expires") {
		t.Errorf("the element has no timeout:\n%s", out)
	}
	if !reachable(l, srv4, "22") || !reachable(l, srv6, "22") {
		t.Fatalf("ssh not reachable after the knocks:\n%s", l.Server.Run("nft", "list", "ruleset"))
	}
}
