package lab

import (
	"io/fs"
	"os"
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
	fill := strings.NewReplacer("@DIR@", t.TempDir(), "@IFACES@", "eth0,eth1")
	for _, name := range files {
		data, err := fs.ReadFile(root, name)
		text := []byte(fill.Replace(string(data)))
		switch {
		case err != nil:
		case strings.HasSuffix(name, "-access.conf"): // fwknopd's files, for the SPA labs
			_, err = fwknopconf.ParseAccess(name, text, nil)
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
