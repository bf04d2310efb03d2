package lab

import (
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"

	"github.com/knocktools/knock/fwknopconf"
	"github.com/knocktools/knock/knockdconf"
)

// Every lab's knockd.conf (and fwknopd's files of the SPA labs), in the
// testdata/lab of the packages that run them, is one knockd reads (with its placeholders filled in): a lab that
// fails then fails for what it tests, not for a typo in its fixture.
func TestFixturesParse(t *testing.T) {
	root := os.DirFS("..")
	files, _ := fs.Glob(root, "*/testdata/lab/*.conf")
	if len(files) < 10 {
		t.Fatalf("found %d lab fixtures under internal/*/testdata/lab", len(files))
	}
	dir := t.TempDir()
	fill := strings.NewReplacer("@DIR@", dir, "@IFACES@", "eth0,eth1")
	// An access.conf fixture %includes the others as their lab writes
	// them: spa-NAME-access.conf as @DIR@/access-NAME.conf.
	for _, name := range files {
		base := path.Base(name)
		if part, ok := strings.CutSuffix(strings.TrimPrefix(base, "spa-"), "-access.conf"); ok && part != base {
			data, _ := fs.ReadFile(root, name)
			if err := os.WriteFile(filepath.Join(dir, "access-"+part+".conf"), []byte(fill.Replace(string(data))), 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, name := range files {
		data, err := fs.ReadFile(root, name)
		text := []byte(fill.Replace(string(data)))
		switch {
		case err != nil:
		case strings.HasSuffix(name, "-access.conf"): // fwknopd's files, for the SPA labs
			_, err = fwknopconf.ParseAccess(name, text, fwknopconf.OSFiles{})
		case strings.HasSuffix(name, "-fwknopd.conf"):
			_, err = fwknopconf.ParseServer(name, text)
		default:
			_, err = knockdconf.Parse(name, text)
		}
		if err != nil {
			t.Error(err)
		}
	}
}
