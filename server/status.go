package server

import (
	"cmp"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/knocktools/knock/knockdconf"
)

// Status is what a running knockd says of itself (knockd status): its
// doors, what they have open, who is knocking, its captures and counters.
type Status struct {
	Config   string          `json:"config"`   // the configuration file
	Loaded   time.Time       `json:"loaded"`   // when it was last read
	Started  time.Time       `json:"started"`  // when this knockd started
	Counters Stats           `json:"counters"` // what SIGUSR1 logs
	Captures []CaptureStatus `json:"captures"` // one per interface captured on
	Doors    []DoorStatus    `json:"doors"`    // in configuration order
	Holes    []Hole          `json:"fw_holes"` // what doors opened (Open_Ports, knockd fw in commands), still open
	Commands int             `json:"commands"` // door commands running
	Pending  int             `json:"pending"`  // stop commands waiting for their Cmd_Timeout
	Version  string          `json:"version"`  // knockd's
	PID      int             `json:"pid"`      // knockd's
	Socket   string          `json:"socket"`   // where this was asked
	Verbose  bool            `json:"verbose"`  // DoorStatus.Top filled in
}

// CaptureStatus is one interface's capture.
type CaptureStatus struct {
	Interface   string `json:"interface"`
	Capturing   bool   `json:"capturing"`    // open now (an interface that went away is not)
	Frames      uint64 `json:"frames"`       // read since knockd started
	KernelDrops uint64 `json:"kernel_drops"` // since the capture last opened
}

// DoorStatus is one door's state.
type DoorStatus struct {
	Name     string        `json:"name"`
	Kind     string        `json:"kind"` // sequence, one-time or time-based
	Disabled bool          `json:"disabled,omitempty"`
	Open     []Opening     `json:"open"`     // knockers the door let in whose stop command has not run, and recent openings of doors without one
	Knockers int           `json:"knockers"` // knockers with an attempt in progress
	Top      []KnockerStep `json:"top,omitempty"`
}

// Opening is a door opened for a knocker.
type Opening struct {
	Source   netip.Addr `json:"source"`
	OpenedAt time.Time  `json:"opened_at"`
	// ClosesAt is when the stop command is due: Cmd_Timeout after the
	// start command ended (zero while it runs). NoStop: the door has no
	// stop command, and nothing closes what it opened.
	ClosesAt time.Time `json:"closes_at,omitzero"`
	NoStop   bool      `json:"no_stop_command,omitempty"`
	Closing  bool      `json:"closing,omitempty"` // the stop command is running, or waiting for a slot
}

// KnockerStep is a knocker's progress at a door.
type KnockerStep struct {
	Source netip.Addr `json:"source"`
	Stage  int        `json:"stage"` // knocks matched
	Of     int        `json:"of"`    // knocks of the sequence
	Since  time.Time  `json:"since"` // its first knock
}

// Hole is a firewall hole a door opened: by its Open_Ports (or an SPA
// stanza's built-in firewall), until it closes; or by a command with
// knockd fw, as the command reported it ("knockd fw: nftables: tcp/22 for
// 10.77.0.2: open"), until a command reports it closed.
type Hole struct {
	Door     string     `json:"door"`
	Backend  string     `json:"backend"`
	Proto    string     `json:"proto"`
	Port     uint16     `json:"port"`
	Source   netip.Addr `json:"source"`
	OpenedAt time.Time  `json:"opened_at"`
}

// maxOpenings bounds the openings kept of doors without a stop command,
// and maxHoles the holes recorded: both are for an admin's eyes, and a
// flood of completed sequences must not grow them.
const (
	maxOpenings = 64
	maxHoles    = 4096
)

// opening is an Opening while its commands run.
type opening struct {
	Opening
	door string
}

// fwLine is the line knockd fw prints for what it did.
var fwLine = regexp.MustCompile(`^knockd fw: (iptables|nftables): (tcp|udp)/(\d+) for (\S+): (open|closed) \(`)

// noteOutput reads a door command's output line for knockd fw's report of
// a hole opened or closed.
func (a *Actions) noteOutput(door, line string, now time.Time) {
	m := fwLine.FindStringSubmatch(line)
	if m == nil {
		return
	}
	port, err := strconv.ParseUint(m[3], 10, 16)
	src, aerr := netip.ParseAddr(m[4])
	if err != nil || aerr != nil {
		return
	}
	a.noteHole(Hole{Door: door, Backend: m[1], Proto: m[2], Port: uint16(port), Source: src, OpenedAt: now}, m[5] == "open")
}

// noteHole records a hole opened, or forgets one closed.
func (a *Actions) noteHole(h Hole, open bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	i := slices.IndexFunc(a.holes, func(o Hole) bool {
		return o.Backend == h.Backend && o.Proto == h.Proto && o.Port == h.Port && o.Source == h.Source
	})
	switch {
	case !open && i >= 0:
		a.holes = slices.Delete(a.holes, i, i+1)
	case open && i < 0:
		if len(a.holes) == maxHoles {
			a.holes = slices.Delete(a.holes, 0, 1)
		}
		a.holes = append(a.holes, h)
	}
}

