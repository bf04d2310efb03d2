//go:build linux

package knockcmd

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/knocktools/knock/internal/lab"
)

// benchRounds is how many times each program runs in BenchmarkProfileKnock.
const benchRounds = 300

// BenchmarkProfileKnock compares the wall time of "knock PROFILE" (the
// release build of our binary) with knock 0.8 sending the same 4-port knock
// to a lab host, the two run alternately from inside the client namespace,
// and reports the medians and their ratio.
//
//	sudo go test ./internal/knockcmd -run '^$' -bench BenchmarkProfileKnock -benchtime 1x
func BenchmarkProfileKnock(b *testing.B) {
	lab.Require(b, "knock")
	dir := b.TempDir()
	ours := filepath.Join(dir, "knock")
	if out, err := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w", "-o", ours, "../../cmd/knock").CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	l := lab.New(b)
	cfg := filepath.Join(dir, "config.yaml")
	host := l.Server.Addr4.String()
	add := exec.Command(ours, "--config", cfg, "profile", "add", "bench", "--host", host, "--sequence", "7000,7001,7002,7003")
	if out, err := add.CombinedOutput(); err != nil {
		b.Fatalf("profile add: %v\n%s", err, out)
	}
	for range b.N {
		out, err := l.Client.Command(context.Background(), lab.TestBinary(b, "lab-bench"), strconv.Itoa(benchRounds),
			ours+" --config "+cfg+" bench", "/usr/bin/knock "+host+" 7000 7001 7002 7003").CombinedOutput()
		if err != nil {
			b.Fatalf("lab-bench: %v\n%s", err, out)
		}
		var oursMs, theirsMs float64
		if _, err := fmt.Sscanf(string(out), "%g %g", &oursMs, &theirsMs); err != nil {
			b.Fatalf("lab-bench output %q: %v", out, err)
		}
		b.ReportMetric(oursMs, "ms/knock-profile")
		b.ReportMetric(theirsMs, "ms/knock-0.8")
		b.ReportMetric(oursMs/theirsMs, "ratio")
	}
}
