//go:build linux && amd64

package archtest

import (
	"bytes"
	"context"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/knocktools/knock"
	"github.com/knocktools/knock/internal/flood"
	"github.com/knocktools/knock/internal/lab"
)

// target is one Linux build of goreleaser.yaml, and the qemu-user that
// runs it ("" runs it natively).
type target struct {
	name string // as the release archives name it
	env  []string
	qemu string
}

// targets are every Linux architecture we release but amd64, which is the
// reference the others are held to.
var targets = []target{
	{"386", []string{"GOARCH=386"}, ""},
	{"arm64", []string{"GOARCH=arm64"}, "qemu-aarch64-static"},
	{"armv6", []string{"GOARCH=arm", "GOARM=6"}, "qemu-arm-static"},
	{"armv7", []string{"GOARCH=arm", "GOARM=7"}, "qemu-arm-static"},
	{"mips_softfloat", []string{"GOARCH=mips", "GOMIPS=softfloat"}, "qemu-mips-static"},
	{"mipsle_softfloat", []string{"GOARCH=mipsle", "GOMIPS=softfloat"}, "qemu-mipsel-static"},
	{"mips64_softfloat", []string{"GOARCH=mips64", "GOMIPS64=softfloat"}, "qemu-mips64-static"},
	{"mips64le_softfloat", []string{"GOARCH=mips64le", "GOMIPS64=softfloat"}, "qemu-mips64el-static"},
	{"riscv64", []string{"GOARCH=riscv64"}, "qemu-riscv64-static"},
	{"ppc64le", []string{"GOARCH=ppc64le"}, "qemu-ppc64le-static"},
}

func targetNamed(name string) target {
	for _, t := range targets {
		if t.name == name {
			return t
		}
	}
	panic(name)
}

// build is a target's knock and knockd.
type build struct {
	target
	knock, knockd string
}

// run runs one of the build's programs (under its qemu) and returns what
// it printed on standard output and standard error, and its exit status.
func (b build) run(t *testing.T, env []string, program string, args ...string) (string, string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	argv := append([]string{program}, args...)
	if b.qemu != "" {
		argv = append([]string{b.qemu}, argv...)
	}
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := cmd.ProcessState.ExitCode()
	if err != nil && code < 0 {
		t.Fatalf("%s %s: %v\n%s", b.name, strings.Join(argv, " "), err, stderr.String())
	}
	return stdout.String(), stderr.String(), code
}

var (
	buildMu sync.Mutex
	builds  = map[string]build{}
)

// release builds knock and knockd for a target the way goreleaser.yaml
// does: no cgo, -trimpath, stripped, a version stamped in. The Go build
// cache keeps what it compiled, so a second run only links.
func release(t *testing.T, tg target) build {
	t.Helper()
	buildMu.Lock()
	defer buildMu.Unlock()
	if b, ok := builds[tg.name]; ok {
		return b
	}
	if tg.qemu != "" {
		if _, err := exec.LookPath(tg.qemu); err != nil {
			lab.Skip(t, tg.qemu+" is not installed (package qemu-user-static; make test installs it: see scripts/deps.sh)")
		}
	}
	dir, err := os.MkdirTemp("", "knock-archtest-"+tg.name+"-")
	if err != nil {
		t.Fatal(err)
	}
	b := build{target: tg, knock: filepath.Join(dir, "knock"), knockd: filepath.Join(dir, "knockd")}
	// One go command for both, so that it compiles the one's packages
	// while it links the other.
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w -X github.com/knocktools/knock/internal/buildinfo.version=0.0.0-archtest",
		"-o", dir+string(filepath.Separator), "../../cmd/knock", "../../cmd/knockd")
	cmd.Env = append(os.Environ(), append([]string{"CGO_ENABLED=0", "GOOS=linux"}, tg.env...)...)
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build for %s: %v\n%s", tg.name, err, msg)
	}
	builds[tg.name] = b
	return b
}

func TestMain(m *testing.M) {
	code := m.Run()
	for _, b := range builds {
		os.RemoveAll(filepath.Dir(b.knock))
	}
	os.Exit(code)
}

