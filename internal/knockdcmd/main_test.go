package knockdcmd

import (
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/knocktools/knock/internal/lab"
)

// TestMain lets the test binary stand in for knockd: testscript puts it
// first on PATH as "knockd", and lab tests run it from there.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"knockd": func() { os.Exit(Run(os.Args[1:], os.Stdout, os.Stderr)) },
	})
}

func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{Dir: "testdata/script", RequireExplicitExec: true})
}

// ourKnockd is the test binary installed as knockd (never Debian's).
func ourKnockd(t testing.TB) string { return lab.TestBinary(t, "knockd") }

var (
	buildKnock sync.Once
	knockPath  string
	knockErr   error
)

// ourKnock builds the knock client once for the lab tests.
func ourKnock(t testing.TB) string {
	t.Helper()
	buildKnock.Do(func() {
		dir, err := os.MkdirTemp("", "knockd-test-client-")
		if err != nil {
			knockErr = err
			return
		}
		knockPath = filepath.Join(dir, "knock")
		out, err := exec.Command("go", "build", "-o", knockPath, "../../cmd/knock").CombinedOutput()
		if err != nil {
			knockErr = err
			t.Logf("%s", out)
		}
	})
	if knockErr != nil {
		t.Fatalf("building knock: %v", knockErr)
	}
	return knockPath
}
