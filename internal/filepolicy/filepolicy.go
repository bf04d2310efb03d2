// Package filepolicy is the one policy for files that hold secrets or
// lead to commands run as root, each kind of file with its rule:
//
//		file                                         read                           write
//		knockd.conf, One_Time_Sequences              Integrity: warn (StrictModes: refuse)
//		Sequence_Secret file:, a profile's           Secrecy: refuse (ReadSecret)
//		  secret_file (TOTP secrets)
//		fwknop key files of SPA profiles             ReadableWarning: warn
//		the profile file (may hold keys inline)      ReadableWarning: warn          CheckWrite: refuse
//
//	  - Secrecy: a file holding keys or secrets that others may read is
//	    refused.
//	  - ReadableWarning: a file that may hold keys and that others may read
//	    is warned about, as fwknop warns about its key files: refusing
//	    would lock a user out of every profile for a chmod.
//	  - CheckWrite: a file we replace is never one another user could have
//	    put in our way (their symbolic link, a directory they can write).
//	  - Integrity: a file others could change leads to root: one writable
//	    by its group or by others, owned by someone other than root or the
//	    user reading it, reached through a symbolic link owned by someone
//	    else, or in a directory (any up to /) that others can write without
//	    the sticky bit or that someone else owns. By default that is a
//	    warning (knockd 0.8 checks nothing, and refusing would lock out
//	    admins whose setup worked); StrictModes = yes makes it an error, as
//	    sshd's StrictModes does for its files.
package filepolicy

import (
	"fmt"
	"io/fs"
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

// ReadSecret reads a file holding a secret, which only its owner may
// read: the secret is what keeps a door shut.
func ReadSecret(path string) (string, error) {
	if err := Secrecy(path); err != nil {
		return "", err
	}
	b, err := os.ReadFile(path)
	return string(b), err
}

// ReadableWarning is the warning for a file that may hold secrets, whose
// permission bits are perm, when others may read it; "" when only its
// owner may (and always where modes do not say who may read: Windows).
func ReadableWarning(path string, perm fs.FileMode) string {
	if !modesMatter || perm&0o077 == 0 {
		return ""
	}
	return fmt.Sprintf("%s is readable by others (mode %04o); it may hold secrets: chmod 600 %s", path, perm, path)
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
