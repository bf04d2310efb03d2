package server

import "time"

// DefaultLogLimit is how many Stage and timeout lines a second knockd logs
// at most (--log-limit).
const DefaultLogLimit = 100

// lineBudget caps the Stage and timeout lines, which come one per knock:
// during a flood of spoofed first knocks they would be one log line per
// packet (and with -l one DNS lookup each). Past the budget a second, lines
// are counted instead, and the count is logged once the second is over.
// OPEN SESAME and every other line are always logged.
type lineBudget struct {
	perSecond int // 0: no limit
	second    time.Time
	used      int
	dropped   int
}

// allow reports whether a line at now fits the budget, and how many
// lines were held back in a second that has ended (to be reported first).
func (b *lineBudget) allow(now time.Time) (ok bool, dropped int) {
	if b.perSecond <= 0 {
		return true, 0
	}
	dropped = b.roll(now)
	if b.used >= b.perSecond {
		b.dropped++
		return false, dropped
	}
	b.used++
	return true, dropped
}

// exhausted reports whether a line at now would be past the budget (the
// second it falls in being the current one).
func (b *lineBudget) exhausted(now time.Time) bool {
	return b.perSecond > 0 && now.Truncate(time.Second).Equal(b.second) && b.used >= b.perSecond
}

// drop counts n lines held back in the current second.
func (b *lineBudget) drop(n int) {
	if b.perSecond > 0 {
		b.dropped += n
	}
}

// roll starts a new second when now is past the current one and returns
// what the old one held back.
func (b *lineBudget) roll(now time.Time) int {
	s := now.Truncate(time.Second)
	if s.Equal(b.second) {
		return 0
	}
	dropped := b.dropped
	b.second, b.used, b.dropped = s, 0, 0
	return dropped
}

// noisy reports whether a Stage or timeout line at e fits the budget
// (first logging what an ended second held back); called with s.mu held.
// Callers format the line only when it does, so lines past the budget cost
// no allocation, no address spelling and, with -l, no lookup.
func (s *Server) noisy(e Event) bool {
	if !s.Log.Enabled() {
		return false
	}
	ok, dropped := s.budget.allow(e.Time)
	s.reportDropped(dropped)
	return ok
}

// reportDropped logs how many lines a second held back.
func (s *Server) reportDropped(n int) {
	if n > 0 {
		s.Log.Printf("%d Stage and timeout lines not logged in one second (more than %d: a flood?)", n, s.budget.perSecond)
	}
}

// SetLogLimit sets how many Stage and timeout lines a second are logged
// (0: all of them).
func (s *Server) SetLogLimit(perSecond int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.budget.perSecond = perSecond
}
