package server

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/knocktools/knock"
	"github.com/knocktools/knock/knockdconf"
)

var (
	t0   = time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	me   = netip.MustParseAddr("10.77.0.2")
	me6  = netip.MustParseAddr("fd77::2")
	srcA = netip.MustParseAddr("10.77.0.1")
	srcB = netip.MustParseAddr("10.77.0.3")
)

func testDoors(t *testing.T, conf string) []*TrackedDoor {
	t.Helper()
	c, err := knockdconf.Parse("test.conf", []byte(conf))
	if err != nil {
		t.Fatal(err)
	}
	var out []*TrackedDoor
	for _, d := range c.Doors {
		out = append(out, &TrackedDoor{Door: d, Seq: d.Sequence})
	}
	return out
}

// pkt is a compact packet for tables: "A 7000", "B 8000/udp", "A 7000 fin",
// "A 7000 @12s" (time after t0), "A>fd77::2 7000".
func pkt(t *testing.T, s string) Packet {
	t.Helper()
	f := strings.Fields(s)
	h := Packet{Dst: me, Proto: knock.TCP, Flags: knock.SYN, Time: t0}
	who, dst, hasDst := strings.Cut(f[0], ">")
	switch who {
	case "A":
		h.Src = srcA
	case "B":
		h.Src = srcB
	case "A6":
		h.Src = netip.MustParseAddr("fd77::1")
	}
	if hasDst {
		h.Dst = netip.MustParseAddr(dst)
	}
	port, proto, _ := strings.Cut(f[1], "/")
	p, err := knock.ParsePort(port)
	if err != nil {
		t.Fatal(err)
	}
	h.Port = p
	if proto == "udp" {
		h.Proto, h.Flags = knock.UDP, 0
	}
	for _, x := range f[2:] {
		if d, ok := strings.CutPrefix(x, "@"); ok {
			dur, err := time.ParseDuration(d)
			if err != nil {
				t.Fatal(err)
			}
			h.Time = t0.Add(dur)
			continue
		}
		fl, err := knock.ParseTCPFlags(x)
		if err != nil {
			t.Fatal(err)
		}
		h.Flags = fl
	}
	return h
}

func run(t *testing.T, tr *Tracker, packets []string) []string {
	var got []string
	for _, s := range packets {
		h := pkt(t, s)
		tr.Feed(&h, expandGroups(tr, func(e Event) {
			name := tr.Doors[e.Door].Name
			switch e.Kind {
			case EventStage:
				got = append(got, fmt.Sprintf("%s %s stage %d", e.Src, name, e.Stage))
			case EventOpen:
				got = append(got, fmt.Sprintf("%s %s OPEN", e.Src, name))
			case EventTimeout:
				got = append(got, fmt.Sprintf("%s %s timeout %d", e.Src, name, e.Stage))
			}
		}))
	}
	return got
}

// expandGroups turns a door group's events into one per door, as
// Server.event logs them.
func expandGroups(tr *Tracker, emit func(Event)) func(Event) {
	return func(e Event) {
		if e.Group == 0 {
			emit(e)
			return
		}
		for _, d := range tr.GroupDoors(e.Group - 1) {
			e.Door, e.Group = int(d), 0
			emit(e)
		}
	}
}

func opened(events []string) []string {
	var out []string
	for _, e := range events {
		if strings.HasSuffix(e, " OPEN") {
			out = append(out, e)
		}
	}
	return out
}

const trackerConf = `
[one]
sequence = 7001,7002,7003
seq_timeout = 10
[mixed]
sequence = 8001,8002:udp,8003
[fin]
sequence = 9001,9002
tcpflags = fin,!ack
[shareA]
sequence = 6001,6002,6003
[shareB]
sequence = 6001,6002,6004
[targeted]
sequence = 5001,5002
target = 10.77.0.99
`

