package server

import (
	"slices"

	"golang.org/x/net/bpf"

	"github.com/knocktools/knock"
)

// snapLen is how much of each frame a capture copies: headers are all
// a TCP knock needs. The kernel filter truncates frames to it (its accept
// value); UDP frames keep udpSnapLen, the whole of an SPA packet (whose
// data is up to 1500 bytes) and its headers.
const (
	snapLen    = 256
	udpSnapLen = 2048
)

// The kernel filter compares ports in runs (a run of consecutive ports is
// one range test) and in chunks of at most chunkCompares instructions,
// each with an accept of its own, since a classic BPF conditional jump
// reaches 255 instructions. A protocol whose runs need more than
// maxPortCompares instructions (the kernel takes 4096 in all) passes every
// packet of that protocol, and the userspace filter does the rest.
const (
	chunkCompares   = 200
	maxPortCompares = 1900
)

// oneTimeLookahead is how many of a one-time door's next sequences the
// kernel filter lets through beside the current one. A knocker can only
// start sequence N+k after N+k-1 was used, and every use refills the
// lookahead before the file is rewritten; more than one covers a knocker
// whose packets for several sequences arrive before the server has read
// the first.
const oneTimeLookahead = 4

// Ports returns the TCP and UDP ports of the doors' current sequences and
// of one-time doors' next few.
func Ports(doors []*TrackedDoor) (tcp, udp []uint16) {
	for _, d := range doors {
		if d.Disabled {
			continue
		}
		seqs := append([]knock.Sequence{d.Seq}, d.Next[:min(len(d.Next), oneTimeLookahead)]...)
		for _, seq := range seqs {
			for _, k := range seq {
				if k.Proto == knock.UDP {
					udp = append(udp, k.Port)
				} else {
					tcp = append(tcp, k.Port)
				}
			}
		}
	}
	slices.Sort(tcp)
	slices.Sort(udp)
	return slices.Compact(tcp), slices.Compact(udp)
}

// label is a jump target in a program under construction.
type label int

// asm builds a classic BPF program with symbolic jumps.
type asm struct {
	ins    []bpf.Instruction
	jumps  map[int][2]label // conditional jump index -> (true, false) targets
	always map[int]label    // unconditional jump index -> target
	labels map[label]int
	next   label
}

func newAsm() *asm {
	return &asm{jumps: map[int][2]label{}, always: map[int]label{}, labels: map[label]int{}}
}

func (a *asm) label() label           { a.next++; return a.next }
func (a *asm) mark(l label)           { a.labels[l] = len(a.ins) }
func (a *asm) emit(i bpf.Instruction) { a.ins = append(a.ins, i) }

// jump adds a conditional jump whose targets are labels; a zero label
// means "the next instruction". Targets must lie within 255 instructions.
func (a *asm) jump(cond bpf.JumpTest, val uint32, yes, no label) {
	a.jumps[len(a.ins)] = [2]label{yes, no}
	a.ins = append(a.ins, bpf.JumpIf{Cond: cond, Val: val})
}

// ja adds an unconditional jump, which reaches any distance.
func (a *asm) ja(l label) {
	a.always[len(a.ins)] = l
	a.ins = append(a.ins, bpf.Jump{})
}

func (a *asm) assemble() ([]bpf.RawInstruction, bool) {
	for at, l := range a.always {
		a.ins[at] = bpf.Jump{Skip: uint32(a.labels[l] - at - 1)}
	}
	for at, t := range a.jumps {
		j := a.ins[at].(bpf.JumpIf)
		skip := func(l label) (uint8, bool) {
			if l == 0 {
				return 0, true
			}
			d := a.labels[l] - at - 1
			return uint8(d), d >= 0 && d < 256
		}
		var ok1, ok2 bool
		j.SkipTrue, ok1 = skip(t[0])
		j.SkipFalse, ok2 = skip(t[1])
		if !ok1 || !ok2 {
			return nil, false
		}
		a.ins[at] = j
	}
	raw, err := bpf.Assemble(a.ins)
	return raw, err == nil
}

