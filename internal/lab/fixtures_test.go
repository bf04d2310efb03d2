package lab

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/knocktools/knock/knockdconf"
)

// Every lab's knockd.conf, in the testdata/lab of the packages that run
// them, is one knockd reads (with its placeholders filled in): a lab that
// fails then fails for what it tests, not for a typo in its fixture.
func TestFixturesParse(t *testing.T) {
	files, err := filepath.Glob("../*/testdata/lab/*.conf")
	if err != nil || len(files) < 10 {
		t.Fatalf("found %d lab fixtures (%v)", len(files), err)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		text := strings.NewReplacer("@DIR@", t.TempDir(), "@IFACES@", "eth0,eth1").Replace(string(data))
		if _, err := knockdconf.Parse(f, []byte(text)); err != nil {
			t.Errorf("%v", err)
		}
	}
}