// StatusOf fills in what the commands say: each door's openings, the
// holes, the commands running and the stops pending.
func (a *Actions) statusOf(st *Status) {
	a.init()
	a.mu.Lock()
	defer a.mu.Unlock()
	st.Holes = slices.Clone(a.holes)
	st.Commands, st.Pending = a.running, a.pending
	for i := range st.Doors {
		d := &st.Doors[i]
		for _, o := range a.openings {
			if o.door == d.Name {
				d.Open = append(d.Open, o.Opening)
			}
		}
		for _, o := range a.recent {
			if o.door == d.Name {
				d.Open = append(d.Open, o.Opening)
			}
		}
	}
}

// opened records an opening; the returned function updates it.
func (a *Actions) opened(door string, ip netip.Addr, hasStop bool) *opening {
	o := &opening{Opening: Opening{Source: ip, OpenedAt: time.Now(), NoStop: !hasStop}, door: door}
	if hasStop {
		a.openings = append(a.openings, o)
		return o
	}
	if len(a.recent) == maxOpenings {
		a.recent = slices.Delete(a.recent, 0, 1)
	}
	a.recent = append(a.recent, o)
	return o
}

// forget forgets an opening whose stop command has run.
func (a *Actions) forget(o *opening) {
	if i := slices.Index(a.openings, o); i >= 0 {
		a.openings = slices.Delete(a.openings, i, i+1)
	}
}

// progress is the tracker's account of the attempts in progress at door
// i: how many knockers, and (top > 0) the furthest along.
func (t *Tracker) progress(now time.Time, top int) (counts []int, tops [][]KnockerStep) {
	counts = make([]int, len(t.Doors))
	if top > 0 {
		tops = make([][]KnockerStep, len(t.Doors))
	}
	nowNs := now.UnixNano()
	for r := range t.records {
		s := &t.records[r]
		if s.gen == 0 {
			continue
		}
		for _, a := range s.attempts {
			if a.ended {
				continue
			}
			doors, stage := []int32{a.door}, int(a.stage)
			if a.door < 0 {
				doors, stage = t.groups[-1-a.door].doors, 1
			}
			for _, di := range doors {
				d := t.Doors[di]
				if a.start+int64(d.SeqTimeout) <= nowNs {
					continue // timed out; the next packet expires it
				}
				counts[di]++
				if top > 0 {
					tops[di] = append(tops[di], KnockerStep{Source: s.key.addr(), Stage: stage, Of: len(d.Seq), Since: time.Unix(0, a.start)})
				}
			}
		}
	}
	for i := range tops {
		slices.SortFunc(tops[i], func(x, y KnockerStep) int {
			return cmp.Or(cmp.Compare(y.Stage, x.Stage), x.Since.Compare(y.Since))
		})
		tops[i] = tops[i][:min(len(tops[i]), top)]
	}
	return counts, tops
}

// frames counts the frames read on one interface.
type frames struct{ n atomic.Uint64 }

// framesOf returns the frame counter of iface, made on first use.
func (s *Server) framesOf(iface string) *frames {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.frames == nil {
		s.frames = map[string]*frames{}
	}
	f := s.frames[iface]
	if f == nil {
		f = &frames{}
		s.frames[iface] = f
	}
	return f
}

// TopKnockers is how many knockers a verbose status names per door.
const TopKnockers = 10

// Status says what the server is doing now; verbose names the knockers
// furthest along at each door.
func (s *Server) Status(verbose bool) Status {
	st := Status{Counters: s.Stats(), Verbose: verbose}
	now := time.Now()
	top := 0
	if verbose {
		top = TopKnockers
	}
	s.mu.Lock()
	st.Config, st.Loaded, st.Started = s.cfg.Path, s.loaded, s.started
	counts, tops := s.tracker.progress(now, top)
	// A time-based door is tracked twice (this window's sequence and the
	// next); it is one door here.
	index := map[*knockdconf.Door]int{}
	for _, d := range s.cfg.Doors {
		ds := DoorStatus{Name: d.Name, Kind: "sequence", Open: []Opening{}}
		switch {
		case d.OneTimeFile != "":
			ds.Kind = "one-time"
		case d.Time != nil:
			ds.Kind = "time-based"
		}
		index[d] = len(st.Doors)
		st.Doors = append(st.Doors, ds)
	}
	if s.spa != nil {
		for i := range s.spa.Verifier.Stanzas {
			st.Doors = append(st.Doors, DoorStatus{Name: "spa#" + strconv.Itoa(i+1), Kind: "spa", Open: []Opening{}})
		}
	}
	for i, d := range s.tracker.Doors {
		ds := &st.Doors[index[d.Door]]
		ds.Knockers += counts[i]
		ds.Disabled = ds.Disabled || d.Disabled
		if tops != nil {
			ds.Top = append(ds.Top, tops[i]...)
		}
	}
	type capture struct {
		status CaptureStatus
		src    Source
	}
	var caps []capture
	for iface, f := range s.frames {
		if iface == "" {
			continue // a replay
		}
		caps = append(caps, capture{CaptureStatus{Interface: iface, Frames: f.n.Load()}, s.lives[iface]})
	}
	s.mu.Unlock()
	// The kernel's counts are read outside the server's lock, as Stats does.
	for _, c := range caps {
		if c.src != nil {
			c.status.Capturing = true
			if dc, ok := c.src.(dropCounter); ok {
				c.status.KernelDrops, _ = dc.KernelDrops()
			}
		}
		st.Captures = append(st.Captures, c.status)
	}
	slices.SortFunc(st.Captures, func(x, y CaptureStatus) int { return cmp.Compare(x.Interface, y.Interface) })
	if s.Actions != nil {
		s.Actions.statusOf(&st)
	}
	return st
}
