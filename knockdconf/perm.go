package knockdconf

import (
	"fmt"

	"github.com/knocktools/knock/internal/filepolicy"
)

// PermissionWarnings names the files of the configuration that someone
// other than root or knockd's own user could change, and how
// (filepolicy.Integrity): knockd runs their commands as root, so such a
// file is a way to root. They are warnings unless StrictModes is set, when
// Load refuses the configuration.
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
		for _, why := range filepolicy.Integrity(f.path) {
			out = append(out, fmt.Sprintf("%s %s %s, and knockd runs the commands it leads to as root", f.what, f.path, why))
		}
	}
	return out
}
