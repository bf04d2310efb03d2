//go:build linux

package knockdcmd

import (
	"context"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/knocktools/knock/firewall"
	"github.com/knocktools/knock/internal/lab"
)

// TestFirewallHelper runs knockd fw against both backends in a lab: an
// sshd (IPv4) and a listener (IPv6) behind rules that drop their ports
// become reachable after open and unreachable after close; opening twice
// leaves one rule, closing twice is fine.
func TestFirewallHelper(t *testing.T) {
	lab.Require(t, "nft", "iptables", "ip6tables", "sshd", "nc")
	for _, backend := range []string{"nftables", "iptables"} {
		t.Run(backend, func(t *testing.T) {
			l := lab.New(t)
			l.Server.StartSSHD(t)
			listener := l.Server.Start("nc", "-lk", l.Server.Addr6.String(), "2222")
			l.Server.WaitListening(t, l.Server.Addr6, 2222)
			blockPorts(t, l, backend)
			fw := func(args ...string) string {
				t.Helper()
				return l.Server.Run(ourKnockd(t), append(append([]string{"fw"}, args...), "--backend", backend)...)
			}
			srv4, srv6 := l.Server.Addr4.String(), l.Server.Addr6.String()
			me4, me6 := l.Client.Addr4.String(), l.Client.Addr6.String()

			if reachable(l, srv4, "22") {
				t.Fatal("port 22 reachable before open")
			}
			fw("open", "--src", me4, "--port", "22")
			fw("open", "--src", me4, "--port", "22")
			if rules := fw("list"); strings.Count(rules, me4) != 1 {
				t.Fatalf("after opening twice:\n%s", rules)
			}
			if !reachable(l, srv4, "22") {
				t.Fatal("sshd not reachable after open")
			}
			fw("close", "--src", me4, "--port", "22")
			fw("close", "--src", me4, "--port", "22")
			if rules := fw("list"); strings.Contains(rules, me4) {
				t.Fatalf("rules left after close:\n%s", rules)
			}
			if reachable(l, srv4, "22") {
				t.Fatal("sshd still reachable after close")
			}

			fw("open", "--src", me6, "--port", "2222")
			if !reachable(l, srv6, "2222") {
				t.Fatalf("IPv6 port not reachable after open:\n%s", fw("list"))
			}
			fw("close", "--src", me6, "--port", "2222")
			if reachable(l, srv6, "2222") {
				t.Fatal("IPv6 port reachable after close")
			}

			// A connection the door let in outlives the door's close:
			// open added the rule that keeps established connections,
			// and close left it in place.
			gate := filepath.Join(t.TempDir(), "gate")
			fw("open", "--src", me6, "--port", "2222")
			l.Client.Start("sh", "-c", "(echo before-close; while [ ! -e "+gate+" ]; do sleep 0.05; done; echo after-close; sleep 5) | nc "+srv6+" 2222")
			listener.WaitOutput(t, "before-close", 5*time.Second)
			fw("close", "--src", me6, "--port", "2222")
			if err := os.WriteFile(gate, nil, 0o600); err != nil {
				t.Fatal(err)
			}
			listener.WaitOutput(t, "after-close", 5*time.Second)
			if rules := fw("list"); !strings.Contains(rules, "knockd-established") || strings.Contains(rules, me6) {
				t.Fatalf("after close, want the established rule alone:\n%s", rules)
			}
		})
	}
}

// In auto mode knockd fw uses the firewall that filters: on a host whose
// drop rule is in iptables (nft-backed, Debian's default) while nft is
// installed too, the door opens (it used to pick nftables and stay shut);
// with a drop rule in an nftables table of its own it picks nftables.
func TestFirewallHelperAuto(t *testing.T) {
	lab.Require(t, "nft", "iptables", "nc", "sshd")
	for _, backend := range []string{"iptables", "nftables"} {
		t.Run(backend, func(t *testing.T) {
			l := lab.New(t)
			l.Server.StartSSHD(t)
			blockPorts(t, l, backend)
			srv4, me4 := l.Server.Addr4.String(), l.Client.Addr4.String()
			out := l.Server.Run(ourKnockd(t), "fw", "open", "--src", me4, "--port", "22")
			if !strings.Contains(out, "knockd fw: "+backend+": tcp/22 for "+me4+": open (rule added)") {
				t.Fatalf("open said %q, want the %s backend", out, backend)
			}
			if !reachable(l, srv4, "22") {
				t.Fatalf("sshd not reachable after an auto open:\n%s", out)
			}
			out = l.Server.Run(ourKnockd(t), "fw", "close", "--src", me4, "--port", "22")
			if !strings.Contains(out, "closed (1 rule(s) removed)") || reachable(l, srv4, "22") {
				t.Fatalf("close said %q", out)
			}
		})
	}
}

