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

// TestCloseSequenceAgainstDebianKnockd: a profile with a close_sequence,
// exported as knockd.conf doors that Debian's knockd 0.8 runs: knock NAME
// opens port 22 for the client, knock NAME --close closes it, and knock
// ssh closes it after ssh exits, after a login and after an ssh that
// could not connect; --no-close leaves it open.
func TestCloseSequenceAgainstDebianKnockd(t *testing.T) {
	lab.Require(t, "knockd", "iptables", "sshd", "ssh")
	knockBin := lab.TestBinary(t, "knock")
	l := lab.New(t)
	sshd := l.Server.StartSSHD(t)
	srv, me := l.Server.Addr4.String(), l.Client.Addr4.String()
	cfg := filepath.Join(t.TempDir(), "config.yaml")
	knock := func(t *testing.T, args ...string) (string, error) {
		t.Helper()
		c := l.Client.Command(context.Background(), knockBin, args...)
		c.Env = append(os.Environ(), "KNOCK_CONFIG="+cfg)
		out, err := c.CombinedOutput()
		return string(out), err
	}
	mustKnock := func(t *testing.T, args ...string) string {
		t.Helper()
		out, err := knock(t, args...)
		if err != nil {
			t.Fatalf("knock %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return out
	}
	mustKnock(t, "profile", "add", "lab", "--host", srv, "--sequence", "7001,7002:udp,7003",
		"--close-sequence", "7013,7012:udp,7011", "--user", "root", "--wait", "8s", "--method", "connect")
	door, err := exec.Command(knockBin, "--config", cfg, "profile", "export", "lab", "--knockd").Output()
	if err != nil {
		t.Fatal(err)
	}
	kd := l.Server.StartDebianKnockd(t, "[options]\n\tLogFile = @DIR@/knockd.log\n"+string(door))
	l.Server.Run("iptables", "-A", "INPUT", "-p", "tcp", "--dport", "22", "-j", "DROP")
	rule := "-A INPUT -s " + me + "/32 -p tcp -m tcp --dport 22 -j ACCEPT"
	isOpen := func() bool { return strings.Contains(l.Server.Run("iptables", "-S", "INPUT"), rule) }
	want := func(t *testing.T, open bool, what string) {
		t.Helper()
		if !lab.Eventually(5*time.Second, func() bool { return isOpen() == open }) {
			log, _ := os.ReadFile(kd.DoorFile("knockd.log"))
			t.Fatalf("%s: port 22 open = %v, want %v\n%s\nknockd.log:\n%s", what, !open, open, l.Server.Run("iptables", "-S", "INPUT"), log)
		}
	}
	sshArgs := sshd.ClientOptions()

	t.Run("knock NAME, then --close", func(t *testing.T) {
		mustKnock(t, "lab")
		want(t, true, "after knock lab")
		mustKnock(t, "lab", "--close")
		want(t, false, "after knock lab --close")
	})
	t.Run("knock ssh closes after a login", func(t *testing.T) {
		out := mustKnock(t, append(append([]string{"ssh", "-v", "lab"}, sshArgs...), "echo", "logged-in")...)
		if !strings.Contains(out, "logged-in") || !strings.Contains(out, `ssh exited with status 0; knocking profile "lab"'s close sequence (7013 7012:udp 7011)`) {
			t.Fatalf("knock ssh:\n%s", out)
		}
		want(t, false, "after knock ssh")
	})
	t.Run("knock ssh closes when ssh cannot connect", func(t *testing.T) {
		// The same doors, but port 2201, where nothing listens: the proxy
		// knocks (port 22 opens), waits in vain, and ssh gives up.
		mustKnock(t, "profile", "add", "short", "--host", srv, "--sequence", "7001,7002:udp,7003", "--port", "2201",
			"--close-sequence", "7013,7012:udp,7011", "--user", "root", "--wait", "2s", "--method", "connect")
		out, err := knock(t, append(append([]string{"ssh", "-v", "short"}, sshArgs...), "true")...)
		if err == nil || !strings.Contains(out, "ssh exited with status 255; knocking") {
			t.Fatalf("knock ssh to a closed port: %v\n%s", err, out)
		}
		want(t, false, "after a failed ssh")
		log, _ := os.ReadFile(kd.DoorFile("knockd.log"))
		if n := strings.Count(string(log), me+": lab-close: OPEN SESAME"); n != 3 {
			t.Fatalf("the close door opened %d times, want 3:\n%s", n, log)
		}
	})
	t.Run("--no-close", func(t *testing.T) {
		mustKnock(t, append(append([]string{"ssh", "--no-close", "lab"}, sshArgs...), "true")...)
		want(t, true, "after knock ssh --no-close")
		mustKnock(t, "lab", "--close")
		want(t, false, "after knock lab --close")
	})
}
