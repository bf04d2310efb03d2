package server

import (
	"bytes"
	"fmt"
	"os"
	"strings"

	"github.com/knocktools/knock"
	"github.com/knocktools/knock/internal/atomicfile"
)

// One_Time_Sequences files hold one sequence per line in Sequence syntax.
// Lines starting with "#" are used (or comments), and lines that do not
// parse are skipped as knockd 0.8 skips them; the door's sequence is the
// first line that is neither.

// nextOneTime returns the first usable sequence of the file's text and the
// byte offset of its line, or ok false when none is left.
func nextOneTime(data []byte) (seq knock.Sequence, offset int, ok bool) {
	for off := 0; off < len(data); {
		end := bytes.IndexByte(data[off:], '\n')
		if end < 0 {
			end = len(data) - off
		}
		line := strings.TrimSpace(string(data[off : off+end]))
		if line != "" && line[0] != '#' {
			if s, err := knock.ParseKnockdSequence(line); err == nil {
				return s, off, true
			}
		}
		off += end + 1
	}
	return nil, 0, false
}

// LoadOneTime reads a one-time sequence file and returns its current
// sequence (ok false when every line is used).
func LoadOneTime(path string) (knock.Sequence, bool, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, false, err
	}
	seq, _, ok := nextOneTime(data)
	return seq, ok, nil
}

// UseOneTime marks the current sequence of the file as used, as knockd 0.8
// does (its line's first character becomes "#"; write sequences with a
// leading space to keep them readable), but replaces the file atomically.
// It returns the sequence that comes next.
func UseOneTime(path string) (knock.Sequence, bool, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, false, err
	}
	_, off, ok := nextOneTime(data)
	if !ok {
		return nil, false, nil
	}
	data[off] = '#'
	mode := os.FileMode(0o600)
	if fi, err := os.Stat(path); err == nil {
		mode = fi.Mode().Perm()
	}
	if err := atomicfile.Write(path, data, mode); err != nil {
		return nil, false, fmt.Errorf("One_Time_Sequences %s: %w", path, err)
	}
	next, _, ok := nextOneTime(data)
	return next, ok, nil
}
