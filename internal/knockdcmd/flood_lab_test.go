//go:build linux

package knockdcmd

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/knocktools/knock"
	"github.com/knocktools/knock/internal/flood"
	"github.com/knocktools/knock/internal/lab"
)

// floodScenario is one flood of BenchmarkLabFlood.
type floodScenario struct {
	name     string
	packets  int
	sources  int
	first    string // first spoofed source
	knockers string // first real knocker
	ipv6     bool
}

// floodScenarios: the flood issue 6 measured knockd 0.8 against, and a
// million distinct spoofed sources (IPv6, since 10.77.0.0/16 is the lab's
// whole IPv4 space) to show the table stays bounded.
var floodScenarios = []floodScenario{
	{name: "60k-sources", packets: 800_000, sources: 60_000, first: "10.77.1.0", knockers: "10.77.250.1"},
	{name: "1M-sources", packets: 1_000_000, sources: 1_000_000, first: "fd77:f1::", knockers: "fd77:fa::1", ipv6: true},
}

// Targets of issues 6 and 18 (a router's memory), checked after each
// flood, with knockd's default sizes.
const (
	maxCPURatio = 0.25     // our CPU seconds over knockd 0.8's
	maxIdleRSS  = 8 << 20  // bytes, once it listens and has let the probe in
	maxPeakRSS  = 16 << 20 // bytes, under the flood
	realKnocks  = 5        // real knockers, each of which must get in
	knockGap    = 20_000   // spoofed packets between one real knock and the next
	floodScan   = 0.25     // share of spoofed SYNs to random ports; the rest hit the doors' first ports
)

// BenchmarkLabFlood replays a flood of spoofed SYNs (tcpreplay --topspeed
// over a lab veth), with five real knockers woven in, against Debian's
// knockd 0.8 (when installed) and ours, one after the other, and reports
// for each: real knockers let in, spoofed sources let in, CPU seconds and
// idle and peak RSS of the daemon, and our CPU over theirs. Our misses and missed
// targets fail it.
//
//	sudo go test ./internal/knockdcmd -run '^$' -bench LabFlood -benchtime 1x
func BenchmarkLabFlood(b *testing.B) {
	lab.Require(b, "tcpreplay")
	ours := lab.BuildRelease(b, "../../cmd/knockd")
	for _, sc := range floodScenarios {
		b.Run(sc.name, func(b *testing.B) {
			for range b.N {
				benchFlood(b, sc, ours)
			}
		})
	}
}

// TestLabFloodLetsRealKnockersIn is the flood benchmark's correctness half,
// smaller, for every test run: under a flood from 60,000 spoofed sources
// over a lab veth, our knockd lets each real knocker in and no spoofed one.
func TestLabFloodLetsRealKnockersIn(t *testing.T) {
	lab.Require(t, "tcpreplay")
	// The release build, as shipped (the test binary may be built with
	// -race), at a fixed rate, since other tests share the machine.
	fl := newFloodLab(t, floodScenario{name: "test", packets: 200_000, sources: 60_000, first: "10.77.1.0", knockers: "10.77.250.1"})
	fl.pps = 50_000
	// A ring of 8M (100,000 frames, two seconds of this flood) rather
	// than the default 1M: this test is about who gets in, and under
	// make test knockd shares two cores with fuzzing and builds, which may
	// keep it from reading for longer than the default ring lasts. What
	// the default ring holds is the benchmark's to measure.
	fl.args = []string{"--ring-size", "8M"}
	r := fl.run(t, "ours", lab.BuildRelease(t, "../../cmd/knockd"), fl.ours)
	if r.opened != realKnocks || r.spoofedIn != 0 {
		t.Fatalf("under the flood ours let in %d of %d real knockers and %d spoofed sources", r.opened, realKnocks, r.spoofedIn)
	}
}

