//go:build unix

package profiles

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

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
	if w := modeWarning(s.Path, perm); w != "" && s.Warn != nil {
		s.Warn(w)
	}
}

// modeWarning is the warning for a file holding secrets whose permission
// bits are perm, or "" when only its owner may read it.
func modeWarning(path string, perm fs.FileMode) string {
	if perm&0o077 == 0 {
		return ""
	}
	return fmt.Sprintf("%s is readable by others (mode %04o); it may hold secrets: chmod 600 %s", path, perm, path)
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

// secretFileWarning says when others may read a file holding secrets.
func secretFileWarning(path string) string {
	st, err := os.Stat(path)
	if err != nil {
		return ""
	}
	return modeWarning(path, st.Mode().Perm())
}

// checkWritePath refuses to replace a profile file that another user
// could have put in our way: a symbolic link owned by someone other than
// us or root (a link we own, as dotfile managers make, is fine), or a
// file, or the target of a link, in a directory others can write (in a
// sticky one such as /tmp, unless the file is our own, which others
// cannot replace there).
func checkWritePath(path string) error {
	uid := uint32(os.Getuid())
	target := path
	fi, err := os.Lstat(path)
	if err == nil && fi.Mode()&fs.ModeSymlink != 0 {
		if owner := ownerOf(fi); owner != uid && owner != 0 {
			return fmt.Errorf("%s is a symbolic link owned by uid %d, not by you: refusing to write through it", path, owner)
		}
		if err := sharedDir(path, fi); err != nil {
			return err
		}
		if t, err := filepath.EvalSymlinks(path); err == nil {
			target = t
			fi, err = os.Lstat(target)
		}
	}
	if err != nil {
		fi = nil // not there yet
	}
	return sharedDir(target, fi)
}

// sharedDir refuses path (whose Lstat is fi, nil when it does not exist)
// when its directory is writable by others.
func sharedDir(path string, fi fs.FileInfo) error {
	dir := filepath.Dir(path)
	st, err := os.Stat(dir)
	if err != nil || st.Mode().Perm()&0o002 == 0 {
		return nil
	}
	if st.Mode()&fs.ModeSticky != 0 && fi != nil && ownerOf(fi) == uint32(os.Getuid()) {
		return nil
	}
	return fmt.Errorf("%s is in %s, which others can write (mode %04o): another user could put a file or link there in its place; keep the profile file in a directory of your own (--config or KNOCK_CONFIG)",
		path, dir, st.Mode().Perm()|filepolicy.Sticky(st))
}

// ownerOf is the uid that owns a file (as Lstat or Stat saw it); 0 (root,
// trusted) where the system does not say.
func ownerOf(fi fs.FileInfo) uint32 {
	uid, _ := filepolicy.Owner(fi)
	return uid
}