func TestTrackerKnockdSemantics(t *testing.T) {
	tests := []struct {
		name    string
		packets []string
		want    []string // doors opened, in order
	}{
		{"in order", []string{"A 7001", "A 7002", "A 7003"}, []string{"10.77.0.1 one OPEN"}},
		{"wrong order", []string{"A 7002", "A 7001", "A 7003"}, nil},
		{"repeated first port fails", []string{"A 7001", "A 7001", "A 7002", "A 7003"}, nil},
		{"restart after failure", []string{"A 7001", "A 7003", "A 7001", "A 7002", "A 7003"}, []string{"10.77.0.1 one OPEN"}},
		{"another door's port mid-sequence fails", []string{"A 7001", "A 8001", "A 7002", "A 7003"}, nil},
		{"ports outside every door are invisible", []string{"A 7001", "A 1234", "A 7002", "A 1234/udp", "A 7003"}, []string{"10.77.0.1 one OPEN"}},
		{"udp/tcp mix", []string{"A 8001", "A 8002/udp", "A 8003"}, []string{"10.77.0.1 mixed OPEN"}},
		{"wrong protocol fails", []string{"A 8001", "A 8002", "A 8003"}, nil},
		{"flags fin opens fin,!ack door", []string{"A 9001 fin", "A 9002 fin"}, []string{"10.77.0.1 fin OPEN"}},
		{"syn knocks are invisible to fin door", []string{"A 9001", "A 9002"}, nil},
		{"fin+ack fails the negation and is ignored", []string{"A 9001 fin", "A 9002 fin+ack", "A 9002 fin"}, []string{"10.77.0.1 fin OPEN"}},
		{"flag noise does not break other attempts", []string{"A 7001", "A 9001 syn", "A 7002", "A 7003"}, []string{"10.77.0.1 one OPEN"}},
		{"timeout", []string{"A 7001", "A 7002 @5s", "A 7003 @11s"}, nil},
		{"just inside timeout", []string{"A 7001", "A 7002 @5s", "A 7003 @9999ms"}, []string{"10.77.0.1 one OPEN"}},
		{"shared prefix A", []string{"A 6001", "A 6002", "A 6003"}, []string{"10.77.0.1 shareA OPEN"}},
		{"shared prefix B", []string{"A 6001", "A 6002", "A 6004"}, []string{"10.77.0.1 shareB OPEN"}},
		{"interleaved knockers both open", []string{"A 7001", "B 7001", "A 7002", "B 7002", "A 7003", "B 7003"},
			[]string{"10.77.0.1 one OPEN", "10.77.0.3 one OPEN"}},
		{"interleaved, one fails", []string{"A 7001", "B 7001", "B 7003", "A 7002", "A 7003"}, []string{"10.77.0.1 one OPEN"}},
		{"targeted door ignores our own address", []string{"A 5001", "A 5002"}, nil},
		{"targeted door opens for its target", []string{"A>10.77.0.99 5001", "A>10.77.0.99 5002"}, []string{"10.77.0.1 targeted OPEN"}},
		{"other destinations are invisible", []string{"A 7001", "A>10.77.0.50 7002", "A 7002", "A 7003"}, []string{"10.77.0.1 one OPEN"}},
		{"ipv6", []string{"A6>fd77::2 7001", "A6>fd77::2 7002", "A6>fd77::2 7003"}, []string{"fd77::1 one OPEN"}},
		{"opens twice in a row", []string{"A 7001", "A 7002", "A 7003", "A 7001", "A 7002", "A 7003"},
			[]string{"10.77.0.1 one OPEN", "10.77.0.1 one OPEN"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := NewTracker(testDoors(t, trackerConf), func(a netip.Addr) bool { return a == me || a == me6 })
			events := run(t, tr, tt.packets)
			if got := opened(events); strings.Join(got, "|") != strings.Join(tt.want, "|") {
				t.Fatalf("opened %q, want %q\nevents:\n%s", got, tt.want, strings.Join(events, "\n"))
			}
		})
	}
}