// TestLabKernelDropsAreLogged stops our knockd, floods it past what its
// capture ring holds, lets it go on, and expects the kernel's drops
// (PACKET_STATISTICS) in its log without asking for them.
func TestLabKernelDropsAreLogged(t *testing.T) {
	lab.Require(t, "tcpreplay")
	fl := newFloodLab(t, floodScenario{name: "drops", packets: 300_000, sources: 60_000, first: "10.77.1.0", knockers: "10.77.250.1"})
	k := fl.l.Server.StartKnockd(t, ourKnockd(t), lab.Fixture(t, "flood.conf"), nil)
	if err := k.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	replay(t, fl.l.Client, fl.flood, 0)
	if err := k.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	k.WaitOutput(t, "the kernel dropped ", 10*time.Second)
	m := regexp.MustCompile(`the kernel dropped (\d+) packets`).FindStringSubmatch(k.Output())
	// The default ring holds some thousands of these small frames; the
	// rest of the flood must have been counted as dropped.
	t.Logf("%s (of 300000 sent)", m[0])
	if n, _ := strconv.Atoi(m[1]); n < 100_000 {
		t.Errorf("the kernel dropped %d of %d packets sent while knockd was stopped, want most of them", n, 300_000)
	}
}

func benchFlood(b *testing.B, sc floodScenario, ours string) {
	fl := newFloodLab(b, sc)
	var results []floodResult
	programs := [][2]string{{"knockd 0.8", lab.DebianKnockd}, {"ours", ours}}
	if _, err := os.Stat(lab.DebianKnockd); err != nil {
		b.Logf("%s not installed: measuring ours alone (apt-get install knockd)", lab.DebianKnockd)
		programs = programs[1:]
	}
	for _, p := range programs {
		iface := fl.l.Server.If // knockd 0.8 listens on one
		if p[1] == ours {
			iface = fl.ours
		}
		results = append(results, fl.run(b, p[0], p[1], iface))
	}

	fmt.Printf("\nflood %s: %d spoofed SYNs from %d sources (%.0f%% to the doors' first ports, the rest to random ports), %d real knockers, %d packets between knocks\n",
		sc.name, sc.packets, sc.sources, 100*(1-floodScan), realKnocks, knockGap)
	fmt.Printf("  %-11s %-7s %-12s %-8s %-9s %-9s %s\n", "knockd", "let in", "spoofed in", "CPU s", "idle RSS", "peak RSS", "replay rate")
	for _, r := range results {
		fmt.Printf("  %-11s %d/%-5d %-12d %-8.2f %-9s %-9s %s\n", r.name, r.opened, realKnocks, r.spoofedIn, r.cpu,
			fmt.Sprintf("%.1f MiB", float64(r.idle)/(1<<20)), fmt.Sprintf("%.1f MiB", float64(r.rss)/(1<<20)), r.replayPPS)
	}
	o := results[len(results)-1]
	b.ReportMetric(float64(o.opened), "ours-let-in")
	b.ReportMetric(o.cpu, "ours-cpu-s")
	b.ReportMetric(float64(o.rss)/(1<<20), "ours-peak-MiB")
	b.ReportMetric(float64(o.idle)/(1<<20), "ours-idle-MiB")
	if len(results) == 2 {
		t := results[0]
		ratio := o.cpu / t.cpu
		b.ReportMetric(float64(t.opened), "0.8-let-in")
		b.ReportMetric(t.cpu, "0.8-cpu-s")
		b.ReportMetric(float64(t.rss)/(1<<20), "0.8-peak-MiB")
		b.ReportMetric(float64(t.idle)/(1<<20), "0.8-idle-MiB")
		b.ReportMetric(ratio, "cpu-ratio")
		fmt.Printf("  CPU ours/0.8: %.3f (target <= %.2f)\n", ratio, maxCPURatio)
		if ratio > maxCPURatio {
			b.Errorf("%s: our CPU %.2fs is %.2f of knockd 0.8's %.2fs; target <= %.2f", sc.name, o.cpu, ratio, t.cpu, maxCPURatio)
		}
	}
	fmt.Printf("  command: sudo go test ./internal/knockdcmd -run '^$' -bench 'LabFlood/%s' -benchtime 1x\n", sc.name)
	o.checkTargets(b, sc.name, "real knockers", "spoofed sources")
}