// Filter compiles the kernel-side filter for a capture of the given link
// type: it passes IPv4 (first fragments only) and IPv6 TCP and UDP packets
// to the doors' ports and drops everything else before it is copied to us.
// It is a superset of the doors' exact test (addresses and TCP flags are
// checked in userspace). ok is false for link types it does not know.
func Filter(link LinkType, tcp, udp []uint16) ([]bpf.RawInstruction, bool) {
	a := newAsm()
	drop, v4, v6 := a.label(), a.label(), a.label()
	tcpPorts, udpPorts := a.label(), a.label()
	var base uint32
	switch link {
	case LinkTypeEthernet:
		base = 14
		a.emit(bpf.LoadAbsolute{Off: 12, Size: 2})
		a.jump(bpf.JumpEqual, 0x0800, v4, 0)
		a.jump(bpf.JumpEqual, 0x86dd, v6, drop)
	case LinkTypeRaw:
		a.emit(bpf.LoadAbsolute{Off: 0, Size: 1})
		a.emit(bpf.ALUOpConstant{Op: bpf.ALUOpShiftRight, Val: 4})
		a.jump(bpf.JumpEqual, 4, v4, 0)
		a.jump(bpf.JumpEqual, 6, v6, drop)
	default:
		return nil, false
	}
	// IPv4: skip later fragments, find the header length, load the port.
	tcp4, udp4 := a.label(), a.label()
	a.mark(v4)
	a.emit(bpf.LoadAbsolute{Off: base + 6, Size: 2})
	a.jump(bpf.JumpBitsSet, 0x1fff, drop, 0)
	a.emit(bpf.LoadAbsolute{Off: base + 9, Size: 1})
	a.jump(bpf.JumpEqual, 6, tcp4, 0)
	a.jump(bpf.JumpEqual, 17, udp4, drop)
	a.mark(tcp4)
	a.emit(bpf.LoadMemShift{Off: base})
	a.emit(bpf.LoadIndirect{Off: base + 2, Size: 2})
	a.ja(tcpPorts)
	a.mark(udp4)
	a.emit(bpf.LoadMemShift{Off: base})
	a.emit(bpf.LoadIndirect{Off: base + 2, Size: 2})
	a.ja(udpPorts)
	// IPv6: the first next header only, as knockd reads it.
	tcp6, udp6 := a.label(), a.label()
	a.mark(v6)
	a.emit(bpf.LoadAbsolute{Off: base + 6, Size: 1})
	a.jump(bpf.JumpEqual, 6, tcp6, 0)
	a.jump(bpf.JumpEqual, 17, udp6, drop)
	a.mark(tcp6)
	a.emit(bpf.LoadAbsolute{Off: base + 42, Size: 2})
	a.ja(tcpPorts)
	a.mark(udp6)
	a.emit(bpf.LoadAbsolute{Off: base + 42, Size: 2})
	a.ja(udpPorts)
	a.mark(drop)
	a.emit(bpf.RetConstant{Val: 0})
	// The port lists come last, in chunks with accepts of their own, so
	// every conditional jump stays short.
	for _, set := range []struct {
		at    label
		ports []uint16
		snap  uint32
	}{{tcpPorts, tcp, snapLen}, {udpPorts, udp, udpSnapLen}} {
		a.mark(set.at)
		runs := portRuns(set.ports)
		if compares(runs) > maxPortCompares {
			a.emit(bpf.RetConstant{Val: set.snap})
			continue
		}
		accept, n := a.label(), 0
		for _, r := range runs {
			if n >= chunkCompares {
				next := a.label()
				a.ja(next)
				a.mark(accept)
				a.emit(bpf.RetConstant{Val: set.snap})
				a.mark(next)
				accept, n = a.label(), 0
			}
			if r[0] == r[1] {
				a.jump(bpf.JumpEqual, uint32(r[0]), accept, 0)
				n++
				continue
			}
			after := a.label()
			a.jump(bpf.JumpGreaterOrEqual, uint32(r[0]), 0, after)
			a.jump(bpf.JumpGreaterThan, uint32(r[1]), 0, accept)
			a.mark(after)
			n += 2
		}
		a.emit(bpf.RetConstant{Val: 0})
		a.mark(accept)
		a.emit(bpf.RetConstant{Val: set.snap})
	}
	return a.assemble()
}

// portRuns groups sorted, distinct ports into runs of consecutive ones,
// each [first, last].
func portRuns(ports []uint16) [][2]uint16 {
	var runs [][2]uint16
	for _, p := range ports {
		if n := len(runs); n > 0 && runs[n-1][1]+1 == p && p != 0 {
			runs[n-1][1] = p
			continue
		}
		runs = append(runs, [2]uint16{p, p})
	}
	return runs
}

// compares is the instructions runs take to test.
func compares(runs [][2]uint16) int {
	n := 0
	for _, r := range runs {
		n++
		if r[0] != r[1] {
			n++
		}
	}
	return n
}
