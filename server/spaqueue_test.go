package server

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/knocktools/knock"
)

// floodPacket is an SPA-port packet from src: the queues look at nothing
// else.
func floodPacket(src netip.Addr, now time.Time) *Packet {
	return &Packet{Src: src, Dst: me, Proto: knock.UDP, Port: 62201, SPort: 40000, Data: []byte("forged"), Time: now}
}

// TestSPAQueuesNewSourcesFirst: under a flood from a hundred sources that
// fills both queues, a real client's packet from an address not seen
// lately is queued and decided before the flood's backlog; a flood from
// ever-new addresses fills the new sources' queue and spills into the
// other.
func TestSPAQueuesNewSourcesFirst(t *testing.T) {
	now := time.Now()
	real := netip.MustParseAddr("10.77.250.1")
	tests := []struct {
		name     string
		src      func(i int) netip.Addr
		accepted int
	}{
		// The hundred's first packets are new (100 in the new sources'
		// queue), then the other queue fills.
		{"a hundred sources", func(i int) netip.Addr { return netip.AddrFrom4([4]byte{10, 77, 1, byte(i % 100)}) }, 100 + spaSeenLen},
		{"ever-new sources", func(i int) netip.Addr { return netip.AddrFrom4([4]byte{10, 77, byte(2 + i/256), byte(i)}) }, spaFreshLen + spaSeenLen},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := newSPAQueues()
			q.recent.hash = testHash // no false positive on the real client by chance
			accepted := 0
			for i := range 5000 {
				if q.put(nil, floodPacket(tt.src(i), now)) {
					accepted++
				}
			}
			if accepted != tt.accepted {
				t.Fatalf("the flood: %d packets queued, want %d", accepted, tt.accepted)
			}
			ok := q.put(nil, floodPacket(real, now))
			if tt.name == "ever-new sources" {
				// Its queue is full too: this is where a flood of
				// ever-new sources wins.
				if ok {
					t.Fatalf("the real client's packet queued beyond both queues")
				}
				return
			}
			if !ok {
				t.Fatal("the real client's packet was dropped")
			}
			for n := 1; ; n++ {
				job, ok := q.next(context.Background())
				if !ok {
					t.Fatal("next ended")
				}
				if job.h.Src == real {
					if n != 101 {
						t.Fatalf("the real client's packet decided %dth, want 101st (after the hundred sources' first)", n)
					}
					break
				}
			}
		})
	}
}

// TestSPAQueuesCopyAndEnd: a queued packet is a copy (the capture's
// buffer moves on), next ends with its context, and queueing allocates
// nothing once the pool is warm.
func TestSPAQueuesCopyAndEnd(t *testing.T) {
	q := newSPAQueues()
	p := floodPacket(srcA, time.Now())
	buf := []byte("spa-bytes")
	p.Data = buf
	q.put(nil, p)
	copy(buf, "xxxxxxxxx")
	job, _ := q.next(context.Background())
	if string(job.h.Data) != "spa-bytes" {
		t.Fatalf("queued data %q, want the packet's copy", job.h.Data)
	}
	spaJobs.Put(job)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, ok := q.next(ctx); ok {
		t.Fatal("next went on after its context ended")
	}
	if n := testing.AllocsPerRun(1000, func() {
		q.put(nil, p)
		job, _ := q.next(context.Background())
		spaJobs.Put(job)
	}); n != 0 {
		t.Fatalf("%v allocations a packet queued and taken, want 0", n)
	}
}

// TestRecentSources: an address is seen lately for the rest of its
// generation and the next; generations end by count and by age; new
// addresses are rarely taken for seen ones.
func TestRecentSources(t *testing.T) {
	now := time.Now()
	r := recentSources{hash: testHash}
	old := netip.MustParseAddr("fd77::1:0:0:1")
	if r.saw(old, now) {
		t.Fatal("a first packet taken for one seen lately")
	}
	if !r.saw(old, now) {
		t.Fatal("a second packet not taken for one seen lately")
	}
	addr := func(gen, i int) netip.Addr { // fd77::gen00:0:i
		return netip.AddrFrom16([16]byte{0: 0xfd, 1: 0x77, 11: byte(gen), 12: byte(i >> 24), 13: byte(i >> 16), 14: byte(i >> 8), 15: byte(i)})
	}
	// fill records n new addresses, or (n < 0) as many as fill the
	// current generation (the first may end the one before), and counts
	// those taken for ones seen lately.
	fill := func(gen, n int) (falsePositives int) {
		for i := 0; i < n || n < 0 && (i == 0 || r.n < recentPerGen); i++ {
			if r.saw(addr(gen, i), now) {
				falsePositives++
			}
		}
		return falsePositives
	}
	const full = -1
	fill(0, full) // old's generation
	// The next generation, against the full one behind it.
	if fp := fill(1, 60_000); fp > 60_000/50 {
		t.Fatalf("%d of 60000 new addresses taken for ones seen lately, want under 2%%", fp)
	}
	if !r.saw(old, now) { // and recorded in this one
		t.Fatal("forgotten one generation on")
	}
	fill(2, full)
	fill(3, full)
	if r.saw(old, now) {
		t.Fatal("remembered two generations on")
	}
	// By age: a minute ends a generation, two forget.
	r = recentSources{hash: testHash}
	r.saw(old, now)
	if !r.saw(old, now.Add(recentAge)) {
		t.Fatal("forgotten a minute on")
	}
	if r.saw(old, now.Add(3*recentAge)) {
		t.Fatal("remembered two minutes on")
	}
}

// testHash is a fixed seed, so that no test depends on a random one's luck.
var testHash = addrHash{0x9e3779b97f4a7c15, 0xbf58476d1ce4e5b9, 0x94d049bb133111eb}
