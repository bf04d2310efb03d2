package server

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/knocktools/knock"
	"github.com/knocktools/knock/internal/atomicfile"
	"github.com/knocktools/knock/knockdconf"
)

// timeDoor is a time-based door (Sequence_Secret). It occupies two tracker
// slots, one per window parity: the current window's sequence and the
// previous one's (a client whose clock lags a window behind still gets
// in). When the window moves on, the slot of the window before the
// previous one is given the new sequence and its attempts end, while the
// other slot's attempts carry on. Each window opens the door at most once:
// a sequence sniffed and replayed in the same window is refused.
type timeDoor struct {
	key    string // windowKey
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

// windowsFile holds, in the state directory, the windows time-based doors
// have used, so that a knock captured and replayed in its window is
// refused after a restart too.
const windowsFile = "time-windows"

// windowKey names a time-based door's used windows across reloads and
// restarts: its name and period (a window's number means nothing under
// another period).
func windowKey(d *knockdconf.Door) string {
	return strconv.FormatInt(int64(d.Time.Period/time.Second), 10) + " " + d.Name
}

// keepWindows gives the time-based doors of a new configuration the
// windows the running one has used (called by Reload with s.mu held).
func keepWindows(old, next []*timeDoor) {
	used := map[string]map[uint64]bool{}
	for _, td := range old {
		used[td.key] = td.used
	}
	for _, td := range next {
		if u, ok := used[td.key]; ok {
			td.used = u
		}
	}
}

// LoadState reads what an earlier knockd kept in dir (the windows its
// time-based doors used) and keeps it there from now on, written
// atomically. A file that cannot be read or written is logged, and
// knockd goes on with what it has in memory. knockd --check and --replay
// do not call it.
func (s *Server) LoadState(dir string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stateDir = dir
	path := filepath.Join(dir, windowsFile)
	f, err := atomicfile.OpenNoFollow(path, os.O_RDONLY, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return
	}
	if err != nil {
		s.Log.Printf("cannot read the used windows of time-based doors (%v): a knock replayed in its window may open once more", err)
		return
	}
	defer f.Close()
	byKey := map[string]*timeDoor{}
	for _, td := range s.timeDoors {
		byKey[td.key] = td
	}
	sc := bufio.NewScanner(io.LimitReader(f, 1<<20))
	for sc.Scan() {
		// "PERIOD WINDOW NAME"; a door no longer configured is dropped.
		period, rest, _ := strings.Cut(sc.Text(), " ")
		win, name, _ := strings.Cut(rest, " ")
		w, err := strconv.ParseUint(win, 10, 64)
		if td := byKey[period+" "+name]; td != nil && err == nil && w+1 >= td.window {
			td.used[w] = true
		}
	}
}

// saveWindows writes every time-based door's used windows to the state
// directory (called with s.mu held, after a window was used).
func (s *Server) saveWindows() {
	if s.stateDir == "" || s.NoWrites {
		return
	}
	var b strings.Builder
	b.WriteString("# knockd: windows used by time-based doors (PERIOD WINDOW DOOR); a knock of one is refused\n")
	for _, td := range s.timeDoors {
		period, name, _ := strings.Cut(td.key, " ")
		for _, w := range slices.Sorted(maps.Keys(td.used)) {
			fmt.Fprintf(&b, "%s %d %s\n", period, w, name)
		}
	}
	err := os.MkdirAll(s.stateDir, 0o700)
	if err == nil {
		err = atomicfile.WriteNoFollow(filepath.Join(s.stateDir, windowsFile), []byte(b.String()), 0o600)
	}
	switch {
	case err != nil && !s.stateFailing:
		s.Log.Printf("cannot keep the used windows of time-based doors in %s (%v): kept in memory only, so a restart forgets them", s.stateDir, err)
	case err == nil && s.stateFailing:
		s.Log.Printf("the used windows of time-based doors are kept in %s again", s.stateDir)
	}
	s.stateFailing = err != nil
}
