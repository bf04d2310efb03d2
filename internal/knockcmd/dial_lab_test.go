//go:build linux

package knockcmd

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/knocktools/knock/internal/lab"
)

// TestConnectToTheKnockedAddress: a name with an A and an AAAA record (a
// private /etc/hosts in a mount namespace), a door that opens only the
// family that knocked, DROP for the other. knock proxy, knock check and
// --wait connect to the very address they knocked: the other family's
// port never sees a SYN (its DROP rule counts none), whichever family
// the profile asks for and whichever order the records come in.
func TestConnectToTheKnockedAddress(t *testing.T) {
	lab.Require(t, "knockd", "iptables", "ip6tables", "unshare", "mount")
	knockBin := lab.TestBinary(t, "knock")
	l := lab.New(t)
	srv4, srv6 := l.Server.Addr4.String(), l.Server.Addr6.String()
	ln := l.Server.Start(lab.TestBinary(t, "lab-listen"), srv4+":22", "["+srv6+"]:22")
	ln.WaitOutput(t, "listening", 5*time.Second)
	kd := l.Server.StartDebianKnockd(t, lab.Fixture(t, "dual-door.conf"))
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.yaml")

	// knock runs knockBin in the client namespace with hosts as its
	// /etc/hosts, in a mount namespace of its own.
	knock := func(hosts string, args ...string) (string, error) {
		hostsFile := filepath.Join(dir, "hosts")
		if err := os.WriteFile(hostsFile, []byte(hosts), 0o644); err != nil {
			t.Fatal(err)
		}
		script := `mount --bind "$1" /etc/hosts && shift && exec "$@"`
		c := l.Client.Command(context.Background(), "unshare", append([]string{"--mount", "sh", "-c", script, "sh", hostsFile, knockBin}, args...)...)
		c.Env = append(os.Environ(), "KNOCK_CONFIG="+cfg)
		c.Stdin = strings.NewReader("")
		out, err := c.CombinedOutput()
		return string(out), err
	}
	v4First := srv4 + " dual.lab\n" + srv6 + " dual.lab\n"
	v6First := srv6 + " dual.lab\n" + srv4 + " dual.lab\n"
	for _, fam := range []string{"4", "6"} {
		if out, err := knock(v4First, "profile", "add", "dual"+fam, "--host", "dual.lab", "--sequence", "7001,7002",
			"--family", fam, "--method", "connect", "--wait", "6s"); err != nil {
			t.Fatalf("profile add: %v\n%s", err, out)
		}
	}
	if out, err := knock(v4First, "profile", "add", "dualany", "--host", "dual.lab", "--sequence", "7001,7002", "--method", "connect", "--wait", "6s"); err != nil {
		t.Fatalf("profile add: %v\n%s", err, out)
	}

	reset := func() {
		for _, ipt := range []string{"iptables", "ip6tables"} {
			l.Server.Run(ipt, "-F", "INPUT")
			l.Server.Run(ipt, "-A", "INPUT", "-p", "tcp", "--dport", "22", "-j", "DROP")
		}
	}
	// dropped counts the SYNs to port 22 that the DROP rule of a family took.
	dropped := func(ipt string) int {
		out := l.Server.Run(ipt, "-L", "INPUT", "-v", "-x", "-n")
		for _, line := range strings.Split(out, "\n") {
			f := strings.Fields(line)
			if len(f) > 2 && f[2] == "DROP" && strings.Contains(line, "dpt:22") {
				n, _ := strconv.Atoi(f[0])
				return n
			}
		}
		t.Fatalf("no DROP rule in\n%s", out)
		return 0
	}
	tests := []struct {
		name, hosts string
		args        []string
		family      string // the family knocked, and connected to
	}{
		{"proxy, family 6, A record first", v4First, []string{"proxy", "-v", "--profile", "dual6", "dual.lab", "22"}, "6"},
		{"proxy, family 4, AAAA record first", v6First, []string{"proxy", "-v", "--profile", "dual4", "dual.lab", "22"}, "4"},
		{"proxy by host name, no family, AAAA first", v6First, []string{"proxy", "-v", "--profile", "dualany", "dual.lab", "22"}, ""},
		{"check, family 6", v4First, []string{"check", "dual6"}, "6"},
		{"check, family 4", v6First, []string{"check", "dual4"}, "4"},
		{"--wait, -6", v4First, []string{"-6", "--method", "connect", "--wait=6s", "--port", "22", "dual.lab", "7001", "7002"}, "6"},
		{"--wait, -4", v6First, []string{"-4", "--method", "connect", "--wait=6s", "--port", "22", "dual.lab", "7001", "7002"}, "4"},
	}
	addrRE := regexp.MustCompile(`(10\.77\.0\.2|\[fd77::2\]):22`)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reset()
			out, err := knock(tt.hosts, tt.args...)
			if err != nil {
				log, _ := os.ReadFile(kd.DoorFile("knockd.log"))
				t.Fatalf("knock %s: %v\n%s\nknockd.log:\n%s", strings.Join(tt.args, " "), err, out, log)
			}
			got := tt.family
			if m := addrRE.FindStringSubmatch(out); m == nil {
				t.Errorf("the output names no address:\n%s", out)
			} else if fam := map[bool]string{true: "6", false: "4"}[strings.HasPrefix(m[1], "[")]; got == "" {
				got = fam
			} else if fam != got {
				t.Errorf("connected over IPv%s, want IPv%s:\n%s", fam, got, out)
			}
			if got == "" {
				t.FailNow()
			}
			other := map[string]string{"4": "ip6tables", "6": "iptables"}[got]
			if n := dropped(other); n != 0 {
				t.Fatalf("%d SYNs went to the other family's port 22 (%s DROP), but the knock was over IPv%s:\n%s", n, other, got, out)
			}
		})
	}
}
