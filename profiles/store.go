package profiles

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/knocktools/knock/internal/atomicfile"
	"github.com/knocktools/knock/internal/filepolicy"
)

// DefaultPath is where the profile file lives unless --config or
// KNOCK_CONFIG says otherwise: knock/config.yaml in the user's
// configuration directory ($XDG_CONFIG_HOME or ~/.config on Linux,
// ~/Library/Application Support on macOS, %AppData% on Windows).
func DefaultPath() (string, error) {
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("cannot find the configuration directory (set --config or KNOCK_CONFIG): %w", err)
	}
	return filepath.Join(dir, "knock", "config.yaml"), nil
}

// Store reads and writes one profile file.
type Store struct {
	Path string
	// Warn receives warnings about the file (such as a mode that lets
	// others read it); nil drops them.
	Warn func(string)
}

// Load reads the file; a file that does not exist yet is an empty one.
func (s *Store) Load() (*File, error) {
	data, perm, err := readFile(s.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return &File{Path: s.Path, Profiles: map[string]Profile{}}, nil
	}
	if err != nil {
		return nil, err
	}
	s.checkMode(perm)
	return parseQuick(s.Path, data)
}

// Update changes the file under an exclusive advisory lock: it reads the
// file afresh, lets fn change it, and writes the result atomically, so
// concurrent updates from many processes all land. When fn fails, the
// file is left untouched.
func (s *Store) Update(fn func(*File) error) error {
	if err := os.MkdirAll(filepath.Dir(s.Path), 0o700); err != nil {
		return err
	}
	// Before the lock file is created beside it.
	if err := filepolicy.CheckWrite(s.Path); err != nil {
		return err
	}
	unlock, err := lockFile(s.Path + ".lock")
	if err != nil {
		return fmt.Errorf("lock %s: %w", s.Path, err)
	}
	defer unlock()
	f, err := s.Load()
	if err != nil {
		return err
	}
	if err := fn(f); err != nil {
		return err
	}
	data, err := f.Marshal()
	if err != nil {
		return err
	}
	return atomicfile.Write(s.Path, data, 0o600)
}
