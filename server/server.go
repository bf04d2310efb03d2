package server

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gopacket/gopacket"

	"github.com/knocktools/knock"
	"github.com/knocktools/knock/knockdconf"
)

// Source is where frames come from: a live capture or a pcap file.
type Source interface {
	ReadPacketData() ([]byte, gopacket.CaptureInfo, error)
	LinkType() LinkType
	Close() error
}

// Stats are the server's counters.
type Stats struct {
	Packets     uint64 // frames read
	Visible     uint64 // packets that passed the doors' filter
	Opened      uint64 // sequences completed
	KernelDrops uint64 // frames the kernel dropped for want of reading (live capture)
	SPADropped  uint64 // SPA packets dropped because every SPA worker was busy and the queue full
	Tracked     int    // knockers with attempts in progress
}

// dropCounter is a capture that knows how many frames the kernel dropped.
type dropCounter interface {
	KernelDrops() (uint64, error)
}

// Server is knockd: it feeds frames through the decoder and the tracker
// and acts on what comes out. Its methods are safe for concurrent use;
// Reload swaps the configuration between two packets.
type Server struct {
	Log      *Logger
	Actions  *Actions
	OnlyIPv4 bool // -4: ignore IPv6 packets
	// NoWrites keeps the server's state in memory: one-time doors move
	// on without marking their files (a dry-run replay).
	NoWrites bool

	mu           sync.Mutex
	cfg          *knockdconf.Config
	started      time.Time          // New
	loaded       time.Time          // New or the last Reload
	frames       map[string]*frames // frames read, by interface
	spa          *SPA               // nil: no SPA served
	tracker      *Tracker
	timeDoors    []*timeDoor
	lives        map[string]Source // the captures running, by interface; their kernel filters follow the doors
	ring         int               // bytes of each capture's ring; 0: DefaultRing
	maxSources   int               // the tracker's cap; 0: DefaultMaxSources
	local        atomic.Pointer[map[netip.Addr]bool]
	stats        struct{ packets, visible, opened, spaDropped atomic.Uint64 }
	spaQueues    *spaQueues             // to the SPA workers; nil: decided where captured
	budget       lineBudget             // for Stage and timeout lines
	loss         map[string]*lossReport // the kernel's drops, as last logged, by interface
	curIf        string                 // the interface of the packet being handled, for event
	stateDir     string                 // LoadState's; "" keeps state in memory only
	stateFailing bool                   // the last write of the state failed
	// moved are the doors whose sequence changed while a packet was
	// handled (a one-time door used): their attempts end once the
	// tracker is done with the packet.
	moved []int
}

// New prepares a server for cfg; it reads the doors' one-time sequence files.
func New(cfg *knockdconf.Config, log *Logger, actions *Actions) (*Server, error) {
	s := &Server{Log: log, Actions: actions, budget: lineBudget{perSecond: DefaultLogLimit}}
	if err := s.Reload(cfg); err != nil {
		return nil, err
	}
	return s, nil
}

// Config returns the configuration in use.
func (s *Server) Config() *knockdconf.Config {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cfg
}

// Reload switches to cfg. Attempts in progress are dropped, as a restarted
// knockd drops them; commands already running are not touched.
func (s *Server) Reload(cfg *knockdconf.Config) error {
	var (
		doors     []*TrackedDoor
		timeDoors []*timeDoor
	)
	for _, d := range cfg.Doors {
		if d.Time != nil {
			n := len(doors)
			doors = append(doors, &TrackedDoor{Door: d}, &TrackedDoor{Door: d})
			timeDoors = append(timeDoors, &timeDoor{key: windowKey(d), slots: [2]int{n, n + 1}, used: map[uint64]bool{}})
			continue
		}
		td := &TrackedDoor{Door: d, Seq: d.Sequence}
		if d.OneTimeFile != "" {
			seqs, err := LoadOneTime(d.OneTimeFile)
			if err != nil {
				return fmt.Errorf("%s:%d: [%s]: One_Time_Sequences: %w", cfg.Path, d.OneTimeLine, d.Name, err)
			}
			td.setOneTime(seqs)
			if td.Disabled {
				s.Log.Printf("%s: no unused sequence left in %s; door disabled", d.Name, d.OneTimeFile)
			}
		}
		doors = append(doors, td)
	}
	t := NewTracker(doors, s.isLocal)
	s.mu.Lock()
	t.MaxSources = cmp.Or(s.maxSources, DefaultMaxSources)
	// A reload must not let a captured knock open once more.
	keepWindows(s.timeDoors, timeDoors)
	s.cfg, s.tracker, s.timeDoors = cfg, t, timeDoors
	s.loaded = time.Now()
	if s.started.IsZero() {
		s.started = s.loaded
	}
	if !s.rollTime(s.Log.now()) {
		s.applyFilter()
	}
	s.mu.Unlock()
	return nil
}

// portFilter is a source that can drop frames to other ports in the kernel.
type portFilter interface {
	SetPorts(tcp, udp []uint16) error
}