var native = target{name: "amd64", env: []string{"GOARCH=amd64"}}

// fixture is what every architecture is run on: the sample config, a
// flood capture with real knockers in it, a door config.
type fixture struct {
	dir, pcap, conf, opened string
	knockers                []flood.Knocker
}

func newFixture(t *testing.T) fixture {
	t.Helper()
	dir := t.TempDir()
	f := fixture{dir: dir, pcap: filepath.Join(dir, "flood.pcap"), conf: filepath.Join(dir, "knockd.conf")}
	door1 := knock.Sequence{{Port: 7000, Proto: knock.TCP, Flags: knock.SYN}, {Port: 8000, Proto: knock.TCP, Flags: knock.SYN}, {Port: 9000, Proto: knock.TCP, Flags: knock.SYN}}
	door2 := knock.Sequence{{Port: 7100, Proto: knock.TCP, Flags: knock.SYN}, {Port: 8100, Proto: knock.UDP}, {Port: 9100, Proto: knock.TCP, Flags: knock.SYN}}
	src := netip.MustParseAddr("10.77.250.1")
	for i := range 5 {
		seq := door1
		if i%2 == 1 {
			seq = door2
		}
		f.knockers = append(f.knockers, flood.Knocker{Src: src, Seq: seq})
		src = src.Next()
	}
	out, err := os.Create(f.pcap)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := flood.Write(out, flood.Spec{Packets: 20_000, Sources: 4_000, FirstSource: netip.MustParseAddr("10.77.1.0"),
		Ports: []uint16{7000, 7100}, Scan: 0.25, Dst: netip.MustParseAddr("10.77.0.2"),
		SrcMAC: []byte{2, 0, 0, 0, 0, 1}, DstMAC: []byte{2, 0, 0, 0, 0, 2}, Knockers: f.knockers, Gap: 1_000, Seed: 18}); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	return f
}

// results is what one build printed, step by step, for comparison with
// the amd64 build's.
type results struct {
	steps []step
}

type step struct {
	name, out string
}

func (r *results) add(name, out string) { r.steps = append(r.steps, step{name, out}) }

