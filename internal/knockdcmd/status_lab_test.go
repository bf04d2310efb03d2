//go:build linux

package knockdcmd

import (
	"encoding/json"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/knocktools/knock/internal/lab"
	"github.com/knocktools/knock/server"
)

// TestStatus asks a running knockd what it has open: a door opened through
// knockd fw with its stop command an hour away, a door without a stop
// command, a knocker halfway through a third door; and the socket refuses
// a user other than root, at the file's mode and, the mode loosened, at
// the peer's credentials.
func TestStatus(t *testing.T) {
	lab.Require(t, "nft", "setpriv")
	l := lab.New(t)
	knockd := ourKnockd(t)
	conf := strings.ReplaceAll(lab.Fixture(t, "status.conf"), "@KNOCKD@", knockd)
	kd := l.Server.StartKnockd(t, knockd, conf, nil)
	srv, me := l.Server.Addr4.String(), l.Client.Addr4.String()
	l.Client.Run(ourKnock(t), srv, "7001", "7002")
	l.Client.Run(ourKnock(t), srv, "7101", "7102")
	l.Client.Run(ourKnock(t), srv, "7201", "7202")

	status := func(args ...string) (string, error) {
		out, err := exec.Command(knockd, append([]string{"status", "--socket", kd.StatusSocket()}, args...)...).CombinedOutput()
		return string(out), err
	}
	var st server.Status
	if !lab.Eventually(10*time.Second, func() bool {
		out, err := status("--json")
		if err != nil || json.Unmarshal([]byte(out), &st) != nil {
			return false
		}
		return len(st.Holes) == 1 && len(st.Doors) == 3 && len(st.Doors[0].Open) == 1 && !st.Doors[0].Open[0].ClosesAt.IsZero() &&
			len(st.Doors[1].Open) == 1 && st.Doors[2].Knockers == 1
	}) {
		out, err := status("--json")
		t.Fatalf("status never showed the open door, the hole and the knocker: %v\n%s\nknockd:\n%s", err, out, kd.Output())
	}
	open := st.Doors[0].Open[0]
	if open.Source != netip.MustParseAddr(me) || time.Until(open.ClosesAt) < 59*time.Minute || open.NoStop || st.Pending != 1 {
		t.Errorf("ssh's opening %+v, pending %d", open, st.Pending)
	}
	if h := st.Holes[0]; h.Backend != "nftables" || h.Proto != "tcp" || h.Port != 22 || h.Source != netip.MustParseAddr(me) || h.Door != "ssh" {
		t.Errorf("hole %+v", h)
	}
	if !st.Doors[1].Open[0].NoStop {
		t.Errorf("touch's opening %+v", st.Doors[1].Open[0])
	}
	if len(st.Captures) != 1 || st.Captures[0].Interface != l.Server.If || st.Captures[0].Frames == 0 || !st.Captures[0].Capturing {
		t.Errorf("captures %+v", st.Captures)
	}
	if st.Config != kd.Conf || st.Counters.Opened != 2 || st.PID == 0 {
		t.Errorf("config %q, counters %+v, pid %d", st.Config, st.Counters, st.PID)
	}
	// What a person reads; -v names the knocker at the third door.
	out, err := status("-v")
	for _, want := range []string{"[ssh] sequence: 1 open, 0 knocking", me, "closes ", "[touch] sequence: 1 open", "no stop_command",
		"knocking: 2 of 3 knocks", "1 stop command(s) pending", "nftables tcp/22 for " + me + ", door [ssh]"} {
		if !strings.Contains(out, want) {
			t.Errorf("knockd status -v lacks %q: %v\n%s", want, err, out)
		}
	}

	// Not root: the socket's mode keeps the user out ...
	nobody := func() (string, error) {
		bin := filepath.Join(worldDir(t), "knockd")
		copyFile(t, knockd, bin)
		out, err := exec.Command("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", bin, "status", "--socket", kd.StatusSocket()).CombinedOutput()
		return string(out), err
	}
	if out, err := nobody(); err == nil || !strings.Contains(out, "permission denied: knockd status is root's only") {
		t.Errorf("a user other than root: %v\n%s", err, out)
	}
	// ... and, the mode loosened, knockd refuses the peer.
	for _, p := range []string{filepath.Dir(kd.Dir), kd.Dir, kd.StatusSocket()} {
		if err := os.Chmod(p, 0o777); err != nil {
			t.Fatal(err)
		}
	}
	if out, err := nobody(); err == nil || !strings.Contains(out, "knockd status is root's only (uid 65534 asked)") {
		t.Errorf("a user other than root, the socket open to all: %v\n%s", err, out)
	}
}

// worldDir is a directory every user may enter and read.
func worldDir(t *testing.T) string {
	dir, err := os.MkdirTemp("", "knockd-world-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

func copyFile(t *testing.T, from, to string) {
	in, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
}
