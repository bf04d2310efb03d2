package server

import (
	"bytes"
	"io"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/knocktools/knock"
)

func TestLineBudget(t *testing.T) {
	b := lineBudget{perSecond: 2}
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	steps := []struct {
		ms      int
		ok      bool
		dropped int
	}{
		{0, true, 0}, {100, true, 0}, {200, false, 0}, {999, false, 0}, // two a second, two held back
		{1000, true, 2}, {1500, true, 0}, // a new second reports them
		{3000, true, 0}, {3001, true, 0}, {3002, false, 0},
	}
	for i, s := range steps {
		ok, dropped := b.allow(at(s.ms))
		if ok != s.ok || dropped != s.dropped {
			t.Fatalf("step %d (%dms): allow = %v, %d; want %v, %d", i, s.ms, ok, dropped, s.ok, s.dropped)
		}
	}
	if n := b.roll(at(4000)); n != 1 {
		t.Fatalf("roll reported %d held back, want 1", n)
	}
	unlimited := lineBudget{}
	for i := range 1000 {
		if ok, _ := unlimited.allow(t0); !ok {
			t.Fatalf("no limit held back line %d", i)
		}
	}
}

// A flood of spoofed first knocks writes at most the budget of Stage lines
// a second, then one line with the count; OPEN SESAME always gets through.
func TestFloodLogLinesAreCapped(t *testing.T) {
	var logged bytes.Buffer
	srv := newTestServer(t, "[d]\nsequence = 7001,7002\n", &logged)
	srv.SetLocal([]netip.Addr{me})
	srv.SetLogLimit(10)
	hit := func(src netip.Addr, port uint16, at time.Time) {
		h := Packet{Src: src, Dst: me, Proto: knock.TCP, Port: port, Flags: knock.SYN, Time: at}
		srv.Handle(&h)
	}
	for i := range 1000 {
		hit(netip.AddrFrom4([4]byte{10, 78, byte(i >> 8), byte(i)}), 7001, t0.Add(time.Duration(i)*time.Millisecond/2))
	}
	real := netip.MustParseAddr("10.77.0.1")
	hit(real, 7001, t0.Add(600*time.Millisecond))
	hit(real, 7002, t0.Add(700*time.Millisecond))
	srv.Tick(t0.Add(time.Second))
	out := logged.String()
	if n := strings.Count(out, ": Stage 1"); n != 10 {
		t.Errorf("%d Stage 1 lines, want 10:\n%s", n, out)
	}
	if !strings.Contains(out, "10.77.0.1: d: OPEN SESAME") {
		t.Errorf("no OPEN SESAME for the real knocker:\n%s", out)
	}
	if !strings.Contains(out, "992 Stage and timeout lines not logged in one second (more than 10: a flood?)") {
		t.Errorf("no count of the lines held back:\n%s", out)
	}
}

// A Stage line past the budget is only counted: no formatting, no
// allocation, even with a log to write to.
func TestCappedLinesAllocateNothing(t *testing.T) {
	srv := newTestServer(t, "[d]\nsequence = 7001,7002\n", io.Discard)
	srv.SetLocal([]netip.Addr{me})
	srv.SetLogLimit(1)
	srv.tracker.MaxSources = 256 // a full table, recycling its records
	i := 0
	next := func() {
		i++
		h := Packet{Src: netip.AddrFrom4([4]byte{10, 78, byte(i >> 8), byte(i)}), Dst: me, Proto: knock.TCP, Port: 7001,
			Flags: knock.SYN, Time: t0.Add(time.Duration(i) * time.Microsecond)}
		srv.Handle(&h)
	}
	for range 2000 { // fill the table and the free list
		next()
	}
	if n := testing.AllocsPerRun(1000, next); n != 0 {
		t.Errorf("%.1f allocations per capped Stage line, want 0", n)
	}
}
