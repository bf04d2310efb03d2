package knockdcmd

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/knocktools/knock/server"
	"github.com/knocktools/knock/server/config"
)

// SIGHUP's reload keeps the running doors when the file has none (emptied,
// or cut short), and logs which doors were added, removed or changed.
func TestReloadRefusesNoDoorsAndLogsChanges(t *testing.T) {
	path := filepath.Join(t.TempDir(), "knockd.conf")
	write := func(conf string) {
		t.Helper()
		if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
			t.Fatal(err)
		}
		past := time.Now().Add(-time.Minute) // written and left alone
		os.Chtimes(path, past, past)
	}
	write("[ssh]\nsequence = 7000,8000\n[web]\nsequence = 7100\n")
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	var logged bytes.Buffer
	log := &server.Logger{Verbose: &logged, Now: time.Now}
	srv, err := server.New(cfg, log, &server.Actions{Log: log})
	if err != nil {
		t.Fatal(err)
	}

	write("# emptied by a script still at work\n")
	reload(srv, path)
	if len(srv.Config().Doors) != 2 || !strings.Contains(logged.String(), "re-reading "+path+" failed, keeping the running configuration: it has no doors, the running configuration 2") {
		t.Fatalf("doors %d, log:\n%s", len(srv.Config().Doors), logged.String())
	}

	write("[ssh]\nsequence = 7000,9000\n[mail]\nsequence = 7200\n")
	reload(srv, path)
	if want := "re-read " + path + ": 2 doors (added: mail; removed: web; changed: ssh)"; !strings.Contains(logged.String(), want) {
		t.Fatalf("want %q in:\n%s", want, logged.String())
	}
}
