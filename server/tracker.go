package server

import (
	"net/netip"
	"time"
	"unsafe"

	"github.com/knocktools/knock"
	"github.com/knocktools/knock/knockdconf"
)

// EventKind says what happened to a knock attempt.
type EventKind int

const (
	// EventStage: a knock matched the next port of a door's sequence.
	EventStage EventKind = iota
	// EventOpen: a sequence completed; the door's command runs.
	EventOpen
	// EventTimeout: an attempt outlived the door's Seq_Timeout.
	EventTimeout
)

// Event is what the tracker reports; Door indexes Tracker.Doors. An event
// of a door group (Group > 0: Tracker.GroupDoors(Group-1)) stands for the
// same event at each of the group's doors, Door being the first of them.
type Event struct {
	Kind  EventKind
	Door  int
	Group int
	Src   netip.Addr
	Stage int
	Time  time.Time
}

// TrackedDoor is a door as the tracker uses it. Seq is the current
// sequence: one-time doors change it after each use, and a door whose
// one-time sequences ran out is Disabled. Next holds a one-time door's
// unused sequences after Seq: the tracker ignores them, but the kernel
// filter lets their packets through, so that the next sequence is live
// the moment Seq is used, before the file is rewritten.
type TrackedDoor struct {
	*knockdconf.Door
	Seq      knock.Sequence
	Next     []knock.Sequence
	Disabled bool
	Window   uint64 // for a time-based door: the window Seq belongs to
}

// attempt is one source's progress through one door, or through a door
// group (door < 0: group -1-door) at its first knock. It holds no pointer
// (the start is in Unix nanoseconds), so the garbage collector need not
// scan a table full of them.
type attempt struct {
	start int64
	door  int32
	stage int32 // knocks matched so far
	ended bool  // completed, failed or timed out
}

// group is doors whose first knocks are started as one: fixed sequences
// (neither one-time nor time-based, whose sequences change) of two knocks
// or more with the same first knock, TCP flag test, Target, Seq_Timeout
// and Allow_Repeats. Until a knocker's second knock, one attempt stands
// for an attempt at each door of the group, so a flood of spoofed first
// knocks at a port that many doors share costs what it costs one door.
type group struct {
	doors []int32 // in config order
}

// slot is where an attempt counts for eviction's fair shares: its door,
// or its group after the doors.
func (t *Tracker) slot(a attempt) int {
	if a.door < 0 {
		return len(t.Doors) + int(-1-a.door)
	}
	return int(a.door)
}

// hold and unhold count an attempt of slot (see slot) in and out.
func (t *Tracker) hold(slot int)   { t.perDoor[slot]++; t.held++ }
func (t *Tracker) unhold(slot int) { t.perDoor[slot]--; t.held-- }

// MaxAttemptsPerKnocker bounds the attempts the table holds in all, as a
// multiple of MaxSources: a knocker holds one attempt at a door or door
// group it knocks, so a real one holds one or two, while a source that
// knocks the first ports of many doors (a flood aimed at memory) would
// hold one each. Past the bound the oldest knockers go, as past
// MaxSources.
const MaxAttemptsPerKnocker = 2

// GroupDoors returns the doors of group g (Event.Group-1).
func (t *Tracker) GroupDoors(g int) []int32 { return t.groups[g].doors }

// source is one knocker's record; released records have gen 0. Its
// address is kept in slot form, which holds no pointer (a netip.Addr
// does), so that the records are not scanned by the garbage collector
// but for their attempts.
type source struct {
	key      addrKey
	attempts []attempt
	gen      uint32 // matches the queue entry that owns this record
}

// queued is a record in order of first knock, valid while gen matches.
type queued struct {
	idx, gen uint32
}

// DefaultMaxSources bounds how many knockers are tracked at once; past it
// the oldest attempts are dropped first (see evict). 16384 knockers cost
// at most 3.5 MiB (KnockerBytes each) and keep a real knocker's first knock
// alive while 16384 spoofed first knocks come in before its second: about
// 20,000 packets of a flood aimed at two doors' first ports, a quarter of
// them at random ports. A busy server sets more (MaxKnockers).
const DefaultMaxSources = knockdconf.DefaultMaxKnockers

// KnockerBytes is what one tracked knocker costs at most: its record, its
// share of the attempts the table holds (MaxAttemptsPerKnocker, and as
// much again of room in the slices that hold them), two slots of the
// address table (kept at most half full) and its entries in the expiry
// queue (at most two live ones and the stale ones a sweep allows).
const KnockerBytes = int(unsafe.Sizeof(source{}) + 2*MaxAttemptsPerKnocker*unsafe.Sizeof(attempt{}) + 2*unsafe.Sizeof(slot{}) + 3*unsafe.Sizeof(queued{}))

