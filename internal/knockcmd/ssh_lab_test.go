//go:build linux

package knockcmd

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/knocktools/knock/internal/lab"
)

// TestSSHThroughTheDoor runs a real sshd behind iptables and Debian's
// knockd, and logs in through knock proxy as a ProxyCommand, through knock
// ssh and through the config knock ssh-config prints; a wrong sequence
// fails cleanly within the profile's wait, against REJECT and DROP.
func TestSSHThroughTheDoor(t *testing.T) {
	lab.Require(t, "knockd", "iptables", "sshd", "ssh")
	knockBin := lab.TestBinary(t, "knock")
	l := lab.New(t)
	sshd := l.Server.StartSSHD(t)
	l.Server.StartDebianKnockd(t, lab.Fixture(t, "ssh-door.conf"))
	srv := l.Server.Addr4.String()
	cfg := filepath.Join(t.TempDir(), "config.yaml")
	env := append(os.Environ(), "KNOCK_CONFIG="+cfg)
	run := func(ns *lab.Host, name string, args ...string) (string, error) {
		var c *exec.Cmd
		if ns == nil {
			c = exec.Command(name, args...)
		} else {
			c = ns.Command(context.Background(), name, args...)
		}
		c.Env = env
		out, err := c.CombinedOutput()
		return string(out), err
	}
	mustRun := func(t *testing.T, ns *lab.Host, name string, args ...string) string {
		t.Helper()
		out, err := run(ns, name, args...)
		if err != nil {
			t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
		}
		return out
	}
	mustRun(t, nil, knockBin, "profile", "add", "lab", "--host", srv, "--sequence", "7001,7002:udp,7003", "--user", "root", "--wait", "8s")
	mustRun(t, nil, knockBin, "profile", "add", "wrong", "--host", srv, "--sequence", "7003,7002:udp,7001", "--user", "root", "--wait", "3s")
	reset := func(t *testing.T, policy string) {
		t.Helper()
		l.Server.Run("iptables", "-F", "INPUT")
		l.Server.Run("iptables", "-A", "INPUT", "-p", "tcp", "--dport", "22", "-j", policy)
		if policy == "REJECT" {
			l.Server.Run("iptables", "-R", "INPUT", "1", "-p", "tcp", "--dport", "22", "-j", "REJECT", "--reject-with", "tcp-reset")
		}
	}

	t.Run("ProxyCommand", func(t *testing.T) {
		reset(t, "REJECT")
		args := append(sshd.ClientOptions(), "-o", "ProxyCommand="+knockBin+" proxy %h %p", "root@"+srv, "echo", "through-proxy")
		// Both profiles have the host: proxy says which it took.
		note := "knock: profiles lab, wrong have host " + srv + "; using lab, the first by name (choose with --profile)\n"
		if got := mustRun(t, l.Client, "ssh", args...); got != note+"through-proxy\n" {
			t.Fatalf("ssh printed %q", got)
		}
	})
	t.Run("knock ssh", func(t *testing.T) {
		reset(t, "DROP")
		args := append([]string{"ssh", "lab"}, sshd.ClientOptions()...)
		out := mustRun(t, l.Client, knockBin, append(args, "echo", "through-knock-ssh")...)
		if strings.TrimSpace(out) != "through-knock-ssh" {
			t.Fatalf("knock ssh printed %q", out)
		}
	})
	t.Run("generated ssh config", func(t *testing.T) {
		reset(t, "REJECT")
		conf := filepath.Join(t.TempDir(), "ssh_config")
		generated := mustRun(t, nil, knockBin, "ssh-config", "lab")
		extra := "Host *\n    IdentityFile " + sshd.Key + "\n    BatchMode yes\n    StrictHostKeyChecking no\n    UserKnownHostsFile /dev/null\n    LogLevel ERROR\n"
		if err := os.WriteFile(conf, []byte(generated+"\n"+extra), 0o600); err != nil {
			t.Fatal(err)
		}
		if got := strings.TrimSpace(mustRun(t, l.Client, "ssh", "-F", conf, "lab", "echo", "through-config")); got != "through-config" {
			t.Fatalf("ssh printed %q", got)
		}
	})
	for _, policy := range []string{"REJECT", "DROP"} {
		t.Run("wrong sequence against "+policy, func(t *testing.T) {
			reset(t, policy)
			start := time.Now()
			out, err := run(l.Client, knockBin, "proxy", "--profile", "wrong", srv, "22")
			took := time.Since(start)
			if err == nil {
				t.Fatalf("proxy succeeded with the wrong sequence:\n%s", out)
			}
			if took > 6*time.Second {
				t.Fatalf("failing took %v, wait was 3s", took)
			}
			want := "refused"
			if policy == "DROP" {
				want = "timed out"
			}
			if !strings.Contains(out, `profile "wrong": knocked `+srv+` with 7003 7002:udp 7001, but `+srv+`:22 did not open within 3s: `+want) {
				t.Fatalf("message:\n%s", out)
			}
		})
	}
}
