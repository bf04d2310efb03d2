// Package filepolicy is the one policy for files that hold secrets or
// lead to commands run as root (knockd's configuration, its
// One_Time_Sequences and Sequence_Secret files):
//
//   - Secrecy: a file holding keys or secrets that others may read is
//     refused.
//   - Integrity: a file others could change leads to root: one writable
//     by its group or by others, owned by someone other than root or the
//     user reading it, reached through a symbolic link owned by someone
//     else, or in a directory (any up to /) that others can write without
//     the sticky bit or that someone else owns. By default that is a
//     warning (knockd 0.8 checks nothing, and refusing would lock out
//     admins whose setup worked); StrictModes = yes makes it an error, as
//     sshd's StrictModes does for its files.
package filepolicy

import (
	"fmt"
	"os"
	"path/filepath"
)

// Secrecy refuses a file holding secrets that others may read.
func Secrecy(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	if readableByOthers(fi) {
		return fmt.Errorf("%s is readable by others (mode %04o): chmod 600 %s", path, fi.Mode().Perm(), path)
	}
	return nil
}

// Integrity says how others could change the file at path, one reason a
// line ("(mode 0666) is writable by others", "is in /srv (mode 0777),
// which others can write"), or nothing.
func Integrity(path string) []string {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil
	}
	var why []string
	if w := linkOwner(abs); w != "" {
		why = append(why, w)
	}
	real, err := filepath.EvalSymlinks(abs)
	if err != nil {
		real = abs
	}
	if fi, err := os.Stat(real); err == nil {
		if w := changeable(fi, false); w != "" {
			why = append(why, fmt.Sprintf("(mode %04o) %s", fi.Mode().Perm(), w))
		}
	}
	for dir := filepath.Dir(real); ; dir = filepath.Dir(dir) {
		if fi, err := os.Stat(dir); err == nil {
			if w := changeable(fi, true); w != "" {
				why = append(why, fmt.Sprintf("is in %s (mode %04o), which %s", dir, fi.Mode().Perm()|Sticky(fi), w))
			}
		}
		if dir == filepath.Dir(dir) {
			return why
		}
	}
}
