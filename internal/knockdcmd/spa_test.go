package knockdcmd

import (
	"io"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/knocktools/knock/server"
	"github.com/knocktools/knock/spadoor"
)

// SIGHUP reads the SPA files again and keeps the replay cache: a packet
// taken before the reload is still a replay after it.
func TestReloadKeepsSPAReplays(t *testing.T) {
	dir := t.TempDir()
	access := dir + "/access.conf"
	if err := os.WriteFile(access, []byte("SOURCE ANY\nKEY a-passphrase-for-tests\nREQUIRE_SOURCE_ADDRESS Y\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	fw := dir + "/fwknopd.conf"
	if err := os.WriteFile(fw, []byte("FWKNOP_RUN_DIR "+dir+";\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	o := &options{FwknopdConf: fw, AccessConf: access}
	cfg, err := loadConfig(o)
	if err != nil {
		t.Fatal(err)
	}
	spac, err := loadSPA(o, cfg)
	if err != nil {
		t.Fatal(err)
	}
	cache, err := spac.replayCache(false)
	if err != nil {
		t.Fatal(err)
	}
	cache.Add(spadoor.Entry{Digest: "7XgadOyqv0tF5xG8uhg2iIrheeNKglCWKmxQDgYP1dY", Proto: 17, Src: netip.MustParseAddr("10.77.0.1"), Dst: netip.MustParseAddr("10.77.0.2"), Created: time.Now()})
	log := &server.Logger{Now: time.Now}
	srv, err := server.New(cfg, log, &server.Actions{Log: log})
	if err != nil {
		t.Fatal(err)
	}
	sp, err := spac.spaService(cache)
	if err != nil {
		t.Fatal(err)
	}
	srv.SetSPA(sp)
	reload(srv, o, cache)
	if st := srv.Status(false); len(st.Doors) != 1 || st.Doors[0].Name != "spa#1" {
		t.Fatalf("after the reload: %+v", st.Doors)
	}
	if !cache.Seen("7XgadOyqv0tF5xG8uhg2iIrheeNKglCWKmxQDgYP1dY") {
		t.Fatal("the reload lost the replay cache")
	}
}

// The units the packages ship start knockd with flags it takes.
func TestUnitsFlags(t *testing.T) {
	for _, unit := range []string{"../../etc/knockd.service", "../../etc/knockd-fwknop.service"} {
		data, err := os.ReadFile(unit)
		if err != nil {
			t.Fatal(err)
		}
		var args []string
		for _, line := range strings.Split(string(data), "\n") {
			if exec, ok := strings.CutPrefix(line, "ExecStart=/usr/sbin/knockd "); ok {
				args = strings.Fields(strings.ReplaceAll(exec, "$KNOCKD_OPTS", ""))
			}
		}
		if args == nil {
			t.Fatalf("%s: no ExecStart of knockd", unit)
		}
		if err := NewRootCmd(io.Discard, io.Discard).ParseFlags(args); err != nil {
			t.Errorf("%s: %v", unit, err)
		}
	}
}