// applyFilter gives the live captures the doors' current ports; called
// with s.mu held whenever they change.
func (s *Server) applyFilter() {
	if len(s.lives) == 0 {
		return
	}
	tcp, udp := s.filterPorts()
	for iface, src := range s.lives {
		s.filter(iface, src, tcp, udp)
	}
}

// filterPorts are the ports the kernel filters let through; called with
// s.mu held.
func (s *Server) filterPorts() (tcp, udp []uint16) {
	doors := s.tracker.Doors
	if len(s.timeDoors) > 0 {
		// Time-based doors also let the next window's ports through.
		doors = append([]*TrackedDoor(nil), doors...)
		for _, td := range s.timeDoors {
			doors = append(doors, &TrackedDoor{Seq: td.next})
		}
	}
	tcp, udp = Ports(doors)
	return tcp, s.addSPAPort(udp)
}

// filter installs the kernel filter on one capture.
func (s *Server) filter(iface string, src Source, tcp, udp []uint16) {
	pf, ok := src.(portFilter)
	if !ok {
		return
	}
	if err := pf.SetPorts(tcp, udp); err != nil {
		s.Log.Printf("cannot install the kernel packet filter on %s (every packet is checked here instead): %v", iface, err)
		return
	}
	s.Log.Debugf("kernel filter on %s: tcp ports %v, udp ports %v", iface, tcp, udp)
}

// setLive records the capture on iface (nil when it has none) and
// filters it.
func (s *Server) setLive(iface string, src Source) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if src == nil {
		delete(s.lives, iface)
		return
	}
	if s.lives == nil {
		s.lives = map[string]Source{}
	}
	s.lives[iface] = src
	tcp, udp := s.filterPorts()
	s.filter(iface, src, tcp, udp)
}

// SetRing sets the size of each capture's ring, in bytes, for captures
// opened from now on (0: DefaultRing).
func (s *Server) SetRing(bytes int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ring = bytes
}

// SetMaxKnockers caps how many knockers are tracked at once (0:
// DefaultMaxSources), also after a Reload.
func (s *Server) SetMaxKnockers(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.maxSources = n
	s.tracker.MaxSources = cmp.Or(n, DefaultMaxSources)
}

func (s *Server) ringBytes() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ring == 0 {
		return DefaultRing
	}
	return s.ring
}

// SetLocal sets the addresses that count as ours (the interface's); nil
// counts every address as ours, as when replaying a capture.
func (s *Server) SetLocal(addrs []netip.Addr) {
	if addrs == nil {
		s.local.Store(nil)
		return
	}
	m := make(map[netip.Addr]bool, len(addrs))
	for _, a := range addrs {
		m[a.Unmap().WithZone("")] = true
	}
	s.local.Store(&m)
}

func (s *Server) isLocal(a netip.Addr) bool {
	m := s.local.Load()
	return m == nil || (*m)[a]
}

// Stats returns the counters so far.
func (s *Server) Stats() Stats {
	st := Stats{Packets: s.stats.packets.Load(), Visible: s.stats.visible.Load(), Opened: s.stats.opened.Load(), SPADropped: s.stats.spaDropped.Load()}
	s.mu.Lock()
	st.Tracked = s.tracker.Tracked()
	lives := make([]Source, 0, len(s.lives))
	for _, src := range s.lives {
		lives = append(lives, src)
	}
	s.mu.Unlock()
	for _, src := range lives {
		if dc, ok := src.(dropCounter); ok {
			n, _ := dc.KernelDrops()
			st.KernelDrops += n
		}
	}
	return st
}

// Serve reads src until it ends (a pcap file) or ctx is cancelled (a live
// capture, which it then closes). Errors other than the end of the source
// are returned.
func (s *Server) Serve(ctx context.Context, src Source) error {
	stop := context.AfterFunc(ctx, func() { src.Close() })
	defer stop()
	dec := NewDecoder(src.LinkType())
	var h Packet
	iface, loop := "", false
	if n, ok := src.(interface{ Name() string }); ok {
		iface = n.Name()
		if ifi, err := net.InterfaceByName(iface); err == nil {
			loop = ifi.Flags&net.FlagLoopback != 0
		}
	}
	counted := s.framesOf(iface)
	for {
		data, ci, err := src.ReadPacketData()
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
		s.stats.packets.Add(1)
		counted.n.Add(1)
		if !dec.Decode(data, ci, &h) {
			continue
		}
		h.If, h.OnLoopback = iface, loop
		s.Handle(&h)
	}
}

// Handle runs one decoded packet through the doors.
func (s *Server) Handle(h *Packet) {
	if s.OnlyIPv4 && !h.Src.Is4() || !peer(h) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.spaPacket(h) {
		s.stats.visible.Add(1)
		s.handleSPA(h)
		return
	}
	t := s.tracker
	if len(s.timeDoors) > 0 {
		s.rollTime(h.Time)
	}
	if !t.Visible(h) {
		return
	}
	s.stats.visible.Add(1)
	if s.Log.Debug {
		s.Log.Debugf("%s: %s: %s:%d -> %s:%d %d bytes", h.Time.Format("2006-01-02 15:04:05"), h.Proto,
			h.Src, h.SPort, h.Dst, h.Port, h.Len)
	}
	s.curIf = h.If
	t.Process(h, s.event)
	// An attempt begun under a door's old sequence must not complete
	// under the new one: a stranger who sent the first knocks of a used
	// one-time line would otherwise open with the last knock of the next.
	for _, door := range s.moved {
		t.EndAttempts(door)
	}
	s.moved = s.moved[:0]
}

