package config

import (
	"fmt"
	"os"
)

// PermissionWarnings names the files of the configuration that someone
// other than root or knockd's own user could change: knockd runs their
// commands as root, so such a file is a way to root. Like sshd's
// StrictModes it checks the owner and the group and other write bits;
// unlike it, it only warns (knockd 0.8 checks nothing, and refusing to
// start would lock out admins whose setup worked before).
func (c *Config) PermissionWarnings() []string {
	files := []struct{ what, path string }{{"configuration", c.Path}}
	for _, d := range c.Doors {
		if d.OneTimeFile != "" {
			files = append(files, struct{ what, path string }{fmt.Sprintf("[%s] One_Time_Sequences file", d.Name), d.OneTimeFile})
		}
		if d.SecretFile != "" {
			files = append(files, struct{ what, path string }{fmt.Sprintf("[%s] Sequence_Secret file", d.Name), d.SecretFile})
		}
	}
	var out []string
	for _, f := range files {
		fi, err := os.Stat(f.path)
		if err != nil {
			continue // reading it reports that
		}
		if w := unsafeFile(fi); w != "" {
			out = append(out, fmt.Sprintf("%s %s (mode %04o) %s, and knockd runs the commands it leads to as root", f.what, f.path, fi.Mode().Perm(), w))
		}
	}
	return out
}
