package lab

import (
	"io/fs"
	"os"
	"strings"
	"testing"

	"github.com/knocktools/knock/knockdconf"
)

// Every lab's knockd.conf, in the testdata/lab of the packages that run
// them, is one knockd reads (with its placeholders filled in): a lab that
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
		if err == nil {
			_, err = knockdconf.Parse(name, []byte(fill.Replace(string(data))))
		}
		if err != nil {
			t.Error(err)
		}
	}
}
