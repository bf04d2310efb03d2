//go:build unix

package profiles

import (
	"io/fs"
	"os"

	"golang.org/x/sys/unix"

	"github.com/knocktools/knock/internal/filepolicy"
)

// lockFile takes an exclusive flock on path (created if needed) and returns
// the function that releases it. The lock lives in a file of its own, so
// renaming a new profile file into place does not drop it.
func lockFile(path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	for {
		err = unix.Flock(int(f.Fd()), unix.LOCK_EX)
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return func() { _ = unix.Flock(int(f.Fd()), unix.LOCK_UN); f.Close() }, nil
}

// checkMode warns, as ssh does for its keys, when others may read the
// profile file, whose permission bits are perm.
func (s *Store) checkMode(perm fs.FileMode) {
	if w := filepolicy.ReadableWarning(s.Path, perm); w != "" && s.Warn != nil {
		s.Warn(w)
	}
}

// readFile is os.ReadFile in plain system calls, and the file's permission
// bits: an *os.File would start the runtime's poller (epoll and an
// eventfd) on its first open, which knock PROFILE, a whole process per
// knock, otherwise never needs.
func readFile(path string) ([]byte, fs.FileMode, error) {
	var fd int
	var err error
	for {
		fd, err = unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		return nil, 0, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return nil, 0, &fs.PathError{Op: "stat", Path: path, Err: err}
	}
	buf := make([]byte, 0, max(int(st.Size)+1, 512))
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := unix.Read(fd, buf[len(buf):cap(buf)])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, 0, &fs.PathError{Op: "read", Path: path, Err: err}
		}
		if n == 0 {
			return buf, fs.FileMode(st.Mode) & fs.ModePerm, nil
		}
		buf = buf[:len(buf)+n]
	}
}
