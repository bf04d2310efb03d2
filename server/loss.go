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
// most once per lossInterval: they are packets knockd never saw, knocks
// among them, so an operator must hear of it without asking for --stats.
func (s *Server) reportLoss(now time.Time) {
	s.mu.Lock()
	live := s.live
	s.mu.Unlock()
	dc, ok := live.(dropCounter)
	if !ok {
		return
	}
	drops, err := dc.KernelDrops() // takes the capture's lock, not s.mu
	if err != nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r := &s.loss
	if r.src != live { // a reopened capture counts from zero
		*r = lossReport{src: live}
	}
	if drops <= r.reported || (!r.at.IsZero() && now.Sub(r.at) < lossInterval) {
		return
	}
	s.Log.Printf("the kernel dropped %d packets that knockd did not read in time (%d since the capture opened): knocks among them were missed",
		drops-r.reported, drops)
	r.reported, r.at = drops, now
}