// checkTargets fails b where ours missed a target: a real one kept out,
// a fake one let in, memory beyond the router targets.
func (o floodResult) checkTargets(b *testing.B, scenario, real, fake string) {
	switch {
	case o.opened != realKnocks:
		b.Errorf("%s: ours let in %d of %d %s", scenario, o.opened, realKnocks, real)
	case o.spoofedIn != 0:
		b.Errorf("%s: ours let %d %s in", scenario, o.spoofedIn, fake)
	}
	if o.rss > maxPeakRSS || o.idle > maxIdleRSS {
		b.Errorf("%s: our RSS %.1f MiB idle, %.1f MiB at peak; targets %d and %d MiB", scenario,
			float64(o.idle)/(1<<20), float64(o.rss)/(1<<20), maxIdleRSS>>20, maxPeakRSS>>20)
	}
}

// floodLab is a lab with a flood written for it: a pcap of the scenario,
// with realKnocks knockers woven in, and a probe knock that tells when a
// knockd listens.
type floodLab struct {
	l        *lab.Lab
	flood    string
	probe    string
	probeSrc netip.Addr
	knockers []flood.Knocker
	pps      int      // replay rate; 0 for as fast as tcpreplay can
	args     []string // more arguments for our knockd
	// ours is the -i of our knockd: the flooded link and an idle one, so
	// that the figures hold with several interfaces configured.
	ours string
}

func newFloodLab(tb testing.TB, sc floodScenario) *floodLab {
	tb.Helper()
	l := lab.New(tb)
	fl := &floodLab{l: l, probeSrc: l.Client.Addr4, ours: l.Server.If + ",idle0"}
	l.AddClient(tb, "idle0", 254, lab.OnlyIPv6) // no IPv4 address: none of the flood's can clash
	dst := l.Server.Addr4
	if sc.ipv6 {
		dst, fl.probeSrc = l.Server.Addr6, l.Client.Addr6
	}
	door1 := seq(7000, 8000, 9000)
	door2 := seq(7100, 8100, 9100)
	for i := range realKnocks {
		k := flood.Knocker{Src: nth(netip.MustParseAddr(sc.knockers), i), Seq: door1}
		if i%2 == 1 {
			k.Seq = door2
		}
		fl.knockers = append(fl.knockers, k)
	}
	dir := tb.TempDir()
	spec := flood.Spec{Packets: sc.packets, Sources: sc.sources, FirstSource: netip.MustParseAddr(sc.first),
		Ports: []uint16{7000, 7100}, Scan: floodScan, Dst: dst,
		SrcMAC: l.Client.MAC(), DstMAC: l.Server.MAC(), Knockers: fl.knockers, Gap: knockGap, Seed: 6}
	fl.flood = writeFlood(tb, filepath.Join(dir, "flood.pcap"), spec)
	fl.probe = writeFlood(tb, filepath.Join(dir, "probe.pcap"), flood.Spec{Packets: 0, Sources: 1,
		FirstSource: fl.probeSrc, Ports: []uint16{1}, Dst: dst, SrcMAC: spec.SrcMAC, DstMAC: spec.DstMAC,
		Knockers: []flood.Knocker{{Src: fl.probeSrc, Seq: door1}}})
	return fl
}

// floodResult is what one knockd did under a flood.
type floodResult struct {
	name      string
	opened    int // real knockers let in
	spoofedIn int // spoofed sources let in
	cpu       float64
	rss       int64 // peak
	idle      int64
	replayPPS string
	drops     string // what ours says it dropped, when asked
}

// run starts program with testdata/lab/flood.conf, waits until it lets the probe in,
// replays the flood, waits until it has worked through it and stops it.
func (fl *floodLab) run(tb testing.TB, name, program, iface string) floodResult {
	tb.Helper()
	k := startQuiet(tb, fl.l.Server, program, lab.Fixture(tb, "flood.conf"), iface, fl.args...)
	defer k.Stop()
	// Ready when a probe knock gets in: neither knockd says more without -v.
	if !lab.Eventually(15*time.Second, func() bool {
		replay(tb, fl.l.Client, fl.probe, 0)
		return strings.Contains(readFile(k.DoorFile("opened")), fl.probeSrc.String())
	}) {
		tb.Fatalf("%s never let the probe knock in; output:\n%s", name, k.Output())
	}
	r := measureFlood(tb, name, k.Pid(), func() string { return replay(tb, fl.l.Client, fl.flood, fl.pps) })
	isKnocker, in := map[string]bool{}, map[string]bool{}
	for _, kn := range fl.knockers {
		isKnocker[kn.Src.String()] = true
	}
	for _, who := range strings.Fields(readFile(k.DoorFile("opened"))) {
		switch {
		case who == fl.probeSrc.String():
		case !isKnocker[who]:
			r.spoofedIn++
		case !in[who]:
			in[who] = true
			r.opened++
		}
	}
	return r
}

