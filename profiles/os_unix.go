//go:build unix

package profiles

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
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

// checkMode warns, as ssh does for its keys, when others may read the file.
func (s *Store) checkMode() {
	if w := secretFileWarning(s.Path); w != "" && s.Warn != nil {
		s.Warn(w)
	}
}

// secretFileWarning says when others may read a file holding secrets.
func secretFileWarning(path string) string {
	st, err := os.Stat(path)
	if err != nil {
		return ""
	}
	if perm := st.Mode().Perm(); perm&0o077 != 0 {
		return fmt.Sprintf("%s is readable by others (mode %04o); it may hold secrets: chmod 600 %s", path, perm, path)
	}
	return ""
}