// TestDoorUsingTheHelper knocks a door whose commands are knockd fw: the
// port opens for the knocker, then closes after Cmd_Timeout.
func TestDoorUsingTheHelper(t *testing.T) {
	lab.Require(t, "nft", "sshd", "nc")
	l := lab.New(t)
	l.Server.StartSSHD(t)
	blockPorts(t, l, "nftables")
	helper := ourKnockd(t) + " fw"
	conf := "[fw]\n\tsequence = 7001,7002:udp\n" +
		"\tstart_command = " + helper + " open --src %IP% --port 22 --backend nftables\n" +
		"\tcmd_timeout = 2\n" +
		"\tstop_command = " + helper + " close --src %IP% --port 22 --backend nftables\n"
	kd := l.Server.StartKnockd(t, ourKnockd(t), conf, nil)
	srv := l.Server.Addr4.String()
	l.Client.Run(ourKnock(t), srv, "7001", "7002:udp")
	if !lab.Eventually(5*time.Second, func() bool { return reachable(l, srv, "22") }) {
		t.Fatalf("door did not open:\n%s", kd.Output())
	}
	if !lab.Eventually(8*time.Second, func() bool { return !reachable(l, srv, "22") }) {
		t.Fatalf("door did not close after Cmd_Timeout:\n%s", kd.Output())
	}
	kd.WaitOutput(t, "fw: command timeout", 5*time.Second)
}

// blockPorts drops the lab's service ports (22 on IPv4, 2222 on IPv6) in
// the place the backend's accept rules take precedence over: our own
// nftables chain, or the iptables INPUT chains below the inserted rules.
func blockPorts(t *testing.T, l *lab.Lab, backend string) {
	t.Helper()
	if backend == "nftables" {
		l.Server.Run("nft", "add", "table", "inet", "knockd")
		l.Server.Run("nft", "add", "chain", "inet", "knockd", "input", "{ type filter hook input priority filter - 10 ; policy accept ; }")
		l.Server.Run("nft", "add", "rule", "inet", "knockd", "input", "tcp", "dport", "{ 22, 2222 }", "drop")
		return
	}
	l.Server.Run("iptables", "-A", "INPUT", "-p", "tcp", "--dport", "22", "-j", "DROP")
	l.Server.Run("ip6tables", "-A", "INPUT", "-p", "tcp", "--dport", "2222", "-j", "DROP")
}

// reachable says whether a TCP connection from the client succeeds within
// a second.
func reachable(l *lab.Lab, addr, port string) bool {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	return l.Client.Command(ctx, "nc", "-z", "-w", "1", addr, port).Run() == nil
}