// measureFlood is what the daemon pid spends on a flood: idle once it
// settles, then flood() (which returns the rate it sent at), until the
// daemon settles again.
func measureFlood(tb testing.TB, name string, pid int, flood func() string) floodResult {
	waitIdle(tb, pid)
	idle := statusBytes(tb, pid, "VmRSS")
	cpu0 := cpuSeconds(tb, pid)
	pps := flood()
	waitIdle(tb, pid)
	return floodResult{name: name, cpu: cpuSeconds(tb, pid) - cpu0, rss: statusBytes(tb, pid, "VmHWM"), idle: idle, replayPPS: pps}
}

func seq(ports ...uint16) knock.Sequence {
	var s knock.Sequence
	for _, p := range ports {
		s = append(s, knock.Knock{Port: p, Proto: knock.TCP, Flags: knock.SYN})
	}
	return s
}

// nth returns the address n after a (n < 256).
func nth(a netip.Addr, n int) netip.Addr {
	for range n {
		a = a.Next()
	}
	return a
}

func writeFlood(tb testing.TB, path string, spec flood.Spec) string {
	tb.Helper()
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	if _, err := flood.Write(f, spec); err != nil {
		tb.Fatal(err)
	}
	if err := f.Close(); err != nil {
		tb.Fatal(err)
	}
	return path
}

// startQuiet runs a knockd without -v, its output kept for failures.
func startQuiet(tb testing.TB, h *lab.Host, program, conf, iface string, args ...string) *lab.Knockd {
	tb.Helper()
	dir := tb.TempDir()
	path := filepath.Join(dir, "knockd.conf")
	if err := os.WriteFile(path, []byte(strings.ReplaceAll(conf, "@DIR@", dir)), 0o600); err != nil {
		tb.Fatal(err)
	}
	if program != lab.DebianKnockd {
		args = append(args, "--status-socket", filepath.Join(dir, "status.sock"))
	}
	return &lab.Knockd{Proc: h.Start(program, append([]string{"-i", iface, "-c", path}, args...)...), Dir: dir, Conf: path}
}

var ratePPS = regexp.MustCompile(`([0-9.]+) pps`)

// replay sends a pcap from the host, at pps packets a second or as fast
// as it can, and returns the rate tcpreplay reports.
func replay(tb testing.TB, h *lab.Host, file string, pps int) string {
	tb.Helper()
	rate := "--topspeed"
	if pps > 0 {
		rate = "--pps=" + strconv.Itoa(pps)
	}
	out, err := h.Command(context.Background(), "tcpreplay", rate, "-i", h.If, file).CombinedOutput()
	if err != nil {
		tb.Fatalf("tcpreplay %s: %v\n%s", file, err, out)
	}
	if m := ratePPS.FindSubmatch(out); m != nil {
		return string(m[1]) + " pkt/s"
	}
	return "?"
}

// cpuSeconds is the user and system time a process has used so far.
func cpuSeconds(tb testing.TB, pid int) float64 {
	tb.Helper()
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		tb.Fatal(err)
	}
	// Fields after the command name (which may hold spaces): state is
	// field 3, utime 14 and stime 15.
	_, rest, _ := strings.Cut(string(raw), ") ")
	f := strings.Fields(rest)
	utime, _ := strconv.ParseFloat(f[11], 64)
	stime, _ := strconv.ParseFloat(f[12], 64)
	return (utime + stime) / clockTicks
}

// clockTicks is USER_HZ, the unit of /proc/PID/stat times (100 on Linux).
const clockTicks = 100

// statusBytes reads a size from a process's /proc status: its resident
// set (VmRSS) or the high-water mark of it (VmHWM), in bytes.
func statusBytes(tb testing.TB, pid int, key string) int64 {
	tb.Helper()
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		tb.Fatal(err)
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if v, ok := strings.CutPrefix(line, key+":"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10
		}
	}
	tb.Fatalf("no %s in /proc/%d/status", key, pid)
	return 0
}

