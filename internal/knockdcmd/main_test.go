package knockdcmd

import (
	"os"
	"sync"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

// TestMain lets the test binary stand in for knockd: testscript puts it
// first on PATH as "knockd", and lab tests run it from there.
func TestMain(m *testing.M) {
	testscript.Main(removeShared{m}, map[string]func(){
		"knockd": func() { os.Exit(Run(os.Args[1:], os.Stdout, os.Stderr)) },
	})
}

// shared are what tests share beyond one test (a knock binary built
// once): removeShared deletes them when every test has run.
var shared struct {
	sync.Mutex
	dirs []string
}

func share(dir string) {
	shared.Lock()
	defer shared.Unlock()
	shared.dirs = append(shared.dirs, dir)
}

type removeShared struct{ m *testing.M }

func (r removeShared) Run() int {
	code := r.m.Run()
	for _, dir := range shared.dirs {
		os.RemoveAll(dir)
	}
	return code
}

func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{Dir: "testdata/script", RequireExplicitExec: true})
}