// Tracker is knockd 0.8's state machine, per packet and in this order:
// drop the source's attempts that ended or outlived Seq_Timeout (counted
// from the first knock); if the source has attempts for doors guarding the
// packet's destination, advance each whose next knock this is, ignore the
// packet for those whose TCPFlags it fails, and fail the others; if it has
// none, start an attempt at every door whose first knock this is.
//
// Unlike knockd 0.8 it keeps every source's attempts apart, so knockers
// whose packets interleave all get through, and its memory is bounded:
// at most MaxSources sources, the oldest dropped first. Time is the
// packets' own, so the tracker is pure and table-testable.
type Tracker struct {
	Doors []*TrackedDoor
	// IsLocal says whether an address is one of ours: packets to doors
	// without Target must be addressed to us.
	IsLocal    func(netip.Addr) bool
	MaxSources int

	table      sourceTable // addresses to records, sized for MaxSources
	records    []source
	free       []uint32 // indices of released records
	queue      []queued // records in order of their first attempt
	head       int
	gen        uint32
	maxTimeout time.Duration
	ports      [2][65536]bool // ports some door listens on, per protocol
	perDoor    []int          // attempts held per door, then per group, for eviction's fair shares
	held       int            // attempts held in all (the sum of perDoor)
	groups     []group
	starters   []int32 // the doors start tries: those in no group, and each group's first
	groupOf    []int32 // per door: its group, or -1
}

// NewTracker tracks knocks at doors.
func NewTracker(doors []*TrackedDoor, isLocal func(netip.Addr) bool) *Tracker {
	t := &Tracker{Doors: doors, IsLocal: isLocal, MaxSources: DefaultMaxSources}
	t.makeGroups()
	t.perDoor = make([]int, len(doors)+len(t.groups))
	t.Reindex()
	return t
}

// makeGroups finds the door groups (see group); fixed doors never change,
// so the groups hold for the tracker's life.
func (t *Tracker) makeGroups() {
	type key struct {
		first        knock.Knock
		flags        knock.FlagMatch
		target       netip.Addr
		timeout      time.Duration
		allowRepeats bool
	}
	byKey := map[key]int{}
	t.groupOf = make([]int32, len(t.Doors))
	for i, d := range t.Doors {
		t.groupOf[i] = -1
		if d.OneTimeFile != "" || d.Time != nil || len(d.Seq) < 2 {
			continue
		}
		k := key{knock.Knock{Port: d.Seq[0].Port, Proto: d.Seq[0].Proto}, d.Flags, d.Target, d.SeqTimeout, d.AllowRepeats}
		g, ok := byKey[k]
		if !ok {
			g = len(t.groups)
			byKey[k] = g
			t.groups = append(t.groups, group{})
		}
		t.groups[g].doors = append(t.groups[g].doors, int32(i))
	}
	// A group of one is its door.
	kept := t.groups[:0]
	for _, g := range t.groups {
		if len(g.doors) < 2 {
			continue
		}
		for _, d := range g.doors {
			t.groupOf[d] = int32(len(kept))
		}
		kept = append(kept, g)
	}
	t.groups = kept
	for i := range t.Doors {
		if g := t.groupOf[i]; g < 0 || t.groups[g].doors[0] == int32(i) {
			t.starters = append(t.starters, int32(i))
		}
	}
}

// Reindex recomputes what depends on the doors' sequences; call it after
// changing a door's Seq.
func (t *Tracker) Reindex() {
	t.ports = [2][65536]bool{}
	t.maxTimeout = 0
	for _, d := range t.Doors {
		for _, k := range d.Seq {
			t.ports[k.Proto][k.Port] = true
		}
		t.maxTimeout = max(t.maxTimeout, d.SeqTimeout)
	}
}

// guards reports whether door d watches packets to dst.
func (t *Tracker) guards(d *TrackedDoor, dst netip.Addr) bool {
	if d.Target.IsValid() {
		return d.Target == dst
	}
	return t.IsLocal == nil || t.IsLocal(dst)
}

// flagsPass is knockd's per-door TCP flag test; UDP always passes.
func flagsPass(d *TrackedDoor, h *Packet) bool {
	return h.Proto == knock.UDP || d.Flags.Matches(h.Flags)
}

