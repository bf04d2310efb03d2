//go:build unix

package filepolicy

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

const modesMatter = true

func readableByOthers(fi fs.FileInfo) bool { return fi.Mode().Perm()&0o077 != 0 }

// Owner is the uid that owns a file, as Stat or Lstat saw it.
func Owner(fi fs.FileInfo) (uint32, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, false
	}
	return st.Uid, true
}

// trusted is root or the user running us.
func trusted(uid uint32) bool { return uid == 0 || int(uid) == os.Geteuid() }

// changeable says why others could change a file or (dir) the entries of
// a directory, or "".
func changeable(fi fs.FileInfo, dir bool) string {
	perm := fi.Mode().Perm()
	if perm&0o022 != 0 && !(dir && fi.Mode()&fs.ModeSticky != 0) {
		if dir && perm&0o002 != 0 {
			return "others can write"
		}
		if dir {
			return "its group can write"
		}
		if perm&0o002 != 0 {
			return "is writable by others"
		}
		return "is writable by group"
	}
	if uid, ok := Owner(fi); ok && !trusted(uid) {
		if dir {
			return fmt.Sprintf("uid %d owns", uid)
		}
		return fmt.Sprintf("is owned by uid %d, neither root nor knockd's user", uid)
	}
	return ""
}

// linkOwner says when path is a symbolic link someone else owns.
func linkOwner(path string) string {
	fi, err := os.Lstat(path)
	if err != nil || fi.Mode()&fs.ModeSymlink == 0 {
		return ""
	}
	if uid, ok := Owner(fi); ok && !trusted(uid) {
		return fmt.Sprintf("is a symbolic link owned by uid %d", uid)
	}
	return ""
}

// Sticky is the sticky bit of fi in octal (0o1000), for a mode shown as
// 01777; fs.FileMode keeps it apart from the permission bits.
func Sticky(fi fs.FileInfo) fs.FileMode {
	if fi.Mode()&fs.ModeSticky != 0 {
		return 0o1000
	}
	return 0
}

// CheckWrite refuses to replace a file (the profile file) that another user
// could have put in our way: a symbolic link owned by someone other than
// us or root (a link we own, as dotfile managers make, is fine), or a
// file, or the target of a link, in a directory others can write (in a
// sticky one such as /tmp, unless the file is our own, which others
// cannot replace there).
func CheckWrite(path string) error {
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
		path, dir, st.Mode().Perm()|Sticky(st))
}

// ownerOf is the uid that owns a file (as Lstat or Stat saw it); 0 (root,
// trusted) where the system does not say.
func ownerOf(fi fs.FileInfo) uint32 {
	uid, _ := Owner(fi)
	return uid
}