// Allow_Repeats: a knock on the port of the stage just reached is
// ignored; any other wrong knock still fails the attempt. The same
// packets without the directive behave as knockd 0.8 (the cases measured
// with Debian's knockd: a repeated middle or first port fails).
func TestTrackerAllowRepeats(t *testing.T) {
	conf := `
[rep]
sequence = 7601,7602,7603
allow_repeats = yes
[plain]
sequence = 7701,7702,7703
[double]
sequence = 7801,7801,7802
allow_repeats = yes
[mixed]
sequence = 7901,7901:udp,7902
allow_repeats = yes
`
	tests := []struct {
		name    string
		packets []string
		want    []string
	}{
		{"a repeated middle port", []string{"A 7601", "A 7602", "A 7602", "A 7603"}, []string{"10.77.0.1 rep OPEN"}},
		{"a repeated first port", []string{"A 7601", "A 7601", "A 7602", "A 7603"}, []string{"10.77.0.1 rep OPEN"}},
		{"every port three times", []string{"A 7601", "A 7601", "A 7601", "A 7602", "A 7602", "A 7602", "A 7603"}, []string{"10.77.0.1 rep OPEN"}},
		{"an earlier port again still fails", []string{"A 7601", "A 7602", "A 7601", "A 7603"}, nil},
		{"another wrong port still fails", []string{"A 7601", "A 7603", "A 7602", "A 7603"}, nil},
		{"without the directive: middle", []string{"A 7701", "A 7702", "A 7702", "A 7703"}, nil},
		{"without the directive: first", []string{"A 7701", "A 7701", "A 7702", "A 7703"}, nil},
		{"a sequence that repeats a port advances on it", []string{"A 7801", "A 7801", "A 7802"}, []string{"10.77.0.1 double OPEN"}},
		{"and tolerates a third", []string{"A 7801", "A 7801", "A 7801", "A 7802"}, []string{"10.77.0.1 double OPEN"}},
		{"a repeat is the same protocol too", []string{"A 7901", "A 7901", "A 7901/udp", "A 7902"}, []string{"10.77.0.1 mixed OPEN"}},
		{"the other protocol is not a repeat", []string{"A 7901", "A 7901/udp", "A 7901/udp", "A 7902"}, []string{"10.77.0.1 mixed OPEN"}},
		{"repeats do not stretch the timeout", []string{"A 7601", "A 7602", "A 7602 @20s", "A 7603 @30s"}, nil},
		{"the open door's last port again starts nothing", []string{"A 7601", "A 7602", "A 7603", "A 7603"}, []string{"10.77.0.1 rep OPEN"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := NewTracker(testDoors(t, conf), func(a netip.Addr) bool { return a == me })
			events := run(t, tr, tt.packets)
			if got := opened(events); strings.Join(got, "|") != strings.Join(tt.want, "|") {
				t.Fatalf("opened %q, want %q\nevents:\n%s", got, tt.want, strings.Join(events, "\n"))
			}
		})
	}
}

func TestTrackerStagesAndTimeoutEvents(t *testing.T) {
	tr := NewTracker(testDoors(t, trackerConf), func(a netip.Addr) bool { return a == me })
	got := run(t, tr, []string{"A 7001", "A 7002 @1s", "A 7003 @20s"})
	want := []string{"10.77.0.1 one stage 1", "10.77.0.1 one stage 2", "10.77.0.1 one timeout 2"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("got %q, want %q", got, want)
	}
	if n := tr.Tracked(); n != 0 {
		t.Fatalf("%d sources still tracked", n)
	}
}

func TestTrackerBoundsSources(t *testing.T) {
	tr := NewTracker(testDoors(t, trackerConf), func(netip.Addr) bool { return true })
	tr.MaxSources = 100
	for i := range 10000 {
		h := Packet{Src: netip.AddrFrom4([4]byte{10, 78, byte(i >> 8), byte(i)}), Dst: me, Proto: knock.TCP,
			Port: 7001, Flags: knock.SYN, Time: t0.Add(time.Duration(i) * time.Millisecond)}
		tr.Feed(&h, func(Event) {})
	}
	if n := tr.Tracked(); n > 100 {
		t.Fatalf("%d sources tracked, cap 100", n)
	}
	// A real knocker after the flood still gets through.
	got := opened(run(t, tr, []string{"A 7001 @11s", "A 7002 @11s", "A 7003 @11s"}))
	if len(got) != 1 {
		t.Fatalf("real knock after flood: %v", got)
	}
}

func TestTrackerFloodCannotEvictAProgressedKnocker(t *testing.T) {
	tr := NewTracker(testDoors(t, trackerConf), func(netip.Addr) bool { return true })
	tr.MaxSources = 100
	run(t, tr, []string{"A 7001", "A 7002"}) // a real knocker, two knocks in
	for i := range 10000 {
		h := Packet{Src: netip.AddrFrom4([4]byte{10, 78, byte(i >> 8), byte(i)}), Dst: me, Proto: knock.TCP,
			Port: 7001, Flags: knock.SYN, Time: t0.Add(time.Duration(i) * 100 * time.Microsecond)}
		tr.Feed(&h, func(Event) {})
	}
	if n := tr.Tracked(); n > 100 {
		t.Fatalf("%d sources tracked, cap 100", n)
	}
	if got := opened(run(t, tr, []string{"A 7003 @2s"})); len(got) != 1 {
		t.Fatalf("the flood pushed out a knocker two knocks in: %v", got)
	}
}

func BenchmarkTrackerHit(b *testing.B) {
	c, _ := knockdconf.Parse("b.conf", []byte(trackerConf))
	var doors []*TrackedDoor
	for _, d := range c.Doors {
		doors = append(doors, &TrackedDoor{Door: d, Seq: d.Sequence})
	}
	tr := NewTracker(doors, func(a netip.Addr) bool { return a == me })
	hits := make([]Packet, 1024)
	for i := range hits {
		hits[i] = Packet{Src: netip.AddrFrom4([4]byte{10, 78, byte(i >> 8), byte(i)}), Dst: me, Proto: knock.TCP,
			Port: uint16(7001 + i%3), Flags: knock.SYN}
	}
	emit := func(Event) {}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		h := hits[i%len(hits)]
		h.Time = t0.Add(time.Duration(i) * time.Microsecond)
		tr.Feed(&h, emit)
	}
}