// exercise runs the same commands on a build and records their output:
// knockd --check of the sample config, knockd --replay of the flood (with
// a small knocker table, so eviction runs too), knock --dry-run --json,
// and a profile round trip.
func exercise(t *testing.T, b build, f fixture) *results {
	t.Helper()
	r := &results{}
	out, errOut, code := b.run(t, nil, b.knockd, "--version")
	if code != 0 || !strings.Contains(out, "0.0.0-archtest") {
		t.Fatalf("%s: knockd --version exited %d: %s%s", b.name, code, out, errOut)
	}
	out, errOut, code = b.run(t, nil, b.knockd, "--check", "-c", "../../etc/knockd.conf")
	// What a tracked knocker costs depends on the word size.
	out = knockerCost.ReplaceAllString(out, "(up to N of memory)")
	out = memoryBound.ReplaceAllString(out, "at most about N resident")
	r.add("knockd --check of etc/knockd.conf", fmt.Sprintf("exit %d\n%s%s", code, out, errOut))

	work := filepath.Join(t.TempDir())
	conf := filepath.Join(work, "knockd.conf")
	if err := os.WriteFile(conf, []byte(strings.ReplaceAll(lab.Fixture(t, "replay.conf"), "@DIR@", work)), 0o600); err != nil {
		t.Fatal(err)
	}
	out, errOut, code = b.run(t, nil, b.knockd, "--replay", f.pcap, "--run-commands", "-c", conf, "-v", "--log-limit", "0", "--max-knockers", "1024")
	logged, commands := splitCommands(strings.ReplaceAll(withoutTimes(out), work, "DIR"))
	r.add("knockd --replay of the flood", fmt.Sprintf("exit %d\n%s%s", code, logged, errOut))
	r.add("knockd --replay: commands run", commands)
	opened, _ := os.ReadFile(filepath.Join(work, "opened"))
	lines := strings.Split(strings.TrimSpace(string(opened)), "\n")
	slices.Sort(lines)
	r.add("doors opened", strings.Join(lines, "\n"))
	want := []string{}
	for i, k := range f.knockers {
		want = append(want, fmt.Sprintf("%s door%d", k.Src, 1+i%2))
	}
	slices.Sort(want)
	if !slices.Equal(lines, want) {
		t.Errorf("%s: the replay opened %q, want every real knocker and nothing spoofed: %q", b.name, lines, want)
	}

	home := t.TempDir()
	cfg := filepath.Join(home, "config.yaml")
	env := []string{"HOME=" + home, "XDG_CONFIG_HOME=" + home}
	knockOut := func(name string, args ...string) {
		out, errOut, code := b.run(t, env, b.knock, args...)
		r.add(name, fmt.Sprintf("exit %d\n%s%s", code, random.ReplaceAllString(out, "${1}N"), strings.ReplaceAll(errOut, home, "HOME")))
	}
	knockOut("knock --dry-run --json", "--dry-run", "--json", "10.77.0.2", "7000", "8000:udp", "9000:tcp:fin", "fd77::2", "7100")
	knockOut("profile add", "--config", cfg, "profile", "add", "router", "--host", "10.77.0.2", "--sequence", "7000,8000:udp,9000:tcp:fin",
		"--close-sequence", "9000,8000,7000", "--delay", "50ms", "--user", "admin", "--description", "the router")
	knockOut("profile add a second", "--config", cfg, "profile", "add", "v6", "--host", "fd77::2", "--sequence", "7100,8100:udp")
	knockOut("profile list", "--config", cfg, "profile", "list")
	knockOut("profile show", "--config", cfg, "profile", "show", "router")
	knockOut("profile export --knockd", "--config", cfg, "profile", "export", "--knockd", "router")
	knockOut("knock PROFILE --dry-run --json", "--config", cfg, "router", "--dry-run", "--json")
	knockOut("knock PROFILE --close --dry-run", "--config", cfg, "router", "--close", "--dry-run")
	knockOut("profile rename", "--config", cfg, "profile", "rename", "v6", "six")
	knockOut("profile rm", "--config", cfg, "profile", "rm", "router")
	knockOut("profile list after", "--config", cfg, "profile", "list")
	return r
}

var (
	// random matches what a dry run draws afresh each time: its source
	// ports and the time of each knock.
	random      = regexp.MustCompile(`("source_port":|"time":|via raw from [0-9.]+:)("[^"]*"|[0-9]+)`)
	knockerCost = regexp.MustCompile(`\(up to [0-9.]+ [KMG]iB of memory\)`)
	memoryBound = regexp.MustCompile(`at most about [0-9.]+ [KMG]iB resident`)
)

// splitCommands separates the lines of the commands knockd runs, which it
// logs as they start, in whatever order they start in beside the packets'
// lines, from the rest; those it returns sorted.
func splitCommands(s string) (logged, commands string) {
	var rest, cmds []string
	for _, line := range strings.SplitAfter(s, "\n") {
		if strings.Contains(line, ": running command: ") {
			cmds = append(cmds, line)
		} else {
			rest = append(rest, line)
		}
	}
	slices.Sort(cmds)
	return strings.Join(rest, ""), strings.Join(cmds, "")
}

// withoutTimes drops the time knockd puts before each log line: the
// replay's lines are compared by what they say.
func withoutTimes(s string) string {
	var b strings.Builder
	for _, line := range strings.SplitAfter(s, "\n") {
		if strings.HasPrefix(line, "[") {
			if _, rest, ok := strings.Cut(line, "] "); ok {
				line = rest
			}
		}
		b.WriteString(line)
	}
	return b.String()
}

