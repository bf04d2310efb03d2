//go:build linux

package knockcmd

import (
	"context"
	"encoding/base64"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/knocktools/knock/internal/lab"
	"github.com/knocktools/knock/spa"
)

// TestInteropDebianKnockd knocks Debian's knockd 0.8 across a lab veth with
// our client and checks that each door's command ran with our address.
func TestInteropDebianKnockd(t *testing.T) {
	lab.Require(t, "knockd")
	knockBin := lab.TestBinary(t, "knock")
	l := lab.New(t)
	kd := l.Server.StartDebianKnockd(t, lab.Fixture(t, "interop.conf"))
	srv4, srv6 := l.Server.Addr4.String(), l.Server.Addr6.String()
	me4, me6 := l.Client.Addr4.String(), l.Client.Addr6.String()

	knock := func(t *testing.T, args ...string) time.Duration {
		t.Helper()
		start := time.Now()
		out, err := l.Client.Command(context.Background(), knockBin, args...).CombinedOutput()
		if err != nil {
			t.Fatalf("knock %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return time.Since(start)
	}
	opened := func(t *testing.T, door, who string) {
		t.Helper()
		lab.WaitFile(t, kd.DoorFile(door), who, 5*time.Second)
	}

	// Cases run one after another: knockd tracks attempts per source, and
	// a stray hit would fail another case's attempt.
	t.Run("tcp", func(t *testing.T) {
		knock(t, srv4, "7001", "7002", "7003")
		opened(t, "tcp", me4)
	})
	t.Run("udp with -u", func(t *testing.T) {
		knock(t, "-u", srv4, "7101", "7102", "7103")
		opened(t, "udp", me4)
	})
	t.Run("mixed", func(t *testing.T) {
		knock(t, srv4, "7201", "7202:udp", "7203:tcp")
		opened(t, "mixed", me4)
	})
	t.Run("delay", func(t *testing.T) {
		if took := knock(t, "-d", "300", srv4, "7301", "7302", "7303"); took < 600*time.Millisecond {
			t.Errorf("three knocks with -d 300 took %v, want at least 600ms", took)
		}
		opened(t, "delayed", me4)
	})
	t.Run("ipv6", func(t *testing.T) {
		knock(t, "-6", srv6, "7401", "7402:udp", "7403")
		opened(t, "ipv6", me6)
	})
	t.Run("flags fin against tcpflags fin,!ack", func(t *testing.T) {
		// Plain SYNs do not pass the door's flag filter: they are ignored.
		knock(t, srv4, "7501", "7502")
		knock(t, "--flags", "fin", srv4, "7501", "7502")
		opened(t, "fin", me4)
	})
	t.Run("per-knock flags against tcpflags syn,urg,!ack", func(t *testing.T) {
		knock(t, srv4, "7601:tcp:syn+urg", "7602:udp", "7603:tcp:urg+syn")
		opened(t, "synurg", me4)
	})
	t.Run("ipv6 with flags fin", func(t *testing.T) {
		knock(t, "--flags", "fin", srv6, "7801", "7802")
		opened(t, "fin6", me6)
	})
	t.Run("method connect", func(t *testing.T) {
		knock(t, "--method", "connect", srv4, "7701", "7702", "7703")
		opened(t, "connect", me4)
	})
	t.Run("unprivileged: auto falls back to connect", func(t *testing.T) {
		nobody := asNobody(t, knockBin)
		out, err := l.Client.Command(context.Background(), nobody[0], append(nobody[1:], "-v", srv4, "7901", "7902", "7903")...).CombinedOutput()
		if err != nil {
			t.Fatalf("knock as nobody: %v\n%s", err, out)
		}
		opened(t, "nobody", me4)
	})
	t.Run("unprivileged: custom flags say how to get raw sockets", func(t *testing.T) {
		nobody := asNobody(t, knockBin)
		cmd := l.Client.Command(context.Background(), nobody[0], append(nobody[1:], "--flags", "fin", srv4, "7501")...)
		out, err := cmd.CombinedOutput()
		if cmd.ProcessState.ExitCode() != 1 || !strings.Contains(string(out), "run as root, or allow raw sockets once with: sudo setcap cap_net_raw+ep") {
			t.Fatalf("knock --flags fin as nobody: %v\n%s", err, out)
		}
	})
	// Each door opened exactly once: a knock a door should have ignored
	// (the plain SYNs above) would have left a second line by now.
	for door, who := range map[string]string{"tcp": me4, "udp": me4, "mixed": me4, "delayed": me4,
		"ipv6": me6, "fin": me4, "synurg": me4, "fin6": me6, "connect": me4, "nobody": me4} {
		lab.WaitFile(t, kd.DoorFile(door), who, time.Second)
	}
	if t.Failed() {
		log, _ := os.ReadFile(kd.DoorFile("knockd.log"))
		t.Logf("knockd output:\n%s\nknockd.log:\n%s", kd.Output(), log)
	}
}

// TestRawPacketsOnTheWire captures what our client puts on the lab link and
// checks the fields the options set, and that the server's kernel accepts
// a raw SYN (its checksum is right) by answering it.
func TestRawPacketsOnTheWire(t *testing.T) {
	lab.Require(t, "tcpdump")
	knockBin := lab.TestBinary(t, "knock")
	l := lab.New(t)
	srv4, srv6 := l.Server.Addr4.String(), l.Server.Addr6.String()
	ln := l.Server.Start(lab.TestBinary(t, "lab-listen"), srv4+":7777", "["+srv6+"]:7777")
	ln.WaitOutput(t, "listening", 5*time.Second)
	pcap := t.TempDir() + "/wire.pcap"
	dump := l.Server.Start("tcpdump", "-i", "eth0", "-n", "-U", "-w", pcap, "tcp or udp")
	dump.WaitOutput(t, "listening on", 10*time.Second)

	run := func(args ...string) {
		t.Helper()
		if out, err := l.Client.Command(context.Background(), knockBin, args...).CombinedOutput(); err != nil {
			t.Fatalf("knock %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	run("--method", "raw", "--ttl", "33", "--source-port", "40404", srv4, "7777", "8001:tcp:fin+psh+urg", "8002:udp")
	run("--method", "connect", "--ttl", "34", "--source-port", "40405", srv4, "8003")
	run("--method", "raw", "--ttl", "35", "--source-port", "40406", srv6, "7777", "8004:tcp:ack+rst")
	run("--ttl", "36", "--source-port", "40407", srv6, "8005:udp")

	want := []wirePacket{
		{src: l.Client.Addr4.String(), sport: 40404, dport: 7777, proto: "tcp", flags: "syn", ttl: 33},
		{src: srv4, sport: 7777, dport: 40404, proto: "tcp", flags: "syn+ack"}, // the kernel answered
		{src: l.Client.Addr4.String(), sport: 40404, dport: 8001, proto: "tcp", flags: "fin+psh+urg", ttl: 33},
		{src: l.Client.Addr4.String(), sport: 40404, dport: 8002, proto: "udp", ttl: 33, payload: 1},
		{src: l.Client.Addr4.String(), sport: 40405, dport: 8003, proto: "tcp", flags: "syn", ttl: 34},
		{src: l.Client.Addr6.String(), sport: 40406, dport: 7777, proto: "tcp", flags: "syn", ttl: 35},
		{src: srv6, sport: 7777, dport: 40406, proto: "tcp", flags: "syn+ack"},
		{src: l.Client.Addr6.String(), sport: 40406, dport: 8004, proto: "tcp", flags: "rst+ack", ttl: 35},
		{src: l.Client.Addr6.String(), sport: 40407, dport: 8005, proto: "udp", ttl: 36, payload: 1},
	}
	var got []wirePacket
	if !lab.Eventually(5*time.Second, func() bool {
		got = readWire(t, pcap)
		return containsAll(got, want)
	}) {
		t.Fatalf("on the wire:\n%v\nwant (in any order, among others):\n%v", got, want)
	}
}

// asNobody returns the command line that runs a copy of bin as the user
// nobody, without any capability, from a directory nobody can read.
func asNobody(t *testing.T, bin string) []string {
	t.Helper()
	lab.Require(t, "setpriv")
	dir, err := os.MkdirTemp("", "knock-nobody-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	data, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	copyPath := filepath.Join(dir, filepath.Base(bin))
	if err := os.WriteFile(copyPath, data, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return []string{"setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "--inh-caps=-all", copyPath}
}

// TestProfileAgainstDebianKnockd saves a profile, exports it as a door,
// runs Debian's knockd with that door, and knocks it with "knock PROFILE":
// the door's iptables command must let the client in.
func TestProfileAgainstDebianKnockd(t *testing.T) {
	lab.Require(t, "knockd", "iptables")
	knockBin := lab.TestBinary(t, "knock")
	l := lab.New(t)
	cfg := filepath.Join(t.TempDir(), "config.yaml")
	knock := func(ns *lab.Host, args ...string) string {
		t.Helper()
		var cmd *exec.Cmd
		if ns == nil {
			cmd = exec.Command(knockBin, args...)
		} else {
			cmd = ns.Command(context.Background(), knockBin, args...)
		}
		cmd.Env = append(os.Environ(), "KNOCK_CONFIG="+cfg)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("knock %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	knock(nil, "profile", "add", "lab-ssh", "--host", l.Server.Addr4.String(),
		"--sequence", "7000,8000:udp,9000", "--flags", "fin+urg", "--delay", "50ms", "--port", "2222")
	door := knock(nil, "profile", "export", "lab-ssh", "--knockd")
	kd := l.Server.StartDebianKnockd(t, "[options]\n\tLogFile = @DIR@/knockd.log\n"+door)

	t0 := time.Now()
	knock(l.Client, "lab-ssh")
	defer func() { t.Logf("opened after %v", time.Since(t0)) }()
	want := "-A INPUT -s " + l.Client.Addr4.String() + "/32 -p tcp -m tcp --dport 2222 -j ACCEPT"
	if !lab.Eventually(5*time.Second, func() bool {
		return strings.Contains(l.Server.Run("iptables", "-S", "INPUT"), want)
	}) {
		t.Fatalf("door did not open: iptables has\n%s\nknockd said:\n%s", l.Server.Run("iptables", "-S", "INPUT"), kd.Output())
	}
}

// fwknopd is Debian's fwknopd 2.6.10 (package fwknop-server), sniffing
// the lab server's eth0, one stanza of access.conf per variant, each
// matched by the source address its packets come from, so that no
// stanza ever tries a packet that is not its own. CMD_CYCLE_OPEN records
// $IP, $PROTO and $PORT with the variant's name instead of touching the
// firewall.
type fwknopd struct {
	*lab.Proc
	dir string
}

type spaVariant struct {
	name, src string
	stanza    string // access.conf lines besides SOURCE and the commands
	spa       string // the profile's spa: lines
}

func startFwknopd(t *testing.T, h *lab.Host, variants []spaVariant, openCmd string) *fwknopd {
	t.Helper()
	lab.Require(t, "fwknopd")
	dir := t.TempDir()
	rec := filepath.Join(dir, "rec.sh")
	if openCmd == "" {
		openCmd = `echo "$*" >> ` + filepath.Join(dir, "opened")
	}
	if err := os.WriteFile(rec, []byte("#!/bin/sh\n"+openCmd+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	var access strings.Builder
	for _, v := range variants {
		fmt.Fprintf(&access, "SOURCE %s\n%s\nCMD_CYCLE_OPEN %s $IP $PROTO $PORT %s\nCMD_CYCLE_CLOSE NONE\nCMD_CYCLE_TIMER 3\n\n", v.src, v.stanza, rec, v.name)
	}
	conf := fmt.Sprintf("PCAP_INTF %s;\nPCAP_FILTER udp port 62201 or tcp port 62201;\nENABLE_PCAP_PROMISC N;\nENABLE_TCP_SERVER Y;\nFWKNOP_RUN_DIR %s;\n", h.If, dir)
	for name, text := range map[string]string{"access.conf": access.String(), "fwknopd.conf": conf} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	p := h.Start("fwknopd", "-f", "-v", "-c", filepath.Join(dir, "fwknopd.conf"), "-a", filepath.Join(dir, "access.conf"),
		"-d", filepath.Join(dir, "digest.cache"), "-p", filepath.Join(dir, "fwknopd.pid"))
	p.WaitOutput(t, "Starting fwknopd main event loop", 15*time.Second)
	return &fwknopd{Proc: p, dir: dir}
}

func (f *fwknopd) opened() string {
	b, _ := os.ReadFile(filepath.Join(f.dir, "opened"))
	return string(b)
}

// TestSPAAgainstFwknopd: our SPA packets open Debian's fwknopd doors for
// every HMAC type, legacy mode, passphrase and base64 keys, a client
// timeout, an explicit and a resolved allow_ip, and TCP transport;
// fwknopd logs no error for any; two knocks in a row both open; a
// replayed copy is refused.
func TestSPAAgainstFwknopd(t *testing.T) {
	lab.Require(t, "fwknopd")
	knockBin := lab.TestBinary(t, "knock")
	l := lab.New(t)
	dir := t.TempDir()
	b64 := func(n int, seed byte) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = seed + byte(i)
		}
		return base64.StdEncoding.EncodeToString(b)
	}
	var variants []spaVariant
	add := func(name, stanza, spaLines string) {
		src := fmt.Sprintf("10.77.0.%d", 10+len(variants))
		variants = append(variants, spaVariant{name, src, stanza, spaLines})
	}
	for i, d := range spa.DigestNames() {
		k, h := b64(32, byte(i)), b64(64, byte(100+i))
		add("hmac-"+d, fmt.Sprintf("KEY_BASE64 %s\nHMAC_KEY_BASE64 %s\nHMAC_DIGEST_TYPE %s", k, h, strings.ToUpper(d)),
			fmt.Sprintf("key_base64: %q\n      hmac_key_base64: %q\n      hmac_digest_type: %s\n      digest_type: %s", k, h, d, d))
	}
	add("legacy", "KEY shortpw\nENCRYPTION_MODE legacy", "key: shortpw\n      encryption_mode: legacy")
	add("passphrases", "KEY a passphrase\nHMAC_KEY another one", "key: a passphrase\n      hmac_key: another one")
	k, h := b64(32, 7), b64(64, 9)
	keys := fmt.Sprintf("KEY_BASE64 %s\nHMAC_KEY_BASE64 %s", k, h)
	keysYAML := fmt.Sprintf("key_base64: %q\n      hmac_key_base64: %q", k, h)
	add("timeout", keys, keysYAML+"\n      fw_timeout: 45")
	add("allow", keys, keysYAML+"\n      allow_ip: 10.77.0.99")
	add("tcp", keys, keysYAML+"\n      server_proto: tcp")
	add("resolve", keys, keysYAML+"\n      allow_ip: resolve\n      resolve_url: http://10.77.0.2:8080/myip")
	add("twice", keys, keysYAML)

	srv := l.Server.Addr4.String()
	web := l.Server.Start(lab.TestBinary(t, "lab-http"), srv+":8080", "your address is 10.77.0.77")
	web.WaitOutput(t, "listening", 5*time.Second)
	fw := startFwknopd(t, l.Server, variants, "")
	var cfg strings.Builder
	cfg.WriteString("profiles:\n")
	for _, v := range variants {
		fmt.Fprintf(&cfg, "  %s:\n    host: %s\n    spa:\n      access: tcp/22\n      %s\n", v.name, srv, v.spa)
		l.Client.Run("ip", "addr", "add", v.src+"/24", "dev", "eth0")
	}
	cfgPath := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfgPath, []byte(cfg.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	knock := func(src string, args ...string) string {
		t.Helper()
		l.Client.Run("ip", "route", "replace", srv+"/32", "dev", "eth0", "src", src)
		c := l.Client.Command(context.Background(), knockBin, append([]string{"--config", cfgPath}, args...)...)
		out, err := c.CombinedOutput()
		if err != nil {
			t.Fatalf("knock %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	for _, v := range variants {
		knock(v.src, v.name)
	}
	want := map[string]string{}
	for _, v := range variants {
		ip := v.src
		switch v.name {
		case "allow":
			ip = "10.77.0.99"
		case "resolve":
			ip = "10.77.0.77"
		}
		want[v.name] = ip + " 6 22 " + v.name
	}
	if !lab.Eventually(10*time.Second, func() bool {
		for _, w := range want {
			if !strings.Contains(fw.opened(), w+"\n") {
				return false
			}
		}
		return true
	}) {
		t.Fatalf("fwknopd opened:\n%s\nwant every one of %q\nfwknopd:\n%s", fw.opened(), want, fw.Output())
	}
	// Two knocks in a row: both open (no packet is sent twice).
	twice := variants[len(variants)-1]
	knock(twice.src, "twice", "-v")
	if !lab.Eventually(5*time.Second, func() bool { return strings.Count(fw.opened(), want["twice"]) == 2 }) {
		t.Fatalf("the second knock did not open:\n%s\nfwknopd:\n%s", fw.opened(), fw.Output())
	}
	// A replayed copy of one of ours is refused: it is a real SPA packet.
	pkt := filepath.Join(dir, "packet")
	ks := filepath.Join(dir, "keys")
	os.WriteFile(ks, []byte("KEY_BASE64: "+k+"\nHMAC_KEY_BASE64: "+h+"\n"), 0o600)
	l.Client.Run("ip", "route", "replace", srv+"/32", "dev", "eth0", "src", twice.src)
	if out, err := l.Client.Command(context.Background(), knockBin, "spa", "-A", "tcp/22", "-s", "--key-file", ks, "--hmac-key-file", ks,
		"--save-packet", pkt, srv).CombinedOutput(); err != nil {
		t.Fatalf("knock spa: %v\n%s", err, out)
	}
	if !lab.Eventually(5*time.Second, func() bool { return strings.Count(fw.opened(), want["twice"]) == 3 }) {
		t.Fatalf("knock spa did not open:\n%s\nfwknopd:\n%s", fw.opened(), fw.Output())
	}
	l.Client.Run(lab.TestBinary(t, "lab-udp"), srv+":62201", pkt)
	fw.WaitOutput(t, "Replay detected", 5*time.Second)
	time.Sleep(300 * time.Millisecond)
	if n := strings.Count(fw.opened(), want["twice"]); n != 3 {
		t.Fatalf("the replayed packet opened the door (%d opens)", n)
	}
	out := fw.Output()
	if !strings.Contains(out, "Client Timeout: 45") {
		t.Errorf("fwknopd saw no client timeout of 45:\n%s", out)
	}
	// What fwknopd said about the packets (its start-up is its own).
	_, packets, _ := strings.Cut(out, "Starting fwknopd main event loop")
	for _, line := range strings.Split(packets, "\n") {
		low := strings.ToLower(line)
		if (strings.Contains(low, "error") || strings.Contains(low, "fail")) && !strings.Contains(line, "Replay") {
			t.Errorf("fwknopd logged %q", line)
		}
	}
}

// TestFwknopPacketsParse: our parser reads packets that fwknop's own
// client built with the same keys, every HMAC type and legacy mode.
func TestFwknopPacketsParse(t *testing.T) {
	fwknop, err := exec.LookPath("fwknop")
	if err != nil {
		lab.Skip(t, "fwknop (package fwknop-client) is not installed (make test installs it)")
	}
	dir := t.TempDir()
	key := []byte("0123456789abcdef0123456789abcdef")
	hkey := []byte("an HMAC key of sixty-four bytes, which is what fwknop makes it..")
	for _, d := range spa.DigestNames() {
		pkt := filepath.Join(dir, d)
		cmd := exec.Command(fwknop, "-A", "tcp/22", "-a", "10.77.0.1", "-D", "127.0.0.1", "-T", "--save-packet", pkt,
			"--rc-file", filepath.Join(dir, "rc"), "-f", "30",
			"--key-base64-rijndael", base64.StdEncoding.EncodeToString(key),
			"--key-base64-hmac", base64.StdEncoding.EncodeToString(hkey), "--hmac-digest-type", d, "--digest-type", d)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("fwknop: %v\n%s", err, out)
		}
		data, _ := os.ReadFile(pkt)
		hd, _ := spa.ParseDigest(d)
		m, md, err := spa.Parse(string(data), spa.Keys{Key: key, HMACKey: hkey, HMAC: hd})
		if err != nil || m.Access != "10.77.0.1,tcp/22" || m.Timeout != 30 || m.Type != spa.ClientTimeoutAccessMsg || md != hd {
			t.Errorf("%s: %+v %v %v", d, m, md, err)
		}
	}
	pkt := filepath.Join(dir, "legacy")
	cmd := exec.Command(fwknop, "-A", "udp/53", "-s", "-D", "127.0.0.1", "-T", "--save-packet", pkt, "--rc-file", filepath.Join(dir, "rc"),
		"-M", "legacy", "--get-key", filepath.Join(dir, "pw"))
	os.WriteFile(filepath.Join(dir, "pw"), []byte("127.0.0.1: shortpw\n"), 0o600)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("fwknop: %v\n%s", err, out)
	}
	data, _ := os.ReadFile(pkt)
	if m, _, err := spa.Parse(string(data), spa.Keys{Key: []byte("shortpw"), Mode: spa.Legacy}); err != nil || m.Access != "0.0.0.0,udp/53" {
		t.Errorf("legacy: %+v %v", m, err)
	}
}

// TestSSHThroughAnSPADoor: knock ssh logs in to a real sshd behind a
// REJECT rule that fwknopd's command lifts a second after the packet,
// with a profile made by profile add --key-gen and with one imported from
// a ~/.fwknoprc.
func TestSSHThroughAnSPADoor(t *testing.T) {
	lab.Require(t, "fwknopd", "iptables", "sshd", "ssh")
	knockBin := lab.TestBinary(t, "knock")
	l := lab.New(t)
	sshd := l.Server.StartSSHD(t)
	srv := l.Server.Addr4.String()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.yaml")
	run := func(args ...string) string {
		t.Helper()
		c := l.Client.Command(context.Background(), knockBin, append([]string{"--config", cfg}, args...)...)
		out, err := c.CombinedOutput()
		if err != nil {
			t.Fatalf("knock %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	stanza := run("profile", "add", "vault", "--host", srv, "--spa", "--access", "tcp/22", "--allow-ip", "source", "--key-gen", "--user", "root", "--wait", "8s")
	if !strings.Contains(stanza, "KEY_BASE64") || !strings.Contains(stanza, "HMAC_KEY_BASE64") {
		t.Fatalf("profile add --key-gen printed:\n%s", stanza)
	}
	var body []string
	for _, line := range strings.Split(stanza, "\n") {
		if line != "" && !strings.HasPrefix(line, "#") && !strings.HasPrefix(line, "SOURCE") {
			body = append(body, line)
		}
	}
	open := "sleep 1; /usr/sbin/iptables -I INPUT -s $1 -p tcp --dport 22 -j ACCEPT"
	startFwknopd(t, l.Server, []spaVariant{{name: "vault", src: "ANY", stanza: strings.Join(body, "\n")}}, open)
	l.Server.Run("iptables", "-A", "INPUT", "-p", "tcp", "--dport", "22", "-j", "REJECT", "--reject-with", "tcp-reset")

	out := run(append(append([]string{"ssh", "vault"}, sshd.ClientOptions()...), "echo", "through-spa")...)
	if strings.TrimSpace(out) != "through-spa" {
		t.Fatalf("knock ssh printed %q", out)
	}
	// The same keys as a ~/.fwknoprc, imported: the same door opens.
	l.Server.Run("iptables", "-F", "INPUT")
	l.Server.Run("iptables", "-A", "INPUT", "-p", "tcp", "--dport", "22", "-j", "REJECT", "--reject-with", "tcp-reset")
	var rc strings.Builder
	fmt.Fprintf(&rc, "[default]\nDIGEST_TYPE sha256\nGPG_HOMEDIR /nonexistent\n\n[vault2]\nSPA_SERVER %s\nACCESS tcp/22\nALLOW_IP source\nUSE_HMAC Y\n", srv)
	for _, line := range body {
		if f := strings.Fields(line); len(f) == 2 && (f[0] == "KEY_BASE64" || f[0] == "HMAC_KEY_BASE64") {
			fmt.Fprintf(&rc, "%s %s\n", f[0], f[1])
		}
	}
	rcPath := filepath.Join(dir, "fwknoprc")
	os.WriteFile(rcPath, []byte(rc.String()), 0o600)
	imported := run("profile", "import", "--fwknoprc", rcPath)
	if !strings.Contains(imported, "ignored: GPG_HOMEDIR (line 3)") {
		t.Errorf("import did not name the ignored directive:\n%s", imported)
	}
	out = run(append(append([]string{"ssh", "vault2", "-l", "root", "-o", "ConnectTimeout=8"}, sshd.ClientOptions()...), "echo", "through-fwknoprc")...)
	if strings.TrimSpace(out) != "through-fwknoprc" {
		t.Fatalf("knock ssh (imported profile) printed %q", out)
	}
}