// floodFirstKnocks sends n spoofed first knocks at port from ever new
// sources, 100µs apart.
func floodFirstKnocks(tr *Tracker, port uint16, n int) {
	for i := range n {
		h := Packet{Src: netip.AddrFrom4([4]byte{10, 78, byte(i >> 8), byte(i)}), Dst: me, Proto: knock.TCP,
			Port: port, Flags: knock.SYN, Time: t0.Add(time.Duration(i) * 100 * time.Microsecond)}
		tr.Feed(&h, func(Event) {})
	}
}

func TestTrackerFloodAtOneDoorSparesTheOthers(t *testing.T) {
	tr := NewTracker(testDoors(t, trackerConf), func(netip.Addr) bool { return true })
	tr.MaxSources = 100
	run(t, tr, []string{"B 8001"}) // a real knocker at "mixed", one knock in
	floodFirstKnocks(tr, 7001, 10000)
	if n := tr.Tracked(); n > 100 {
		t.Fatalf("%d sources tracked, cap 100", n)
	}
	if got := opened(run(t, tr, []string{"B 8002/udp @1s", "B 8003 @1s"})); len(got) != 1 {
		t.Fatalf("a flood at door one pushed out a knocker at door mixed: %v", got)
	}
	// The per-door counts, which decide who is evicted, match the table.
	var held int
	for _, n := range tr.perDoor {
		held += n
	}
	if held != tr.Tracked() {
		t.Fatalf("per-door counts add up to %d, %d sources hold one attempt each", held, tr.Tracked())
	}
}

func TestTrackerPerDoorCountsFollowAttempts(t *testing.T) {
	tr := NewTracker(testDoors(t, trackerConf), func(netip.Addr) bool { return true })
	check := func(step string, want ...int) {
		t.Helper()
		for i, w := range want {
			if tr.perDoor[i] != w {
				t.Fatalf("after %s: per-door %v, want %v", step, tr.perDoor[:len(want)], want)
			}
		}
	}
	// shareA and shareB are a door group: their first knock starts one
	// attempt, counted for the group; the second splits it.
	group := len(tr.Doors)
	run(t, tr, []string{"A 6001"})
	check("a shared first knock", 0, 0, 0, 0, 0)
	if tr.perDoor[group] != 1 {
		t.Fatalf("the group holds %d attempts, want 1", tr.perDoor[group])
	}
	run(t, tr, []string{"A 6002"})
	check("the second knock", 0, 0, 0, 1, 1)
	run(t, tr, []string{"A 6003"}) // shareA opens, shareB fails
	check("opening one of two", 0, 0, 0, 0, 0)
	if tr.perDoor[group] != 0 {
		t.Fatalf("the group still holds %d attempts", tr.perDoor[group])
	}
	run(t, tr, []string{"A 7001", "B 7001"})
	check("two first knocks", 2)
	run(t, tr, []string{"A 7002 @30s"}) // both time out (the longest Seq_Timeout is 25s)
	check("a timeout", 0)
	run(t, tr, []string{"B 7001 @31s"})
	tr.EndAttempts(0)
	check("a door's sequence changed", 0)
	if tr.Tracked() != 0 {
		t.Fatalf("%d sources left", tr.Tracked())
	}
}

// groupConf has door groups of every kind: two doors sharing a prefix,
// three sharing only the first knock, a pair that allows repeats (one of
// them repeating its first port), and doors that look alike but differ in
// flags or timeout, so they are no group.
const groupConf = `
[a]
sequence = 6001,6002,6003
[b]
sequence = 6001,6002,6004
[c]
sequence = 6001,6005
[ra]
sequence = 7001,7002
allow_repeats = yes
[rb]
sequence = 7001,7001,7003
allow_repeats = yes
[fin]
sequence = 6001,6003
tcpflags = fin
[slow]
sequence = 6001,6004
seq_timeout = 60
[udp]
sequence = 6001:udp,6002
`

// ungrouped is the tracker without door groups: the reference a grouped
// tracker must match.
func ungrouped(t *Tracker) *Tracker {
	t.groups = nil
	t.starters = t.starters[:0]
	for i := range t.Doors {
		t.groupOf[i] = -1
		t.starters = append(t.starters, int32(i))
	}
	t.perDoor = make([]int, len(t.Doors))
	return t
}

