package profiles

import (
	"io/fs"
	"os"

	"golang.org/x/sys/windows"
)

// lockFile takes an exclusive lock on path (created if needed) with
// LockFileEx and returns the function that releases it.
func lockFile(path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	h := windows.Handle(f.Fd())
	ol := new(windows.Overlapped)
	if err := windows.LockFileEx(h, windows.LOCKFILE_EXCLUSIVE_LOCK, 0, 1, 0, ol); err != nil {
		f.Close()
		return nil, err
	}
	return func() { _ = windows.UnlockFileEx(h, 0, 1, 0, ol); f.Close() }, nil
}

// checkMode does nothing: file modes do not describe access on Windows,
// where the profile directory's ACL protects the file.
func (s *Store) checkMode(fs.FileMode) {}

// readFile is os.ReadFile; the permission bits say nothing here.
func readFile(path string) ([]byte, fs.FileMode, error) {
	data, err := os.ReadFile(path)
	return data, 0, err
}