// Visible is knockd's capture filter: the packet goes to an address a door
// guards, on a port of that door's sequence with that protocol, and for
// TCP with the door's flags. Packets it rejects are invisible: they neither
// advance nor break an attempt.
func (t *Tracker) Visible(h *Packet) bool {
	if !t.ports[h.Proto][h.Port] {
		return false
	}
	for _, d := range t.Doors {
		if d.Disabled || !t.guards(d, h.Dst) || !flagsPass(d, h) {
			continue
		}
		for _, k := range d.Seq {
			if k.Proto == h.Proto && k.Port == h.Port {
				return true
			}
		}
	}
	return false
}

// Feed runs one packet through the filter and the state machine; emit
// receives what happened, in order. It reports whether the packet was
// visible.
func (t *Tracker) Feed(h *Packet, emit func(Event)) bool {
	if !t.Visible(h) {
		return false
	}
	t.Process(h, emit)
	return true
}

// Process runs a packet that passed Visible through the state machine.
func (t *Tracker) Process(h *Packet, emit func(Event)) {
	t.expire(h.Time, emit)
	k := keyOf(h.Src)
	i, ok := t.table.get(k)
	if ok {
		advanced := t.advance(&t.records[i], h, emit)
		t.tidy(i)
		if advanced {
			return
		}
		ok = t.records[i].gen != 0 // tidy may have released it
	}
	t.start(h, k, i, ok, emit)
}

// advance applies the packet to the source's attempts at doors guarding
// its destination; it reports whether there were any.
func (t *Tracker) advance(s *source, h *Packet, emit func(Event)) bool {
	any := false
	for i := range s.attempts {
		a := &s.attempts[i]
		if a.ended {
			continue
		}
		if a.door < 0 {
			any = t.advanceGroup(s, i, h, emit) || any
			continue
		}
		d := t.Doors[a.door]
		if time.Duration(h.Time.UnixNano()-a.start) >= d.SeqTimeout {
			a.ended = true
			emit(Event{Kind: EventTimeout, Door: int(a.door), Src: h.Src, Stage: int(a.stage), Time: h.Time})
			continue
		}
		if !t.guards(d, h.Dst) {
			continue
		}
		any = true
		if !flagsPass(d, h) {
			continue
		}
		if d.Disabled || int(a.stage) >= len(d.Seq) {
			a.ended = true
			continue
		}
		next := d.Seq[a.stage]
		if next.Proto != h.Proto || next.Port != h.Port {
			if d.AllowRepeats && a.stage > 0 {
				if prev := d.Seq[a.stage-1]; prev.Proto == h.Proto && prev.Port == h.Port {
					continue // the knock just made, again: ignored
				}
			}
			a.ended = true // a wrong knock fails the attempt
			continue
		}
		t.step(a, h, emit)
	}
	return any
}

// advanceGroup applies a packet to the group attempt s.attempts[i]: the
// second knock turns it into an attempt at each of the group's doors that
// it advances (and fails the others), as separate attempts would have
// gone. It reports whether the group guards the packet's destination.
func (t *Tracker) advanceGroup(s *source, i int, h *Packet, emit func(Event)) bool {
	a := s.attempts[i]
	g := int(-1 - a.door)
	doors := t.groups[g].doors
	lead := t.Doors[doors[0]] // the group's doors share Seq_Timeout, Target, flags
	if time.Duration(h.Time.UnixNano()-a.start) >= lead.SeqTimeout {
		s.attempts[i].ended = true
		emit(Event{Kind: EventTimeout, Door: int(doors[0]), Group: g + 1, Src: h.Src, Stage: 1, Time: h.Time})
		return false
	}
	if !t.guards(lead, h.Dst) {
		return false
	}
	if !flagsPass(lead, h) {
		return true
	}
	first := lead.Seq[0]
	repeat := lead.AllowRepeats && first.Proto == h.Proto && first.Port == h.Port
	advances := false
	for _, di := range doors {
		if next := t.Doors[di].Seq[1]; next.Proto == h.Proto && next.Port == h.Port {
			advances = true
			break
		}
	}
	if repeat && !advances {
		return true // the first knock again: ignored by every door
	}
	s.attempts[i].ended = true
	for _, di := range doors {
		d := t.Doors[di]
		next := d.Seq[1]
		switch {
		case next.Proto == h.Proto && next.Port == h.Port:
			s.attempts = append(s.attempts, attempt{start: a.start, door: di, stage: 1})
			t.hold(int(di))
			t.step(&s.attempts[len(s.attempts)-1], h, emit)
		case repeat:
			s.attempts = append(s.attempts, attempt{start: a.start, door: di, stage: 1})
			t.hold(int(di))
		}
	}
	return true
}

