package server

import "time"

// lossInterval is the shortest time between two log lines about frames
// the kernel dropped: during a long flood, one line every ten seconds
// tells the operator enough.
const lossInterval = 10 * time.Second

// lossReport remembers what was last said about the kernel's drops.
type lossReport struct {
	src      Source    // the capture the counts belong to
	reported uint64    // its drops already logged
	at       time.Time // when they were
}

// reportLoss logs the frames the kernel dropped since the last report, at
// most once per lossInterval and interface: they are packets knockd never
// saw, knocks among them, so an operator must hear of it without asking
// for --stats.
func (s *Server) reportLoss(now time.Time) {
	s.mu.Lock()
	lives := make(map[string]Source, len(s.lives))
	for iface, src := range s.lives {
		lives[iface] = src
	}
	s.mu.Unlock()
	for iface, live := range lives {
		dc, ok := live.(dropCounter)
		if !ok {
			continue
		}
		drops, err := dc.KernelDrops() // takes the capture's lock, not s.mu
		if err != nil {
			continue
		}
		s.mu.Lock()
		if s.loss == nil {
			s.loss = map[string]*lossReport{}
		}
		r := s.loss[iface]
		if r == nil || r.src != live { // a reopened capture counts from zero
			r = &lossReport{src: live}
			s.loss[iface] = r
		}
		if drops > r.reported && (r.at.IsZero() || now.Sub(r.at) >= lossInterval) {
			s.Log.Printf("the kernel dropped %d packets on %s that knockd did not read in time (%d since the capture opened): knocks among them were missed",
				drops-r.reported, iface, drops)
			r.reported, r.at = drops, now
		}
		s.mu.Unlock()
	}
}