// TestOpenWrtDoor runs the OpenWrt package's door as shipped: its
// knockd.conf, and its nftables includes inside a table laid out as
// OpenWrt's fw4 lays out its own (a WAN input chain that rejects ssh, our
// rule included at its top). Debian's knock 0.8 knocks over IPv4 and
// IPv6; each knocker is let in through the set, for the door's 30 seconds.
// Then knockd as the package's knockd-fwknop init runs it (--firewall
// fw4) lets knock's SPA packets in through the includes' knockd_holes
// sets, over IPv4 and IPv6.
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
		tcp dport { 22, 2222 } reject
	}
}
`), 0o600); err != nil {
		t.Fatal(err)
	}
	l.Server.Run("nft", "-f", ruleset)
	l.Server.Start("nc", "-lk", l.Server.Addr4.String(), "22")
	l.Server.Start("nc", "-lk", l.Server.Addr6.String(), "22")
	l.Server.WaitListening(t, l.Server.Addr4, 22)
	l.Server.WaitListening(t, l.Server.Addr6, 22)
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

	// knockd in place of fwknopd, as the package's knockd-fwknop init
	// runs it (--firewall fw4): an SPA stanza without CMD_CYCLE_OPEN opens
	// tcp/2222 through the package's knockd_holes sets in fw4's table.
	dir := t.TempDir()
	const key, hmac = "dGhpcy1pcy1hLTMyLWJ5dGUta2V5LWZvci10ZXN0cyE=", "aG1hYy1rZXktZm9yLWZ3a25vcC1jbGllbnQtdGVzdHMtaW4tc3BhZG9vcg=="
	writeFile(t, filepath.Join(dir, "access.conf"), "SOURCE ANY\nKEY_BASE64 "+key+"\nHMAC_KEY_BASE64 "+hmac+"\nOPEN_PORTS tcp/2222\nFW_ACCESS_TIMEOUT 30\n")
	writeFile(t, filepath.Join(dir, "fwknopd.conf"), "PCAP_INTF "+l.Server.If+";\n")
	init, err := os.ReadFile("../../etc/openwrt/knockd-fwknop.init")
	if err != nil || !strings.Contains(string(init), "--firewall fw4") {
		t.Fatalf("the init script does not run --firewall fw4: %v", err)
	}
	spa := l.Server.Start(ourKnockd(t), "--fwknopd-conf", filepath.Join(dir, "fwknopd.conf"), "--access-conf", filepath.Join(dir, "access.conf"),
		"--firewall", "fw4", "-v", "--status-socket", filepath.Join(dir, "status.sock"))
	spa.WaitOutput(t, "built-in firewall: fw4", 10*time.Second)
	spa.WaitOutput(t, "listening on "+l.Server.If, 10*time.Second) // capturing: only now may a packet come
	l.Server.Start("nc", "-lk", srv4, "2222")
	l.Server.Start("nc", "-lk", srv6, "2222")
	l.Server.WaitListening(t, l.Server.Addr4, 2222)
	l.Server.WaitListening(t, l.Server.Addr6, 2222)
	cfg := filepath.Join(dir, "config.yaml")
	writeFile(t, cfg, "profiles:\n  v4:\n    host: "+srv4+"\n    spa:\n      access: tcp/2222\n      key_base64: "+key+"\n      hmac_key_base64: "+hmac+"\n      allow_ip: source\n"+
		"  v6:\n    host: "+srv6+"\n    spa:\n      access: tcp/2222\n      key_base64: "+key+"\n      hmac_key_base64: "+hmac+"\n      allow_ip: source\n")
	for _, c := range []struct{ profile, set, member, srv string }{
		{"v4", "knockd_holes4", l.Client.Addr4.String() + " . tcp . 2222 timeout 30s expires", srv4},
		{"v6", "knockd_holes6", l.Client.Addr6.String() + " . tcp . 2222 timeout 30s expires", srv6},
	} {
		if reachable(l, c.srv, "2222") {
			t.Fatalf("%s 2222 reachable before the SPA packet", c.srv)
		}
		if out, err := l.Client.Command(t.Context(), ourKnock(t), "--config", cfg, c.profile).CombinedOutput(); err != nil {
			t.Fatalf("knock %s: %v\n%s", c.profile, err, out)
		}
		if !lab.Eventually(10*time.Second, func() bool {
			return strings.Contains(l.Server.Run("nft", "list", "set", "inet", "fw4", c.set), c.member)
		}) {
			t.Fatalf("%s never held %s:\n%s\n%s", c.set, c.member, l.Server.Run("nft", "list", "set", "inet", "fw4", c.set), spa.Output())
		}
		if !reachable(l, c.srv, "2222") {
			t.Fatalf("%s 2222 not reachable after the SPA packet:\n%s", c.srv, l.Server.Run("nft", "list", "ruleset"))
		}
	}
}

// TestBuiltinFirewallNftables: with Firewall = nftables, a door's
// Open_Ports and an SPA stanza without CMD_CYCLE_OPEN open their ports as
// elements of our set with the door's timeout (seen in nft list), over
// netlink; the kernel closes them on time, knockd status lists them, and
// SIGTERM closes what is open before knockd exits.
func TestBuiltinFirewallNftables(t *testing.T) {
	lab.Require(t, "nft", "nc")
	l := lab.New(t)
	dir := t.TempDir()
	const key, hmac = "dGhpcy1pcy1hLTMyLWJ5dGUta2V5LWZvci10ZXN0cyE=", "aG1hYy1rZXktZm9yLWZ3a25vcC1jbGllbnQtdGVzdHMtaW4tc3BhZG9vcg=="
	writeFile(t, filepath.Join(dir, "access.conf"), "SOURCE ANY\nKEY_BASE64 "+key+"\nHMAC_KEY_BASE64 "+hmac+"\nOPEN_PORTS tcp/2223\nFW_ACCESS_TIMEOUT 30\n")
	writeFile(t, filepath.Join(dir, "fwknopd.conf"), "PCAP_INTF eth0;\n")
	writeFile(t, filepath.Join(dir, "knockd.conf"), "[options]\n\tFirewall = nftables\n\tFwknopd_Conf = "+dir+"/fwknopd.conf\n\tAccess_Conf = "+dir+"/access.conf\n"+
		"[door]\n\tsequence = 7000,8000\n\tOpen_Ports = tcp/2222\n\tCmd_Timeout = 3\n")
	l.Server.Run("nft", "add", "table", "inet", "knockd")
	l.Server.Run("nft", "add", "chain", "inet", "knockd", "input", "{ type filter hook input priority filter - 10 ; policy accept ; }")
	l.Server.Run("nft", "add", "rule", "inet", "knockd", "input", "tcp", "dport", "{ 2222, 2223 }", "drop")
	l.Server.Start("nc", "-lk", l.Server.Addr4.String(), "2222")
	l.Server.Start("nc", "-lk", l.Server.Addr4.String(), "2223")
	l.Server.WaitListening(t, l.Server.Addr4, 2222)
	l.Server.WaitListening(t, l.Server.Addr4, 2223)
	kd := l.Server.Start(ourKnockd(t), "-c", filepath.Join(dir, "knockd.conf"), "-i", "eth0", "-v", "--status-socket", filepath.Join(dir, "status.sock"))
	kd.WaitOutput(t, "listening on eth0", 10*time.Second)
	kd.WaitOutput(t, "built-in firewall: nftables, for door door's Open_Ports, SPA stanza #1 (no CMD_CYCLE_OPEN)", time.Second)
	srv, me := l.Server.Addr4.String(), l.Client.Addr4.String()
	set := func() string { return l.Server.Run("nft", "list", "set", "inet", "knockd", "holes4") }
	if reachable(l, srv, "2222") || reachable(l, srv, "2223") {
		t.Fatal("reachable before any knock")
	}

	// The sequence door: open for its Cmd_Timeout, then closed by the kernel.
	if out, err := l.Client.Command(t.Context(), ourKnock(t), srv, "7000", "8000").CombinedOutput(); err != nil {
		t.Fatalf("knock: %v\n%s", err, out)
	}
	kd.WaitOutput(t, "door: opened tcp/2222 for "+me+" (nftables, 3s)", 5*time.Second)
	if out := set(); !strings.Contains(out, me+" . tcp . 2222 timeout 3s expires") {
		t.Fatalf("nft list set:\n%s", out)
	}
	if !reachable(l, srv, "2222") {
		t.Fatalf("2222 not reachable after the knock:\n%s", l.Server.Run("nft", "list", "ruleset"))
	}
	if !lab.Eventually(6*time.Second, func() bool { return !strings.Contains(set(), me) }) || reachable(l, srv, "2222") {
		t.Fatalf("the door outlived its Cmd_Timeout:\n%s", set())
	}

	// The SPA stanza: its FW_ACCESS_TIMEOUT, listed by knockd status,
	// closed by SIGTERM.
	cfg := filepath.Join(dir, "config.yaml")
	writeFile(t, cfg, "profiles:\n  vault:\n    host: "+srv+"\n    spa:\n      access: tcp/2223\n      key_base64: "+key+"\n      hmac_key_base64: "+hmac+"\n      allow_ip: source\n")
	if out, err := l.Client.Command(t.Context(), ourKnock(t), "--config", cfg, "vault").CombinedOutput(); err != nil {
		t.Fatalf("knock vault: %v\n%s", err, out)
	}
	kd.WaitOutput(t, "spa#1: opened tcp/2223 for "+me+" (nftables, 30s)", 5*time.Second)
	if out := set(); !strings.Contains(out, me+" . tcp . 2223 timeout 30s expires") {
		t.Fatalf("nft list set:\n%s", out)
	}
	if !reachable(l, srv, "2223") {
		t.Fatal("2223 not reachable after the SPA packet")
	}
	st, err := l.Server.Command(t.Context(), ourKnockd(t), "status", "--json", "--socket", filepath.Join(dir, "status.sock")).CombinedOutput()
	if err != nil || !strings.Contains(string(st), `"door":"spa#1","backend":"nftables","proto":"tcp","port":2223,"source":"`+me+`"`) {
		t.Errorf("knockd status: %v\n%s", err, st)
	}
	if out := l.Server.Run(ourKnockd(t), "fw", "list", "--backend", "nftables"); !strings.Contains(out, "hole "+me+" . tcp . 2223 timeout 30s expires") ||
		!strings.Contains(out, `@holes4 accept comment "knockd-holes"`) {
		t.Errorf("knockd fw list:\n%s", out)
	}
	if err := kd.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	kd.Wait(10 * time.Second)
	if out := set(); strings.Contains(out, me) {
		t.Fatalf("knockd exited with its hole open:\n%s", out)
	}
	if reachable(l, srv, "2223") {
		t.Fatal("2223 reachable after knockd exited")
	}
}

// TestSSHThroughKnockdSPADoor: knock ssh logs in to a real sshd behind a
// REJECT rule, through a knockd SPA door: a profile made by profile add
// --key-gen, its stanza (as printed, without CMD_CYCLE_OPEN) in
// access.conf, the door opened by knockd's built-in firewall (iptables).
func TestSSHThroughKnockdSPADoor(t *testing.T) {
	lab.Require(t, "iptables", "sshd", "ssh")
	l := lab.New(t)
	sshd := l.Server.StartSSHD(t)
	srv := l.Server.Addr4.String()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.yaml")
	stanza := knockStdout(t, l.Client, "--config", cfg, "profile", "add", "vault", "--host", srv, "--spa", "--access", "tcp/22", "--allow-ip", "source",
		"--key-gen", "--user", "root", "--wait", "8s")
	writeFile(t, filepath.Join(dir, "access.conf"), stanza)
	writeFile(t, filepath.Join(dir, "fwknopd.conf"), "PCAP_INTF eth0;\nFIREWALL_EXE /usr/sbin/iptables;\n")
	l.Server.Run("iptables", "-A", "INPUT", "-p", "tcp", "--dport", "22", "-j", "REJECT", "--reject-with", "tcp-reset")
	kd := l.Server.Start(ourKnockd(t), "--fwknopd-conf", filepath.Join(dir, "fwknopd.conf"), "--access-conf", filepath.Join(dir, "access.conf"),
		"-v", "--status-socket", filepath.Join(dir, "status.sock"))
	kd.WaitOutput(t, "built-in firewall: iptables", 10*time.Second)
	kd.WaitOutput(t, "listening on eth0", 10*time.Second)
	if reachable(l, srv, "22") {
		t.Fatal("ssh reachable before the SPA packet")
	}
	out := knockStdout(t, l.Client, append(append([]string{"--config", cfg, "ssh", "vault"}, sshd.ClientOptions()...), "echo", "through-knockd-spa")...)
	if strings.TrimSpace(out) != "through-knockd-spa" {
		t.Fatalf("knock ssh printed %q\n%s", out, kd.Output())
	}
	kd.WaitOutput(t, "spa#1: opened tcp/22 for "+l.Client.Addr4.String()+" (iptables, 30s)", time.Second)
}

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

// knockStdout runs our knock on h and returns what it printed on standard
// output; a failure ends the test with its standard error.
func knockStdout(t *testing.T, h *lab.Host, args ...string) string {
	t.Helper()
	var stderr strings.Builder
	c := h.Command(t.Context(), ourKnock(t), args...)
	c.Stderr = &stderr
	out, err := c.Output()
	if err != nil {
		t.Fatalf("knock %s: %v\n%s%s", strings.Join(args, " "), err, out, stderr.String())
	}
	return string(out)
}
