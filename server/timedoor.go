package server

import (
	"time"

	"github.com/knocktools/knock"
)

// timeDoor is a time-based door (Sequence_Secret). It occupies two tracker
// slots, one per window parity: the current window's sequence and the
// previous one's (a client whose clock lags a window behind still gets
// in). When the window moves on, the slot of the window before the
// previous one is given the new sequence and its attempts end, while the
// other slot's attempts carry on. Each window opens the door at most once:
// a sequence sniffed and replayed in the same window is refused.
type timeDoor struct {
	slots  [2]int // tracker door indexes, by window parity
	window uint64 // the current window
	used   map[uint64]bool
	// next is the sequence of the window to come: the kernel filter lets
	// its ports through already, so the first packet of a new window is
	// seen (and moves the door on) even before the clock tick does.
	next knock.Sequence
}

// rollTime moves every time-based door to the window of now; called with
// s.mu held. It reports whether any sequence changed.
func (s *Server) rollTime(now time.Time) bool {
	changed := false
	for _, td := range s.timeDoors {
		door := s.tracker.Doors[td.slots[0]].Door
		w := door.Time.Window(now)
		if w == td.window {
			continue
		}
		for _, win := range []uint64{w, w - 1} {
			slot := s.tracker.Doors[td.slots[win%2]]
			if slot.Window == win && slot.Seq != nil {
				continue
			}
			seq, err := door.Time.Derive(win)
			if err != nil { // parameters were validated with the config
				s.Log.Printf("%s: %v", door.Name, err)
				continue
			}
			slot.Seq, slot.Window = seq, win
			s.tracker.EndAttempts(td.slots[win%2])
			changed = true
		}
		td.window = w
		if next, err := door.Time.Derive(w + 1); err == nil {
			td.next = next
		}
		for old := range td.used {
			if old+1 < w {
				delete(td.used, old)
			}
		}
	}
	if changed {
		s.tracker.Reindex()
		s.applyFilter()
	}
	return changed
}

// Tick is the server's clock while no packet comes: it moves time-based
// doors on (the kernel filter must let the new window's ports through
// before anyone knocks on them), reports log lines held back in a second
// that has ended, and frames the kernel dropped.
func (s *Server) Tick(now time.Time) {
	s.mu.Lock()
	s.rollTime(now)
	// A flood that stopped still gets its count of held-back lines.
	s.reportDropped(s.budget.roll(now))
	s.mu.Unlock()
	s.reportLoss(now)
}

// window returns the time-based door that holds tracker door doorIndex
// and the window of its sequence, or nil for a door that is not
// time-based. Each window opens the door once: td.used[w].
func (s *Server) window(doorIndex int) (*timeDoor, uint64) {
	for _, td := range s.timeDoors {
		for _, slot := range td.slots {
			if slot == doorIndex {
				return td, s.tracker.Doors[slot].Window
			}
		}
	}
	return nil, 0
}