// waitIdle waits until a process has used no CPU for a second: it has
// worked through every packet the kernel queued for it.
func waitIdle(tb testing.TB, pid int) {
	tb.Helper()
	last, still := cpuSeconds(tb, pid), 0
	for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline); {
		time.Sleep(250 * time.Millisecond)
		now := cpuSeconds(tb, pid)
		if now == last {
			if still++; still == 4 {
				return
			}
		} else {
			still = 0
		}
		last = now
	}
	tb.Logf("process %d still busy after two minutes", pid)
}

func readFile(path string) string {
	b, _ := os.ReadFile(path)
	return string(b)
}

// spaFloodScenario is one flood of BenchmarkLabSPAFlood: forged SPA
// packets from many spoofed sources, five real fwknop clients' packets
// woven in, against an access.conf of some stanzas (the real clients'
// keys in the last, so that a forgery costs every stanza's HMAC).
type spaFloodScenario struct {
	name             string
	packets, sources int
	stanzas          int
}

const spaFloodKey, spaFloodHMAC = "dGhpcy1pcy1hLTMyLWJ5dGUta2V5LWZvci10ZXN0cyE=", "aG1hYy1rZXktZm9yLWZ3a25vcC1jbGllbnQtdGVzdHMtaW4tc3BhZG9vcg=="

// BenchmarkLabSPAFlood replays a flood of forged SPA packets (valid
// base64 of a real packet's length, a wrong HMAC; tcpreplay --topspeed
// over a lab veth), with five real fwknop clients' packets woven in,
// against Debian's fwknopd 2.6.10 (when installed) and our knockd, one
// after the other, each with the same fwknopd.conf and access.conf, and
// reports for each: real clients let in, forgeries let in, CPU seconds,
// idle and peak RSS; and for ours the CPU a forged packet cost beside the
// HMACs it must compute (the floor, measured here). Our misses, any
// forgery let in and missed memory targets fail it; the cost is a figure
// to report.
//
//	sudo go test ./internal/knockdcmd -run '^$' -bench LabSPAFlood -benchtime 1x
func BenchmarkLabSPAFlood(b *testing.B) {
	lab.Require(b, "tcpreplay", "fwknop")
	ours := lab.BuildRelease(b, "../../cmd/knockd")
	// The flood issue 26 measured fwknopd 2.6.10 against, with 1 stanza
	// and with 20.
	for _, stanzas := range []int{1, 20} {
		name := fmt.Sprintf("800k-%d-stanza", stanzas)
		if stanzas > 1 {
			name += "s"
		}
		b.Run(name, func(b *testing.B) {
			for range b.N {
				benchSPAFlood(b, spaFloodScenario{name: name, packets: 800_000, sources: 60_000, stanzas: stanzas}, ours)
			}
		})
	}
}

// TestLabSPAFloodLetsRealClientsIn is the SPA flood benchmark's
// correctness half, smaller, for every test run: under a flood of forged
// packets from 60,000 spoofed sources, our knockd lets each real fwknop
// client in and no forgery, with 1 stanza and with 20.
func TestLabSPAFloodLetsRealClientsIn(t *testing.T) {
	lab.Require(t, "tcpreplay", "fwknop")
	ours := lab.BuildRelease(t, "../../cmd/knockd")
	for _, stanzas := range []int{1, 20} {
		t.Run(fmt.Sprint(stanzas), func(t *testing.T) {
			fl := newSPAFloodLab(t, spaFloodScenario{name: "test", packets: 100_000, sources: 60_000, stanzas: stanzas})
			fl.pps = 50_000 // other tests share the machine
			r := fl.run(t, "ours", ours)
			if r.opened != realKnocks || r.spoofedIn != 0 {
				t.Fatalf("under the flood ours let in %d of %d real clients and %d forgeries", r.opened, realKnocks, r.spoofedIn)
			}
		})
	}
}

