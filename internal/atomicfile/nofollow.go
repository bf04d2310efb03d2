package atomicfile

import (
	"fmt"
	"io/fs"
	"os"
)

// The files a root daemon writes (a PID file, a log, a One_Time_Sequences
// file, its state) must never be written through a symbolic link: an
// unprivileged user who can create one where the file is expected (a
// shared /run, /tmp or a misowned directory) would have root overwrite,
// truncate or chmod any file it names. The functions below refuse a
// symbolic link in the final component of the path instead of following
// it, and never change the mode of a file that exists.

// ErrSymlink is returned for a path whose last component is a symbolic link.
var ErrSymlink = fmt.Errorf("is a symbolic link; refusing to write through it")

// WriteNoFollow replaces path with data as Write does, but refuses a
// symbolic link at path; a file that exists keeps its mode (perm applies
// to a new file).
func WriteNoFollow(path string, data []byte, perm fs.FileMode) error {
	fi, err := os.Lstat(path)
	switch {
	case err == nil && fi.Mode()&fs.ModeSymlink != 0:
		return &fs.PathError{Op: "write", Path: path, Err: ErrSymlink}
	case err == nil && fi.Mode().IsRegular():
		perm = fi.Mode().Perm()
	case err == nil:
		return &fs.PathError{Op: "write", Path: path, Err: fmt.Errorf("not a regular file")}
	}
	return write(path, data, perm)
}

// OpenNoFollow opens path with flag (os.O_* values) and perm as
// os.OpenFile does, but fails on a symbolic link at path (O_NOFOLLOW where
// the system has it) and on anything but a regular file.
func OpenNoFollow(path string, flag int, perm fs.FileMode) (*os.File, error) {
	if fi, err := os.Lstat(path); err == nil && fi.Mode()&fs.ModeSymlink != 0 {
		return nil, &fs.PathError{Op: "open", Path: path, Err: ErrSymlink}
	}
	f, err := os.OpenFile(path, flag|oNoFollow, perm)
	if err != nil {
		if isLoop(err) {
			return nil, &fs.PathError{Op: "open", Path: path, Err: ErrSymlink}
		}
		return nil, err
	}
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		f.Close()
		return nil, &fs.PathError{Op: "open", Path: path, Err: fmt.Errorf("not a regular file")}
	}
	return f, nil
}