// FuzzTrackerGroups holds a tracker with door groups to one without, on
// any packets: the same doors open, and every packet gives the same
// Stage and timeout events (in whatever order).
func FuzzTrackerGroups(f *testing.F) {
	f.Add([]byte{0, 0, 0, 1, 0, 2})
	f.Add([]byte{0, 0, 1, 0, 0, 4, 1, 4, 0, 0, 0, 0, 0, 5})
	f.Add([]byte{2, 6, 2, 6, 2, 7})
	ports := []knock.Knock{{Port: 6001}, {Port: 6002}, {Port: 6003}, {Port: 6004}, {Port: 6005},
		{Port: 7001}, {Port: 7002}, {Port: 7003}, {Port: 6001, Proto: knock.UDP}}
	f.Fuzz(func(t *testing.T, data []byte) {
		doors := testDoors(t, groupConf)
		grouped := NewTracker(doors, nil)
		if len(grouped.groups) != 2 {
			t.Fatalf("%d groups, want 2 (a b c; ra rb; fin, slow and udp alone)", len(grouped.groups))
		}
		ref := ungrouped(NewTracker(testDoors(t, groupConf), nil))
		at := t0
		for i := 0; i+1 < len(data); i += 2 {
			src := netip.AddrFrom4([4]byte{10, 77, 0, 1 + data[i]&3})
			k := ports[int(data[i+1]&0x0f)%len(ports)]
			flags := knock.SYN
			if data[i]&4 != 0 {
				flags = knock.FIN
			}
			at = at.Add(time.Duration(data[i]>>3) * 3 * time.Second)
			h := Packet{Src: src, Dst: me, Proto: k.Proto, Port: k.Port, Flags: flags, Time: at}
			if k.Proto == knock.UDP {
				h.Flags = 0
			}
			record := func(tr *Tracker, out *[]string) func(Event) {
				return expandGroups(tr, func(e Event) {
					*out = append(*out, fmt.Sprintf("%d %s %s %d", e.Kind, e.Src, tr.Doors[e.Door].Name, e.Stage))
				})
			}
			var got, want []string
			h2 := h
			grouped.Feed(&h, record(grouped, &got))
			ref.Feed(&h2, record(ref, &want))
			slices.Sort(got)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Fatalf("packet %d (%s %s/%s %v): grouped %q, ungrouped %q", i/2, src, k.Proto, itoa(int(k.Port)), flags, got, want)
			}
		}
		if grouped.Tracked() != ref.Tracked() {
			t.Fatalf("tracked %d, ungrouped %d", grouped.Tracked(), ref.Tracked())
		}
	})
}

// A source that knocks the first ports of many doors holds an attempt at
// each, but the table holds at most MaxAttemptsPerKnocker x MaxSources
// attempts in all: a flood that sends each spoofed source to every first
// port (here 500 sources, 20 doors, a table of 64) is bounded as one that
// sends it to one, and a real knocker still gets in.
func TestTrackerBoundsAttempts(t *testing.T) {
	var conf strings.Builder
	for i := range 20 {
		fmt.Fprintf(&conf, "[d%d]\nsequence = %d,%d\nseq_timeout = 5\n", i, 6000+i, 7000+i)
	}
	tr := NewTracker(testDoors(t, conf.String()), nil)
	tr.MaxSources = 64
	at := t0
	for src := range 500 {
		a := netip.AddrFrom4([4]byte{10, 77, byte(1 + src/250), byte(src % 250)})
		for i := range 20 {
			h := Packet{Src: a, Dst: me, Proto: knock.TCP, Port: uint16(6000 + i), Flags: knock.SYN, Time: at}
			tr.Feed(&h, func(Event) {})
		}
		if tr.held > MaxAttemptsPerKnocker*tr.MaxSources+1 {
			t.Fatalf("after source %d: %d attempts held, bound %d", src, tr.held, MaxAttemptsPerKnocker*tr.MaxSources)
		}
		at = at.Add(time.Millisecond)
	}
	sum := 0
	for _, n := range tr.perDoor {
		sum += n
	}
	if sum != tr.held {
		t.Fatalf("per-door counts add up to %d, held %d", sum, tr.held)
	}
	var got []string
	for _, s := range []string{"A 6007", "A 7007"} {
		h := pkt(t, s)
		h.Time = at
		tr.Feed(&h, func(e Event) {
			if e.Kind == EventOpen {
				got = append(got, tr.Doors[e.Door].Name)
			}
		})
	}
	if len(got) != 1 || got[0] != "d7" {
		t.Fatalf("a real knocker after the flood opened %v", got)
	}
}