// step advances an attempt by one knock.
func (t *Tracker) step(a *attempt, h *Packet, emit func(Event)) {
	a.stage++
	emit(Event{Kind: EventStage, Door: int(a.door), Src: h.Src, Stage: int(a.stage), Time: h.Time})
	if int(a.stage) == len(t.Doors[a.door].Seq) {
		a.ended = true
		emit(Event{Kind: EventOpen, Door: int(a.door), Src: h.Src, Stage: int(a.stage), Time: h.Time})
	}
}

// start begins an attempt at every door whose first knock this is (one
// for each door group), in record idx when has says the source still has
// one.
func (t *Tracker) start(h *Packet, k addrKey, idx uint32, has bool, emit func(Event)) {
	var s *source
	for _, i := range t.starters {
		d := t.Doors[i]
		if d.Disabled || len(d.Seq) == 0 || !t.guards(d, h.Dst) || !flagsPass(d, h) {
			continue
		}
		if first := d.Seq[0]; first.Proto != h.Proto || first.Port != h.Port {
			continue
		}
		if s == nil {
			if !has {
				idx = t.newSource(k)
			}
			s = &t.records[idx]
		}
		if t.held >= MaxAttemptsPerKnocker*t.MaxSources {
			t.evict(int64(idx)) // this knocker stays
		}
		if g := t.groupOf[i]; g >= 0 {
			a := attempt{door: -1 - g, start: h.Time.UnixNano(), stage: 1}
			s.attempts = append(s.attempts, a)
			t.hold(t.slot(a))
			emit(Event{Kind: EventStage, Door: int(i), Group: int(g) + 1, Src: h.Src, Stage: 1, Time: h.Time})
			continue
		}
		s.attempts = append(s.attempts, attempt{door: i, start: h.Time.UnixNano()})
		t.hold(int(i))
		t.step(&s.attempts[len(s.attempts)-1], h, emit)
	}
	if s != nil {
		t.tidy(idx)
	}
}

// newSource makes a record for the address of key k, which has none, and
// queues it for expiry; past MaxSources the oldest goes first.
func (t *Tracker) newSource(k addrKey) uint32 {
	if len(t.table.slots) < 2*t.MaxSources {
		t.resize()
	}
	if t.table.n >= t.MaxSources {
		t.evict(-1)
	}
	var i uint32
	if n := len(t.free); n > 0 {
		i, t.free = t.free[n-1], t.free[:n-1]
	} else {
		i = uint32(len(t.records))
		t.records = append(t.records, source{})
	}
	t.gen++
	if t.gen == 0 { // 0 marks released records
		t.gen = 1
	}
	s := &t.records[i]
	s.key, s.gen = k, t.gen
	t.table.put(k, i)
	t.queue = append(t.queue, queued{i, s.gen})
	// Sources that fail or get in early leave their queue entries behind
	// until expiry reaches them: during a flood that is many times the
	// table. Past twice its bound, sweep them out, so the queue is
	// bounded too.
	if len(t.queue)-t.head > 2*t.MaxSources+1024 {
		t.compact()
	}
	return i
}

// resize makes the address table fit MaxSources (set after NewTracker).
func (t *Tracker) resize() {
	t.table = newSourceTable(t.MaxSources)
	for i := range t.records {
		if t.records[i].gen != 0 {
			t.table.put(t.records[i].key, uint32(i))
		}
	}
}

// live reports whether queue entry q still owns its record.
func (t *Tracker) live(q queued) bool { return t.records[q.idx].gen == q.gen }

// compact keeps only the queue entries that still own their record.
func (t *Tracker) compact() {
	live := t.queue[:0] // written behind what is read
	for _, q := range t.queue[t.head:] {
		if t.live(q) {
			live = append(live, q)
		}
	}
	clear(t.queue[len(live):])
	t.queue, t.head = live, 0
}

// evictScan bounds how many knockers one eviction passes over.
const evictScan = 64

