//go:build linux

package lab

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// SSHD is an OpenSSH server running in a lab host, with a client key that
// logs in as root.
type SSHD struct {
	*Proc
	Dir string
	Key string // private key for the client
}

// StartSSHD runs sshd on the host's IPv4 address, port 22, with a fresh
// host key and a fresh client key; it returns once sshd listens.
func (h *Host) StartSSHD(t testing.TB) *SSHD {
	t.Helper()
	Require(t, "sshd", "ssh", "ssh-keygen")
	dir := t.TempDir()
	for _, k := range []string{"host", "client"} {
		if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", filepath.Join(dir, k)).CombinedOutput(); err != nil {
			t.Fatalf("ssh-keygen: %v\n%s", err, out)
		}
	}
	pub, err := os.ReadFile(filepath.Join(dir, "client.pub"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "authorized_keys"), pub, 0o600); err != nil {
		t.Fatal(err)
	}
	conf := strings.Join([]string{
		"ListenAddress " + h.Addr4.String() + ":22",
		"HostKey " + filepath.Join(dir, "host"),
		"PidFile " + filepath.Join(dir, "sshd.pid"),
		"AuthorizedKeysFile " + filepath.Join(dir, "authorized_keys"),
		"StrictModes no",
		"UsePAM no",
		"PermitRootLogin prohibit-password",
		"PasswordAuthentication no",
		"KbdInteractiveAuthentication no",
		"",
	}, "\n")
	if err := os.WriteFile(filepath.Join(dir, "sshd_config"), []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	// sshd insists on its privilege separation directory.
	if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
		t.Fatal(err)
	}
	sshd, err := exec.LookPath("sshd")
	if err != nil {
		sshd = "/usr/sbin/sshd"
	}
	p := h.Start(sshd, "-D", "-e", "-f", filepath.Join(dir, "sshd_config"))
	p.WaitOutput(t, "Server listening on "+h.Addr4.String(), 10*time.Second)
	return &SSHD{Proc: p, Dir: dir, Key: filepath.Join(dir, "client")}
}

// ClientOptions are the ssh options that log in with the lab's key and
// trust the fresh host key without asking, reading no user config.
func (s *SSHD) ClientOptions() []string {
	return []string{"-F", "/dev/null", "-i", s.Key, "-o", "BatchMode=yes",
		"-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR"}
}
