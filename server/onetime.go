package server

import (
	"bytes"
	"fmt"
	"io"
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

// unusedOneTime returns the usable sequences of the file's text, in order.
func unusedOneTime(data []byte) []knock.Sequence {
	var seqs []knock.Sequence
	for off := 0; off < len(data); {
		seq, at, ok := nextOneTime(data[off:])
		if !ok {
			break
		}
		seqs = append(seqs, seq)
		end := bytes.IndexByte(data[off+at:], '\n')
		if end < 0 {
			break
		}
		off += at + end + 1
	}
	return seqs
}

// LoadOneTime reads a one-time sequence file and returns its unused
// sequences: the current one first, then those that follow (none when
// every line is used). A symbolic link is refused, as UseOneTime would
// refuse to write through it.
func LoadOneTime(path string) ([]knock.Sequence, error) {
	f, data, err := openOneTime(path, os.O_RDONLY)
	if err != nil {
		return nil, err
	}
	f.Close()
	return unusedOneTime(data), nil
}

// openOneTime opens a one-time file without following a symbolic link and
// reads it whole.
func openOneTime(path string, flag int) (*os.File, []byte, error) {
	f, err := atomicfile.OpenNoFollow(path, flag, 0)
	if err != nil {
		return nil, nil, err
	}
	data, err := io.ReadAll(f)
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, data, nil
}

// UseOneTime marks the current sequence of the file as used as knockd 0.8
// does, in place: its line's first character becomes "#" (write sequences
// with a leading space to keep them readable). Writing that one byte, and
// nothing else, keeps what an admin appends meanwhile (echo >> FILE takes
// no lock): a rewrite of the whole file would drop it. The file is opened
// without following a symbolic link. It returns the sequences still
// unused, the new current one first.
func UseOneTime(path string) ([]knock.Sequence, error) {
	f, data, err := openOneTime(path, os.O_RDWR)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	_, off, ok := nextOneTime(data)
	if !ok {
		return nil, nil
	}
	data[off] = '#'
	if _, err := f.WriteAt(data[off:off+1], int64(off)); err != nil {
		return nil, fmt.Errorf("One_Time_Sequences %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		return nil, fmt.Errorf("One_Time_Sequences %s: %w", path, err)
	}
	return unusedOneTime(data), nil
}
