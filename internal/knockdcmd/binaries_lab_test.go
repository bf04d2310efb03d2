//go:build linux

package knockdcmd

import (
	"os"
	"sync"
	"testing"

	"github.com/knocktools/knock/internal/lab"
)

// ourKnockd is the test binary installed as knockd (never Debian's).
func ourKnockd(t testing.TB) string { return lab.TestBinary(t, "knockd") }

var (
	buildKnock sync.Once
	knockPath  string
	knockErr   error
)

// ourKnock builds the knock client once for the lab tests, as released
// (the compiles are those of make check's go vet and the other release
// builds).
func ourKnock(t testing.TB) string {
	t.Helper()
	buildKnock.Do(func() {
		dir, err := os.MkdirTemp("", "knockd-test-client-")
		if err != nil {
			knockErr = err
			return
		}
		share(dir)
		knockPath, knockErr = lab.BuildReleaseTo(dir, "../../cmd/knock")
	})
	if knockErr != nil {
		t.Fatalf("building knock: %v", knockErr)
	}
	return knockPath
}
