package firewall

import (
	"errors"
	"os/exec"
	"strings"
	"testing"
)

// hostRunner answers the listing commands as a host would: out by command
// line, programs absent when missing, errors as given.
type hostRunner struct {
	out     map[string]string
	fail    map[string]string // command line -> stderr of a failure
	missing map[string]bool   // programs not installed
}

func (h hostRunner) Run(name string, args ...string) (string, string, error) {
	if h.missing[name] {
		return "", "", &exec.Error{Name: name, Err: exec.ErrNotFound}
	}
	line := name + " " + strings.Join(args, " ")
	if stderr, ok := h.fail[line]; ok {
		return "", stderr, errors.New("exit status 1")
	}
	if out, ok := h.out[line]; ok {
		return out, "", nil
	}
	return "", "", nil
}

func TestDetect(t *testing.T) {
	noManagers := map[string]bool{"firewall-cmd": true, "ufw": true}
	iptNFTTables := "table ip filter\ntable ip6 filter\n"
	tests := []struct {
		name      string
		host      hostRunner
		backend   string
		ambiguous bool
		refused   string
		err       string
	}{
		{name: "Debian: iptables-nft rules, nft installed",
			host: hostRunner{missing: noManagers, out: map[string]string{
				"nft list tables":      iptNFTTables,
				"iptables -w -S INPUT": "-P INPUT ACCEPT\n-A INPUT -p tcp -m tcp --dport 22 -j DROP\n"}},
			backend: "iptables"},
		{name: "legacy iptables rules",
			host: hostRunner{missing: noManagers, out: map[string]string{
				"iptables -w -S INPUT":        "-P INPUT ACCEPT\n",
				"iptables-legacy -w -S INPUT": "-P INPUT DROP\n"}},
			backend: "iptables"},
		{name: "nftables of its own",
			host: hostRunner{missing: noManagers, out: map[string]string{
				"nft list tables":      "table inet filter\ntable inet knockd\n",
				"iptables -w -S INPUT": "-P INPUT ACCEPT\n"}},
			backend: "nftables"},
		{name: "both",
			host: hostRunner{missing: noManagers, out: map[string]string{
				"nft list tables":       "table inet filter\n" + iptNFTTables,
				"ip6tables -w -S INPUT": "-P INPUT DROP\n"}},
			backend: "iptables", ambiguous: true},
		{name: "nothing filters",
			host:    hostRunner{missing: noManagers, out: map[string]string{"nft list tables": "table inet knockd\n"}},
			backend: "nftables", ambiguous: true},
		{name: "firewalld",
			host:    hostRunner{out: map[string]string{"firewall-cmd --state": "running\n"}},
			refused: "firewalld manages this host's firewall"},
		{name: "ufw",
			host:    hostRunner{missing: map[string]bool{"firewall-cmd": true}, out: map[string]string{"ufw status": "Status: active\n"}},
			refused: "ufw insert 1 allow from %IP%"},
		{name: "fw4",
			host:    hostRunner{missing: noManagers, out: map[string]string{"nft list tables": "table inet fw4\n"}},
			refused: "the sets the OpenWrt package ships"},
		{name: "no privilege",
			host: hostRunner{missing: noManagers, fail: map[string]string{
				"nft list tables": "Error: Could not process rule: Operation not permitted"}},
			err: "needs root"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Detect(tt.host)
			switch {
			case tt.err != "":
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err %v, want %q", err, tt.err)
				}
			case err != nil:
				t.Fatal(err)
			case tt.refused != "":
				if c.Refused == nil || !errors.Is(c.Refused, ErrManaged) || !strings.Contains(c.Refused.Error(), tt.refused) || !strings.Contains(c.Refused.Error(), "--backend") {
					t.Fatalf("choice %+v, want refused with %q", c, tt.refused)
				}
			case c.Backend != tt.backend || c.Ambiguous != tt.ambiguous || c.Reason == "":
				t.Fatalf("choice %+v, want %s (ambiguous %v)", c, tt.backend, tt.ambiguous)
			}
		})
	}
}
