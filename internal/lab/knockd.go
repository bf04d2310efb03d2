//go:build linux

package lab

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Knockd is a knockd running in a lab host, with a directory its door
// commands can write to.
type Knockd struct {
	*Proc
	// Dir replaces @DIR@ in the config: door commands such as
	// "command = echo %IP% >> @DIR@/door1" leave their trace there.
	Dir  string
	Conf string
}

// DebianKnockd is the path of Debian's knockd 0.8 (package knockd).
const DebianKnockd = "/usr/sbin/knockd"

// StartDebianKnockd runs Debian's knockd 0.8 with conf (see StartKnockd).
func (h *Host) StartDebianKnockd(t testing.TB, conf string) *Knockd {
	t.Helper()
	Require(t, "knockd")
	return h.StartKnockd(t, DebianKnockd, conf, nil)
}

// StartKnockd writes conf (and files, by name) to a fresh directory and
// runs the knockd program on the host's interface in the foreground (-v,
// its log on the output), returning once it listens. It serves Debian's
// knockd and ours alike, since both take knockd 0.8's flags.
func (h *Host) StartKnockd(t testing.TB, program, conf string, files map[string]string) *Knockd {
	t.Helper()
	return h.StartKnockdArgs(t, program, conf, files, "listening on "+h.If, "-i", h.If)
}

// StartKnockdArgs is StartKnockd with other arguments than "-i IF" (none,
// to take the config's Interface), waiting for the output ready.
func (h *Host) StartKnockdArgs(t testing.TB, program, conf string, files map[string]string, ready string, args ...string) *Knockd {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(strings.ReplaceAll(content, "@DIR@", dir)), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(dir, "knockd.conf")
	conf = strings.ReplaceAll(conf, "@DIR@", dir)
	if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	args = append(args, "-c", path, "-v")
	if program != DebianKnockd {
		// Ours: each test's knockd answers knockd status on a socket of its own.
		args = append(args, "--status-socket", filepath.Join(dir, "status.sock"))
	}
	p := h.Start(program, args...)
	p.WaitOutput(t, ready, 10*time.Second)
	return &Knockd{Proc: p, Dir: dir, Conf: path}
}

// StatusSocket is where our knockd answers knockd status.
func (k *Knockd) StatusSocket() string { return filepath.Join(k.Dir, "status.sock") }

// DoorFile is where a door command writing to @DIR@/name leaves its output.
func (k *Knockd) DoorFile(name string) string { return filepath.Join(k.Dir, name) }

// Fixture is a lab's configuration file from the test's testdata/lab,
// such as a knockd.conf whose @DIR@ StartKnockd fills in.
func Fixture(t testing.TB, name string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "lab", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}