func benchSPAFlood(b *testing.B, sc spaFloodScenario, ours string) {
	fl := newSPAFloodLab(b, sc)
	var results []floodResult
	if _, err := os.Stat("/usr/sbin/fwknopd"); err == nil {
		results = append(results, fl.run(b, "fwknopd", "/usr/sbin/fwknopd"))
	} else {
		b.Logf("fwknopd not installed: measuring ours alone (apt-get install fwknop-server)")
	}
	results = append(results, fl.run(b, "ours", ours))
	floor := flood.HMACFloorNs(fl.packetLen)
	fmt.Printf("\nSPA flood %s: %d forged packets (%d bytes of base64, wrong HMAC) from %d sources, %d stanza(s), %d real fwknop clients, %d packets between them\n",
		sc.name, sc.packets, fl.packetLen, sc.sources, sc.stanzas, realKnocks, knockGap)
	fmt.Printf("  %-9s %-7s %-12s %-8s %-9s %-9s %s\n", "server", "let in", "forged in", "CPU s", "idle RSS", "peak RSS", "replay rate")
	for _, r := range results {
		fmt.Printf("  %-9s %d/%-5d %-12d %-8.2f %-9s %-9s %s\n", r.name, r.opened, realKnocks, r.spoofedIn, r.cpu,
			fmt.Sprintf("%.1f MiB", float64(r.idle)/(1<<20)), fmt.Sprintf("%.1f MiB", float64(r.rss)/(1<<20)), r.replayPPS)
	}
	o := results[len(results)-1]
	per := o.cpu * 1e9 / float64(sc.packets)
	fmt.Printf("  ours dropped: %s\n", o.drops)
	fmt.Printf("  ours: %.0f ns of CPU a forged packet, all of it (capture, decode, verify), beside %d HMAC(s) at %.0f ns: %.2fx the floor\n",
		per, sc.stanzas, floor, per/(float64(sc.stanzas)*floor))
	if len(results) == 2 {
		t := results[0]
		fmt.Printf("  CPU ours/fwknopd: %.3f\n", o.cpu/t.cpu)
		b.ReportMetric(float64(t.opened), "fwknopd-let-in")
		b.ReportMetric(t.cpu, "fwknopd-cpu-s")
		b.ReportMetric(float64(t.rss)/(1<<20), "fwknopd-peak-MiB")
	}
	fmt.Printf("  command: sudo go test ./internal/knockdcmd -run '^$' -bench 'LabSPAFlood/%s' -benchtime 1x\n", sc.name)
	b.ReportMetric(float64(o.opened), "ours-let-in")
	b.ReportMetric(o.cpu, "ours-cpu-s")
	b.ReportMetric(float64(o.rss)/(1<<20), "ours-peak-MiB")
	b.ReportMetric(float64(o.idle)/(1<<20), "ours-idle-MiB")
	b.ReportMetric(per/(float64(sc.stanzas)*floor), "ours-x-floor")
	o.checkTargets(b, sc.name, "real clients", "forgeries")
}

// spaFloodLab is a lab with an SPA flood written for it.
type spaFloodLab struct {
	l         *lab.Lab
	flood     string
	real      map[string]bool // the real clients' addresses
	stanzas   int
	packetLen int
	pps       int
}

func newSPAFloodLab(tb testing.TB, sc spaFloodScenario) *spaFloodLab {
	tb.Helper()
	l := lab.New(tb)
	fl := &spaFloodLab{l: l, real: map[string]bool{}, stanzas: sc.stanzas}
	dst := l.Server.Addr4
	var knockers []flood.Knocker
	var packetLen int
	for i := range realKnocks {
		src := nth(netip.MustParseAddr("10.77.250.1"), i)
		file := filepath.Join(tb.TempDir(), "packet")
		// Made by fwknop's own client, not sent (--test).
		args := []string{"-A", "tcp/22", "-a", src.String(), "-D", dst.String(), "--rc-file", os.DevNull, "--key-base64-rijndael", spaFloodKey,
			"--key-base64-hmac", spaFloodHMAC, "--test", "--save-packet", file}
		if out, err := l.Client.Command(tb.Context(), "fwknop", args...).CombinedOutput(); err != nil {
			tb.Fatalf("fwknop %v: %v\n%s", args, err, out)
		}
		data, err := os.ReadFile(file)
		if err != nil {
			tb.Fatal(err)
		}
		pkt := strings.TrimSpace(string(data))
		packetLen = max(packetLen, len(pkt))
		knockers = append(knockers, flood.Knocker{Src: src, Seq: knock.Sequence{{Port: 62201, Proto: knock.UDP, Payload: pkt, HasPayload: true}}})
		fl.real[src.String()] = true
	}
	fl.packetLen = packetLen
	spec := flood.Spec{Packets: sc.packets, Sources: sc.sources, FirstSource: netip.MustParseAddr("10.77.1.0"), Ports: []uint16{62201},
		Dst: dst, SrcMAC: l.Client.MAC(), DstMAC: l.Server.MAC(), Knockers: knockers, Gap: knockGap, Seed: 26,
		Payloads: flood.Forgeries(packetLen, 4096, 26)}
	fl.flood = writeFlood(tb, filepath.Join(tb.TempDir(), "spa-flood.pcap"), spec)
	return fl
}