// TestEveryLinuxArchitecture runs the same knockd and knock commands on
// every Linux build we release and wants, from each, exactly what the
// amd64 build prints.
func TestEveryLinuxArchitecture(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and emulates ten architectures")
	}
	if runtime.GOOS != "linux" || runtime.GOARCH != "amd64" {
		t.Skip("the reference is the linux/amd64 build")
	}
	f := newFixture(t)
	ref := exercise(t, release(t, native), f)
	for _, tg := range targets {
		t.Run(tg.name, func(t *testing.T) {
			got := exercise(t, release(t, tg), f)
			for i, s := range ref.steps {
				if d := firstDifference(got.steps[i].out, s.out); d != "" {
					t.Errorf("%s: %s differs from amd64's: %s", tg.name, s.name, d)
				}
			}
		})
	}
}

// firstDifference shows where two outputs part: the line, with a few
// before it, as each has it; "" when they are the same.
func firstDifference(got, want string) string {
	if got == want {
		return ""
	}
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	i := 0
	for i < len(g) && i < len(w) && g[i] == w[i] {
		i++
	}
	from := max(0, i-3)
	line := func(l []string) string {
		if i < len(l) {
			return l[i]
		}
		return "(end of output)"
	}
	return fmt.Sprintf("line %d\n  context: %q\n  this:    %q\n  amd64:   %q", i+1, g[from:i], line(g), line(w))
}

// TestLiveCaptureUnderQemu runs an emulated knockd on a lab interface: its
// AF_PACKET socket, ring and kernel filter are the host kernel's, reached
// through qemu-user. A big-endian and a 32-bit build, knocked over IPv4
// and IPv6 by the amd64 knock.
func TestLiveCaptureUnderQemu(t *testing.T) {
	lab.Require(t)
	client := release(t, native)
	for _, name := range []string{"mips_softfloat", "armv7"} {
		t.Run(name, func(t *testing.T) {
			b := release(t, targetNamed(name))
			l := lab.New(t)
			k := l.Server.StartKnockdArgs(t, b.qemu, lab.Fixture(t, "live.conf"), nil, "listening on "+l.Server.If, b.knockd, "-i", l.Server.If, "-D")
			t.Cleanup(func() {
				if t.Failed() {
					t.Logf("knockd's output:\n%s", k.Output())
				}
			})
			for _, dst := range []netip.Addr{l.Server.Addr4, l.Server.Addr6} {
				out, err := l.Client.Command(context.Background(), client.knock, dst.String(), "7000", "8000:udp", "9000").CombinedOutput()
				if err != nil {
					t.Fatalf("knock %s: %v\n%s", dst, err, out)
				}
			}
			want := []string{l.Client.Addr4.String(), l.Client.Addr6.String()}
			lab.WaitLines(t, k.DoorFile("opened"), want, 10*time.Second)
		})
	}
}

// TestUnitTestsBigEndianAnd32Bit runs the unit tests of what decodes,
// encodes and hashes bytes (the packet decoder, kernel filter, source
// table and tracker, capture files, SPA packets, their verifier and
// fwknop's config files, sequences and their time-based
// form) as a mips build under qemu-user: big-endian, 32-bit, and strict
// about alignment, the three at once.
func TestUnitTestsBigEndianAnd32Bit(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and emulates the tests for mips")
	}
	for _, name := range []string{"mips_softfloat"} {
		t.Run(name, func(t *testing.T) {
			tg := targetNamed(name)
			if _, err := exec.LookPath(tg.qemu); err != nil {
				lab.Skip(t, tg.qemu+" is not installed (package qemu-user-static; make test installs it: see scripts/deps.sh)")
			}
			// -trimpath, as the release builds of TestEveryLinuxArchitecture:
			// the standard library and the dependencies compiled for
			// those serve here too.
			cmd := exec.Command("go", "test", "-trimpath", "-count=1", "-exec", tg.qemu, "../../server/...", "../../spa", "../../spadoor", "../../fwknopconf", "../../internal/pcapfile", "../..")
			cmd.Env = append(os.Environ(), append([]string{"CGO_ENABLED=0", "GOOS=linux"}, tg.env...)...)
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("go test -exec %s: %v\n%s", tg.qemu, err, out)
			}
			t.Logf("%s", out)
		})
	}
}
