//go:build unix

package filepolicy

import (
	"fmt"
	"io/fs"
	"os"
	"syscall"
)

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
