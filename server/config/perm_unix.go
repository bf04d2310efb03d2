//go:build unix

package config

import (
	"fmt"
	"io/fs"
	"os"
	"syscall"
)

// unsafeFile says why others could change the file, or "".
func unsafeFile(fi fs.FileInfo) string {
	if fi.Mode().Perm()&0o022 != 0 {
		who := "group"
		if fi.Mode().Perm()&0o002 != 0 {
			who = "others"
		}
		return "is writable by " + who
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && st.Uid != 0 && int(st.Uid) != os.Geteuid() {
		return fmt.Sprintf("is owned by uid %d, neither root nor knockd's user", st.Uid)
	}
	return ""
}
