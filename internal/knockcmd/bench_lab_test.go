//go:build linux

package knockcmd

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/knocktools/knock/internal/lab"
)

// benchRounds is how many times each program runs in BenchmarkProfileKnock.
const benchRounds = 300

// floors are the Go programs BenchmarkProfileKnock runs in the same rotation
// as the two knocks, to show which part of the start-up is Go's, which the
// dependencies' and which ours (their sources are in testdata/floor).
var floors = []struct{ dir, name, metric string }{
	{"hello", "Go hello-world", "ms/go-hello"},
	{"cobra", "Go, links cobra, runs an empty command", "ms/go-cobra"},
	{"deps", "the same, also links viper, gopacket/layers, x/net", "ms/go-design-deps"},
}

// BenchmarkProfileKnock compares the wall time of "knock PROFILE" (built as
// the release is: CGO_ENABLED=0, stripped) with knock 0.8 sending the same
// 4-port knock to a lab host, the programs run alternately from inside the
// client namespace, and reports the medians and their ratios. The floors run
// in the same rounds, in a fresh random order each round; the last, which
// links what the design fixes and does nothing, is the floor the target
// (ours at most 1.15x it) is measured against.
//
//	sudo go test ./internal/knockcmd -run '^$' -bench BenchmarkProfileKnock -benchtime 1x
//
// KNOCK_BENCH_BASELINE=PATH adds another knock binary (an earlier
// commit's release build) to the same rounds, so a change's cost is
// measured against what it changes in one run.
func BenchmarkProfileKnock(b *testing.B) {
	lab.Require(b, "knock")
	dir := b.TempDir()
	ours := lab.BuildRelease(b, "../../cmd/knock")
	var floorBins []string
	for _, f := range floors {
		floorBins = append(floorBins, lab.BuildRelease(b, "./testdata/floor/"+f.dir))
	}
	l := lab.New(b)
	cfg := filepath.Join(dir, "config.yaml")
	host := l.Server.Addr4.String()
	add := exec.Command(ours, "--config", cfg, "profile", "add", "bench", "--host", host, "--sequence", "7000,7001,7002,7003")
	if out, err := add.CombinedOutput(); err != nil {
		b.Fatalf("profile add: %v\n%s", err, out)
	}
	// ours --version does none of a knock's work: what is left between it
	// and the floor is what linking (and initialising) more of the same
	// libraries costs.
	cmds := append([]string{
		ours + " --config " + cfg + " bench",
		"/usr/bin/knock " + host + " 7000 7001 7002 7003",
		ours + " --version",
	}, floorBins...)
	names := []string{"knock PROFILE (ours, built as released)", "knock HOST 7000 7001 7002 7003 (0.8)", "knock --version (ours, sends nothing)"}
	for _, f := range floors {
		names = append(names, f.name)
	}
	baseline := os.Getenv("KNOCK_BENCH_BASELINE")
	if baseline != "" {
		cmds = append(cmds, baseline+" --config "+cfg+" bench")
		names = append(names, "knock PROFILE ($KNOCK_BENCH_BASELINE)")
	}
	for range b.N {
		args := append([]string{strconv.Itoa(benchRounds)}, cmds...)
		out, err := l.Client.Command(context.Background(), lab.TestBinary(b, "lab-bench"), args...).CombinedOutput()
		if err != nil {
			b.Fatalf("lab-bench: %v\n%s", err, out)
		}
		fields := strings.Fields(string(out))
		if len(fields) != len(cmds) {
			b.Fatalf("lab-bench output %q: want %d medians", out, len(cmds))
		}
		ms := make([]float64, len(fields))
		for i, f := range fields {
			if ms[i], err = strconv.ParseFloat(f, 64); err != nil {
				b.Fatalf("lab-bench output %q: %v", out, err)
			}
		}
		floor := ms[2+len(floors)] // the design's dependencies, doing nothing
		fmt.Printf("  %-52s %8s %8s %8s\n", "program", "median", "/ 0.8", "/ floor")
		for i, name := range names {
			fmt.Printf("  %-52s %5.2f ms %7.2fx %7.2fx\n", name, ms[i], ms[i]/ms[1], ms[i]/floor)
		}
		fmt.Printf("  command: %ssudo go test ./internal/knockcmd -run '^$' -bench BenchmarkProfileKnock -benchtime 1x\n", map[bool]string{true: "KNOCK_BENCH_BASELINE=" + baseline + " "}[baseline != ""])
		b.ReportMetric(ms[0], "ms/knock-profile")
		b.ReportMetric(ms[1], "ms/knock-0.8")
		b.ReportMetric(ms[2], "ms/knock-version")
		for i, f := range floors {
			b.ReportMetric(ms[3+i], f.metric)
		}
		b.ReportMetric(ms[0]/ms[1], "ratio")
		b.ReportMetric(ms[0]/floor, "ratio-floor")
		if baseline != "" {
			b.ReportMetric(ms[len(ms)-1]/floor, "ratio-floor-baseline")
		}
	}
}
