package server

import (
	"context"
	"net/netip"
	"runtime"
	"sync"
	"time"
	"unsafe"

	"github.com/knocktools/knock/spadoor"
)

// A flood of forged SPA packets costs the workers an HMAC per stanza each;
// when they cannot keep up, their queue fills and what comes past it is
// dropped, and which packets are dropped decides who gets in. A real
// client sends one packet, from an address that has sent nothing lately;
// a flood's sources send again and again (but for a flood from ever-new
// spoofed addresses, which this cannot tell from real clients). So the
// workers decide the packets of sources not seen lately first, from a
// queue of their own, and the others as they can (late, while new
// sources keep the workers busy: the age check refuses what waited too
// long, as it refuses a packet sent long ago). Under such a flood the
// real clients get in as long as the new sources alone do not exceed what
// the workers decide (TestSPAQueuesNewSourcesFirst, BenchmarkLabSPAFlood).

// spaQueues are the SPA workers' two queues and the record of the sources
// seen lately that chooses between them.
type spaQueues struct {
	fresh  chan *spaJob // packets of sources not seen lately
	seen   chan *spaJob // the others
	recent recentSources
}

// Queue lengths: packets of 1.5 KiB each, milliseconds of a flood (the
// capture's ring holds more); past them, packets are dropped at once
// rather than read late, as the kernel drops what the ring cannot hold.
const (
	spaFreshLen = 128
	spaSeenLen  = 1024
)

// SPAQueueBytes is what the SPA workers' queues and their record of
// sources hold at most, full.
const SPAQueueBytes = (spaFreshLen+spaSeenLen)*int(unsafe.Sizeof(spaJob{})) + 2*recentBits/8

// spaJob is an SPA packet on its way to a worker, its data copied out of
// the capture's buffer.
type spaJob struct {
	sp  *SPA
	h   Packet
	buf [spadoor.MaxData + 1]byte
}

var spaJobs = sync.Pool{New: func() any { return new(spaJob) }}

func newSPAQueues() *spaQueues {
	return &spaQueues{fresh: make(chan *spaJob, spaFreshLen), seen: make(chan *spaJob, spaSeenLen), recent: recentSources{hash: newAddrHash()}}
}

// put copies h into a job on the queue its source calls for (a new
// source's packet goes to the other queue when its own is full), and
// reports false when there is no room: the packet is dropped. Called by
// one goroutine at a time (with the server's lock held).
func (q *spaQueues) put(sp *SPA, h *Packet) bool {
	job := spaJobs.Get().(*spaJob)
	job.sp, job.h = sp, *h
	data := h.Data
	if len(data) > len(job.buf) {
		data = data[:len(job.buf)] // too long for SPA either way
	}
	job.h.Data = append(job.buf[:0], data...)
	if !q.recent.saw(h.Src, h.Time) {
		select {
		case q.fresh <- job:
			return true
		default:
		}
	}
	select {
	case q.seen <- job:
		return true
	default:
		spaJobs.Put(job)
		return false
	}
}

// next is the job a worker decides next, new sources' first; false when
// ctx has ended.
func (q *spaQueues) next(ctx context.Context) (*spaJob, bool) {
	select {
	case job := <-q.fresh:
		return job, true
	default:
	}
	select {
	case <-ctx.Done():
		return nil, false
	case job := <-q.fresh:
		return job, true
	case job := <-q.seen:
		return job, true
	}
}

// StartSPAWorkers decides SPA packets on n goroutines until ctx ends, so
// that the HMACs a flood of forgeries costs run on n cores while capture
// goes on (n < 2: none, packets are decided where they are captured, as
// a replay of a capture wants them, in order). Call it before serving.
func (s *Server) StartSPAWorkers(ctx context.Context, n int) {
	if n < 2 {
		return
	}
	q := newSPAQueues()
	s.mu.Lock()
	s.spaQueues = q
	s.mu.Unlock()
	for range n {
		go func() {
			for {
				job, ok := q.next(ctx)
				if !ok {
					return
				}
				d := s.decideSPA(job.sp, &job.h)
				s.mu.Lock()
				s.actOnSPA(job.sp, d, &job.h)
				s.mu.Unlock()
				spaJobs.Put(job)
				// Let the capture in: back from its poll, it waits
				// for a free core, and while the workers keep both
				// the kernel drops what its ring cannot hold.
				runtime.Gosched()
			}
		}()
	}
}

// recentSources remembers which addresses sent SPA packets lately, in
// fixed memory: a Bloom filter in two generations. An address is recorded
// in the current one; a generation ends after recentPerGen new addresses
// or recentAge, the current becoming the previous, and an address is seen
// lately while either holds it (two minutes at most). A new address is
// taken for one seen lately 0.5% of the time against a full generation.
type recentSources struct {
	cur, prev []uint64 // recentBits bits each
	n         int      // addresses recorded in cur
	began     time.Time
	hash      addrHash
}

const (
	recentBits   = 1 << 20 // each generation's bits: 128 KiB
	recentIndex  = 20      // bits of an index into them
	recentPerGen = 1 << 16
	recentAge    = time.Minute
)

// saw records a, seen at now, and reports whether it had been seen lately.
func (r *recentSources) saw(a netip.Addr, now time.Time) bool {
	if r.cur == nil {
		r.cur, r.prev = make([]uint64, recentBits/64), make([]uint64, recentBits/64)
		r.began = now
	}
	switch age := now.Sub(r.began); {
	case age >= 2*recentAge || age < 0: // both generations are stale
		clear(r.cur)
		clear(r.prev)
		r.n, r.began = 0, now
	case r.n >= recentPerGen || age >= recentAge:
		r.cur, r.prev = r.prev, r.cur
		clear(r.cur)
		r.n, r.began = 0, now
	}
	k := keyOf(a)
	h := r.hash.sum(k.hi, k.lo)
	const mask = recentBits - 1
	i := [3]uint64{h & mask, h >> recentIndex & mask, h >> (2 * recentIndex) & mask}
	in := func(set []uint64) bool {
		return set[i[0]/64]&(1<<(i[0]%64)) != 0 && set[i[1]/64]&(1<<(i[1]%64)) != 0 && set[i[2]/64]&(1<<(i[2]%64)) != 0
	}
	if in(r.cur) {
		return true
	}
	for _, j := range i {
		r.cur[j/64] |= 1 << (j % 64)
	}
	r.n++
	return in(r.prev)
}