// evict makes room for one source: it drops the oldest knocker that is
// still at its first knock and knocks at a crowded door, one holding at
// least half its fair share of the table (MaxSources over the number of
// doors; half, so that two doors flooded alike both count as crowded
// however the flood's next packets tip the balance). A flood of
// spoofed first knocks then only displaces itself: a knocker who has got
// further, or who knocks at a door the flood does not crowd, is passed
// over (moved to the back of the queue), unless evictScan such knockers in
// a row leave no other choice.
//
// What it cannot do is tell a real knocker at its first knock from a
// spoofed one at the same door: such a knocker keeps its place while fewer
// than MaxSources new sources crowd that door before its second knock.
//
// It evicts while the table is full or the attempts held reach their
// bound (MaxAttemptsPerKnocker), sparing record keep (-1: none), the
// knocker whose attempt is being added.
func (t *Tracker) evict(keep int64) {
	// A door group counts as one door: a flood of its first knock is
	// one door's flood.
	share := max(t.MaxSources/(2*max(len(t.starters), 1)), 1)
	kept := 0
	for skipped := 0; (t.table.n >= t.MaxSources || t.held >= MaxAttemptsPerKnocker*t.MaxSources) && t.head < len(t.queue); {
		q := t.queue[t.head]
		t.head++
		if !t.live(q) {
			continue // stale entry
		}
		if int64(q.idx) == keep {
			t.queue = append(t.queue, q)
			if kept++; kept > 1 {
				return // around the queue: no one else to evict
			}
			continue
		}
		s := &t.records[q.idx]
		if skipped < evictScan && (progressed(s) || !t.crowded(s, share)) {
			skipped++
			t.queue = append(t.queue, q)
			continue
		}
		t.release(q.idx)
	}
}

// crowded reports whether a source knocks at a door that holds at least
// share attempts (half the door's fair share, see evict).
func (t *Tracker) crowded(s *source, share int) bool {
	for _, a := range s.attempts {
		if !a.ended && t.perDoor[t.slot(a)] >= share {
			return true
		}
	}
	return len(s.attempts) == 0
}

// progressed reports whether a source is past the first knock of a door.
func progressed(s *source) bool {
	for _, a := range s.attempts {
		if !a.ended && a.stage > 1 {
			return true
		}
	}
	return false
}

// release forgets record i and frees it for reuse.
func (t *Tracker) release(i uint32) {
	s := &t.records[i]
	t.table.del(s.key)
	for _, a := range s.attempts {
		t.unhold(t.slot(a))
	}
	s.attempts, s.gen = s.attempts[:0], 0
	if cap(s.attempts) > 2*MaxAttemptsPerKnocker {
		s.attempts = nil // a record reused keeps no room for a hundred attempts
	}
	t.free = append(t.free, i)
}

// tidy removes record i's ended attempts and forgets it when none is left.
func (t *Tracker) tidy(i uint32) {
	s := &t.records[i]
	live := s.attempts[:0]
	for _, a := range s.attempts {
		if a.ended {
			t.unhold(t.slot(a))
		} else {
			live = append(live, a)
		}
	}
	s.attempts = live
	if len(live) == 0 {
		t.release(i)
	}
}

// expire drops sources whose every attempt is older than the longest
// Seq_Timeout, oldest first, reporting the attempts that timed out.
func (t *Tracker) expire(now time.Time, emit func(Event)) {
	for t.head < len(t.queue) {
		q := t.queue[t.head]
		if t.live(q) {
			s := &t.records[q.idx]
			if oldest(s)+int64(t.maxTimeout) > now.UnixNano() {
				break
			}
			for _, a := range s.attempts {
				switch {
				case a.ended:
				case a.door < 0:
					g := int(-1 - a.door)
					emit(Event{Kind: EventTimeout, Door: int(t.groups[g].doors[0]), Group: g + 1, Src: s.key.addr(), Stage: 1, Time: now})
				default:
					emit(Event{Kind: EventTimeout, Door: int(a.door), Src: s.key.addr(), Stage: int(a.stage), Time: now})
				}
			}
			t.release(q.idx)
		}
		t.head++
	}
	// Compact the queue once its consumed head dominates it.
	if t.head > 1024 && t.head*2 > len(t.queue) {
		n := copy(t.queue, t.queue[t.head:])
		t.queue, t.head = t.queue[:n], 0
	}
}

// oldest is the start of a source's first attempt, in Unix nanoseconds.
func oldest(s *source) int64 {
	var o int64
	for i, a := range s.attempts {
		if i == 0 || a.start < o {
			o = a.start
		}
	}
	return o
}

// EndAttempts ends every attempt at a door (its sequence changed).
func (t *Tracker) EndAttempts(door int) {
	for i := range t.records {
		s := &t.records[i]
		if s.gen == 0 {
			continue
		}
		for j := range s.attempts {
			if int(s.attempts[j].door) == door {
				s.attempts[j].ended = true
			}
		}
		t.tidy(uint32(i))
	}
}

// Tracked returns how many sources have attempts in progress.
func (t *Tracker) Tracked() int { return t.table.n }
