//go:build linux

package knockcmd

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/knocktools/knock/internal/lab"
)

// benchRounds is how many times each program runs in BenchmarkProfileKnock.
const benchRounds = 300

// BenchmarkProfileKnock compares the wall time of "knock PROFILE" (built as
// the release is: CGO_ENABLED=0, stripped) with knock 0.8 sending the same
// 4-port knock to a lab host, the programs run alternately from inside the
// client namespace, and reports the medians and their ratio. A static Go
// hello-world runs in the same rotation: it is the floor any Go program pays
// to start on this machine, so the figure shows what is ours and what is Go's.
//
//	sudo go test ./internal/knockcmd -run '^$' -bench BenchmarkProfileKnock -benchtime 1x
func BenchmarkProfileKnock(b *testing.B) {
	lab.Require(b, "knock")
	dir := b.TempDir()
	ours := filepath.Join(dir, "knock")
	releaseBuild(b, ours, "../../cmd/knock")
	hello := filepath.Join(dir, "hello")
	helloSrc := filepath.Join(dir, "hello.go")
	if err := os.WriteFile(helloSrc, []byte("package main\n\nfunc main() { println(\"hello\") }\n"), 0o644); err != nil {
		b.Fatal(err)
	}
	releaseBuild(b, hello, helloSrc)
	l := lab.New(b)
	cfg := filepath.Join(dir, "config.yaml")
	host := l.Server.Addr4.String()
	add := exec.Command(ours, "--config", cfg, "profile", "add", "bench", "--host", host, "--sequence", "7000,7001,7002,7003")
	if out, err := add.CombinedOutput(); err != nil {
		b.Fatalf("profile add: %v\n%s", err, out)
	}
	for range b.N {
		out, err := l.Client.Command(context.Background(), lab.TestBinary(b, "lab-bench"), strconv.Itoa(benchRounds),
			ours+" --config "+cfg+" bench", "/usr/bin/knock "+host+" 7000 7001 7002 7003", hello).CombinedOutput()
		if err != nil {
			b.Fatalf("lab-bench: %v\n%s", err, out)
		}
		var oursMs, theirsMs, helloMs float64
		if _, err := fmt.Sscanf(string(out), "%g %g %g", &oursMs, &theirsMs, &helloMs); err != nil {
			b.Fatalf("lab-bench output %q: %v", out, err)
		}
		b.ReportMetric(oursMs, "ms/knock-profile")
		b.ReportMetric(theirsMs, "ms/knock-0.8")
		b.ReportMetric(helloMs, "ms/go-hello")
		b.ReportMetric(oursMs/theirsMs, "ratio")
	}
}

// releaseBuild builds pkg into out the way goreleaser does: static, without
// cgo, stripped.
func releaseBuild(b *testing.B, out, pkg string) {
	b.Helper()
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w", "-o", out, pkg)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if msg, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("go build %s: %v\n%s", pkg, err, msg)
	}
}
