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

// StartDebianKnockd writes conf to a file and runs Debian's knockd 0.8 on
// the host's interface in the foreground (-v, with its log on the
// output), returning once it listens.
func (h *Host) StartDebianKnockd(t testing.TB, conf string) *Knockd {
	t.Helper()
	Require(t, "knockd")
	dir := t.TempDir()
	path := filepath.Join(dir, "knockd.conf")
	conf = strings.ReplaceAll(conf, "@DIR@", dir)
	if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	p := h.Start("knockd", "-i", h.If, "-c", path, "-v")
	p.WaitOutput(t, "listening on "+h.If, 10*time.Second)
	return &Knockd{Proc: p, Dir: dir, Conf: path}
}

// DoorFile is where a door command writing to @DIR@/name leaves its output.
func (k *Knockd) DoorFile(name string) string { return filepath.Join(k.Dir, name) }
