//go:build linux

package knockdcmd

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/knocktools/knock/internal/lab"
)

const oneTimeSeqs = " 7801,7802\n 7811,7812\n"

// TestDifferentialAgainstDebianKnockd sends the same packets to Debian's
// knockd 0.8 and ours and compares which doors opened, and for whom: wrong
// order, repeats, flag noise, negated flags, TCP/UDP mixes, shared
// prefixes, timeouts, start/stop commands, one-time sequences and IPv6.
// Interleaved knockers are a planned difference, a knockd 0.8 bug fixed on
// purpose: 0.8 loses the second (or both), ours opens for both. For the
// one-time door only the first use is compared: what 0.8 did with the
// file's second sequence varied from run to run here; ours must open it.
func TestDifferentialAgainstDebianKnockd(t *testing.T) {
	lab.Require(t, "knockd")
	knockBin := ourKnock(t)
	l := lab.New(t)
	files := map[string]string{"onetime.seq": oneTimeSeqs}
	theirs := l.Server.StartKnockd(t, lab.DebianKnockd, lab.Fixture(t, "differential.conf"), files)
	ours := l.Server.StartKnockd(t, ourKnockd(t), lab.Fixture(t, "differential.conf"), files)
	srv4, srv6 := l.Server.Addr4.String(), l.Server.Addr6.String()
	a, b := l.Client.Addr4.String(), "10.77.0.3"
	l.Client.Run("ip", "addr", "add", b+"/24", "dev", "eth0")

	knock := func(args ...string) {
		t.Helper()
		out, err := l.Client.Command(context.Background(), knockBin, args...).CombinedOutput()
		if err != nil {
			t.Fatalf("knock %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	// from picks the source address of the client's next knocks.
	from := func(src string) {
		l.Client.Run("ip", "route", "replace", srv4+"/32", "dev", "eth0", "src", src)
	}

	from(a)
	knock(srv4, "7002", "7001", "7003")                     // wrong order: nothing
	knock(srv4, "7001", "7001", "7002", "7003")             // a repeated first port fails in knockd
	knock(srv4, "7001", "7002", "7003")                     // seq opens
	knock(srv4, "7101", "7102:udp", "7103")                 // mixed opens
	knock(srv4, "7101", "7102", "7103")                     // TCP where UDP is due: nothing
	knock(srv4, "7201", "7202:tcp:syn+ack", "7202")         // SYN+ACK is noise to syn,!ack; then it opens
	knock(srv4, "7301", "7302")                             // SYNs are invisible to fin,!ack
	knock("--flags", "fin", srv4, "7301", "7302")           // FINs open it
	knock(srv4, "6001", "6002", "6004")                     // shareB
	knock(srv4, "6001", "6002", "6003")                     // shareA
	knock("-d", "1500", srv4, "7401", "7402")               // too slow for seq_timeout 1
	knock(srv4, "7401", "7402")                             // in time
	knock(srv4, "7501", "7502:udp")                         // start, and stop a second later
	knock("-6", srv6, "7601", "7602:udp", "7603")           // IPv6
	for _, port := range []string{"7701", "7702", "7703"} { // interleaved knockers
		from(a)
		knock(srv4, port)
		from(b)
		knock(srv4, port)
	}
	from(a)
	// One-time sequences last: knockd 0.8 rebuilds its capture filter when
	// one is used, and what it saw right after that varied between runs.
	knock(srv4, "7801", "7802") // first one-time sequence
	knock(srv4, "7801", "7802") // used: nothing
	knock(srv4, "7811", "7812") // the next one

	// Let the commands run, the stop command included.
	lab.WaitFile(t, ours.DoorFile("startstop"), "start "+a+"\nstop "+a, 5*time.Second)
	lab.WaitFile(t, theirs.DoorFile("startstop"), "start "+a+"\nstop "+a, 5*time.Second)
	lab.WaitLines(t, ours.DoorFile("interleaved"), []string{a, b}, 5*time.Second)

	want := map[string]string{
		"onetime-first": a,
		"seq":           a, "mixed": a, "negflags": a, "fin": a, "shareA": a, "shareB": a, "timeout": a,
		"startstop": "start " + a + "\nstop " + a, "six": l.Client.Addr6.String(),
	}
	firstLine := func(b []byte) []byte { line, _, _ := strings.Cut(string(b), "\n"); return []byte(line) }
	for door, w := range want {
		file := strings.TrimSuffix(door, "-first")
		got, errOurs := os.ReadFile(ours.DoorFile(file))
		gotTheirs, _ := os.ReadFile(theirs.DoorFile(file))
		if file != door {
			got, gotTheirs = firstLine(got), firstLine(gotTheirs)
		}
		if strings.TrimSpace(string(got)) != strings.TrimSpace(string(gotTheirs)) {
			t.Errorf("door %s: ours opened for %q, knockd 0.8 for %q", door, got, gotTheirs)
		}
		if strings.TrimSpace(string(got)) != w {
			t.Errorf("door %s: ours opened for %q (%v), want %q", door, got, errOurs, w)
		}
	}
	// The planned differences: ours must do right; 0.8's result is logged.
	if got, _ := os.ReadFile(ours.DoorFile("onetime")); strings.TrimSpace(string(got)) != a+"\n"+a {
		t.Errorf("one-time door: ours opened for %q, want both sequences", got)
	}
	if got, _ := os.ReadFile(ours.DoorFile("onetime.seq")); string(got) != "#7801,7802\n#7811,7812\n" {
		t.Errorf("one-time file after two uses: %q", got)
	}
	theirOnce, _ := os.ReadFile(theirs.DoorFile("onetime"))
	theirSeqs, _ := os.ReadFile(theirs.DoorFile("onetime.seq"))
	theirInter, _ := os.ReadFile(theirs.DoorFile("interleaved"))
	t.Logf("knockd 0.8: one-time door opened for %q, file now %q; interleaved door opened for %q",
		strings.Fields(string(theirOnce)), theirSeqs, strings.Fields(string(theirInter)))
	if t.Failed() {
		logOurs, _ := os.ReadFile(ours.DoorFile("knockd.log"))
		logTheirs, _ := os.ReadFile(theirs.DoorFile("knockd.log"))
		t.Logf("our log:\n%s\nknockd 0.8 log:\n%s", logOurs, logTheirs)
	}
}
