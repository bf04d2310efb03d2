//go:build linux

package knockdcmd

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/knocktools/knock/internal/lab"
)

// TestTimeBasedKnockInLab knocks a time-based door of our knockd with our
// client and a profile holding the same secret: a fresh knock opens; the
// same sequence again in its window is refused; a client whose clock is
// two windows behind is not let in, one window behind is.
func TestTimeBasedKnockInLab(t *testing.T) {
	lab.Require(t)
	l := lab.New(t)
	const secret, period = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", 4 * time.Second
	conf := "[options]\n\tLogFile = @DIR@/knockd.log\n\tStateDir = @DIR@\n[totp]\n\tsequence_secret = " + secret +
		"\n\tsequence_period = 4\n\tseq_timeout = 3\n\tcommand = echo %IP% >> @DIR@/totp\n"
	kd := l.Server.StartKnockd(t, ourKnockd(t), conf, nil)
	cfg := filepath.Join(t.TempDir(), "config.yaml")
	knockBin := ourKnock(t)
	l.Server.Run(knockBin, "--config", cfg, "profile", "add", "totp", "--host", l.Server.Addr4.String(),
		"--secret", secret, "--period", "4s")
	knock := func(args ...string) { l.Client.Run(knockBin, append([]string{"--config", cfg, "totp"}, args...)...) }
	me := l.Client.Addr4.String()
	opened := func() int {
		b, _ := os.ReadFile(kd.DoorFile("totp"))
		return len(strings.Fields(string(b)))
	}

	// Start at the beginning of a window, so every knock below falls in it.
	for time.Now().UnixMilli()%period.Milliseconds() > 500 {
		time.Sleep(50 * time.Millisecond)
	}
	knock("-v")
	if !lab.Eventually(2*time.Second, func() bool { return opened() == 1 }) {
		t.Fatalf("the door did not open:\n%s", kd.Output())
	}
	knock() // the same sequence again, in its window: a replay
	kd.WaitOutput(t, "already used: refused (a replay?)", 2*time.Second)
	knock("--clock-offset", "-8s") // two windows behind: not accepted
	knock("--clock-offset", "-4s") // one window behind: accepted
	lab.WaitFile(t, kd.DoorFile("totp"), me+"\n"+me, 2*time.Second)
	if n := opened(); n != 2 {
		t.Fatalf("door opened %d times, want 2\n%s", n, kd.Output())
	}
}