// peer reports whether a packet's source can be a real knocker: never an
// address that no peer sends from (knock.NotAPeer), nor a loopback address
// but on a loopback interface (when replaying a capture, whose interface
// is unknown: but to a loopback address).
func peer(h *Packet) bool {
	if h.Src.IsLoopback() {
		return h.OnLoopback || h.If == "" && h.Dst.IsLoopback()
	}
	return knock.NotAPeer(h.Src) == ""
}

// event logs what the tracker saw and opens doors; called with s.mu held.
func (s *Server) event(e Event) {
	if e.Group > 0 {
		// One line per door of the group, while the budget lasts: past
		// it, the rest are counted at once, so a flood of first knocks
		// at a port many doors share costs one event a packet.
		doors := s.tracker.GroupDoors(e.Group - 1)
		for i, door := range doors {
			if i > 0 && !s.Log.Enabled() {
				return
			}
			if i > 0 && s.budget.exhausted(e.Time) {
				s.budget.drop(len(doors) - i)
				return
			}
			e.Door, e.Group = int(door), 0
			s.event(e)
		}
		return
	}
	d := s.tracker.Doors[e.Door]
	switch e.Kind {
	case EventStage:
		if s.noisy(e) {
			s.Log.Printf("%s: %s: Stage %d", s.Log.Who(e.Src), d.Name, e.Stage)
			if s.Log.Debug && s.curIf != "" {
				// knockd 0.8's line has no room for it: a line of its own.
				s.Log.Debugf("%s: %s: stage %d came in on %s", s.Log.Who(e.Src), d.Name, e.Stage, s.curIf)
			}
		}
	case EventTimeout:
		if s.noisy(e) {
			s.Log.Printf("%s: %s: sequence timeout (stage %d)", s.Log.Who(e.Src), d.Name, e.Stage)
		}
	case EventOpen:
		td, w := s.window(e.Door)
		if td != nil && td.used[w] {
			s.Log.Printf("%s: %s: sequence of window %d already used: refused (a replay?)", s.Log.Who(e.Src), d.Name, w)
			return
		}
		// A knock whose command cannot run uses nothing up: neither
		// its time window nor its one-time sequence.
		if err := s.Actions.Admit(d.Door); err != nil {
			s.Log.Printf("%s: %s: sequence complete, but not opened: %v (the knock used nothing up)", s.Log.Who(e.Src), d.Name, err)
			return
		}
		if td != nil {
			td.used[w] = true
			s.saveWindows()
		}
		s.stats.opened.Add(1)
		s.Log.Printf("%s: %s: OPEN SESAME", s.Log.Who(e.Src), d.Name)
		if d.OneTimeFile != "" {
			s.useOneTime(d)
			s.moved = append(s.moved, e.Door)
		}
		s.Actions.Start(d.Door, e.Src)
	}
}

// useOneTime moves a one-time door to its next sequence. The tracker and
// the kernel filter move first, from memory: the next sequence's packets
// already pass the filter, and the lookahead is refilled before the file
// is touched, so a knocker who goes on at once loses nothing to the
// rewrite. Then the file is marked, and what it says comes next wins
// (an admin may have edited it).
func (s *Server) useOneTime(d *TrackedDoor) {
	d.setOneTime(d.Next)
	s.tracker.Reindex()
	s.applyFilter()
	if s.NoWrites {
		if d.Disabled {
			s.Log.Printf("%s: no unused sequence left in %s; door disabled", d.Name, d.OneTimeFile)
		}
		return
	}
	next, err := UseOneTime(d.OneTimeFile)
	if err != nil {
		s.Log.Printf("%s: %v", d.Name, err)
		return // keep going from memory
	}
	if !slices.EqualFunc(next, d.unused(), func(a, b knock.Sequence) bool { return slices.Equal(a, b) }) {
		d.setOneTime(next)
		s.tracker.Reindex()
		s.applyFilter()
	}
	if d.Disabled {
		s.Log.Printf("%s: no unused sequence left in %s; door disabled", d.Name, d.OneTimeFile)
	}
}

// setOneTime makes seqs[0] the door's sequence and the rest its Next;
// with none left the door is disabled.
func (d *TrackedDoor) setOneTime(seqs []knock.Sequence) {
	if len(seqs) == 0 {
		d.Seq, d.Next, d.Disabled = nil, nil, true
		return
	}
	d.Seq, d.Next, d.Disabled = seqs[0], seqs[1:], false
}

// unused is what setOneTime was given: the current sequence, then Next.
func (d *TrackedDoor) unused() []knock.Sequence {
	if d.Disabled {
		return nil
	}
	return append([]knock.Sequence{d.Seq}, d.Next...)
}