// run starts a server with the scenario's files, replays the flood,
// waits until the server has worked through it, and counts who got in.
func (fl *spaFloodLab) run(tb testing.TB, name, program string) floodResult {
	tb.Helper()
	dir := tb.TempDir()
	opened := filepath.Join(dir, "opened")
	var access strings.Builder
	for i := range fl.stanzas - 1 { // stanzas ahead of the real one, keys of their own
		fmt.Fprintf(&access, "SOURCE ANY\nKEY_BASE64 %s\nHMAC_KEY_BASE64 %s\nCMD_CYCLE_OPEN echo decoy %d $SRC >> %s\nCMD_CYCLE_CLOSE NONE\n\n",
			forgeryKey(tb, 32), forgeryKey(tb, 64), i, opened)
	}
	fmt.Fprintf(&access, "SOURCE ANY\nKEY_BASE64 %s\nHMAC_KEY_BASE64 %s\nREQUIRE_SOURCE_ADDRESS Y\nOPEN_PORTS tcp/22\nCMD_CYCLE_OPEN echo $SRC >> %s\nCMD_CYCLE_CLOSE NONE\n",
		spaFloodKey, spaFloodHMAC, opened)
	for name, text := range map[string]string{"access.conf": access.String(),
		"fwknopd.conf": "PCAP_INTF eth0;\nPCAP_FILTER udp port 62201;\nENABLE_PCAP_PROMISC N;\nFWKNOP_RUN_DIR " + dir + ";\n"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o600); err != nil {
			tb.Fatal(err)
		}
	}
	var p *lab.Proc
	if name == "fwknopd" {
		p = fl.l.Server.Start(program, "-f", "-c", filepath.Join(dir, "fwknopd.conf"), "-a", filepath.Join(dir, "access.conf"),
			"-d", filepath.Join(dir, "digest.cache"), "-p", filepath.Join(dir, "fwknopd.pid"))
		p.WaitOutput(tb, "Starting fwknopd main event loop", 15*time.Second)
	} else {
		p = fl.l.Server.Start(program, "--fwknopd-conf", filepath.Join(dir, "fwknopd.conf"), "--access-conf", filepath.Join(dir, "access.conf"),
			"--status-socket", filepath.Join(dir, "status.sock"))
		// Its log reaches stderr (not a terminal): capturing from now on.
		p.WaitOutput(tb, "listening on eth0", 10*time.Second)
	}
	defer p.Stop()
	r := measureFlood(tb, name, p.Pid(), func() string { return replay(tb, fl.l.Client, fl.flood, fl.pps) })
	if name != "fwknopd" { // where ours lost packets, from knockd status
		out, err := fl.l.Server.Command(tb.Context(), program, "status", "--json", "--socket", filepath.Join(dir, "status.sock")).Output()
		var st struct {
			Counters struct{ KernelDrops, SPADropped uint64 } `json:"counters"`
		}
		if err == nil && json.Unmarshal(out, &st) == nil {
			r.drops = fmt.Sprintf("kernel %d, SPA queue %d", st.Counters.KernelDrops, st.Counters.SPADropped)
		}
	}
	// The stanzas' commands run in the background: give the last a moment.
	time.Sleep(500 * time.Millisecond)
	in := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(readFile(opened)), "\n") {
		switch {
		case line == "":
		case fl.real[line] && !in[line]:
			in[line] = true
			r.opened++
		case !fl.real[line]:
			r.spoofedIn++
		}
	}
	return r
}

// forgeryKey is n random bytes of key, in base64.
func forgeryKey(tb testing.TB, n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		tb.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(b)
}
