package server

import (
	"bytes"
	"context"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/knocktools/knock"
	"github.com/knocktools/knock/knockdconf"
)

func TestTimeBasedDoor(t *testing.T) {
	trace := filepath.Join(t.TempDir(), "trace")
	cfg, err := knockdconf.Parse("t.conf", []byte("[totp]\nsequence_secret = JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP\nsequence_protocol = both\n"+
		"command = echo %IP% >> "+trace+"\n"))
	if err != nil {
		t.Fatal(err)
	}
	start := time.Unix(1_795_500_000, 0) // the start of a window
	var logged bytes.Buffer
	log := &Logger{Verbose: &logged, Now: func() time.Time { return start }}
	actions := &Actions{Log: log}
	srv, err := New(cfg, log, actions)
	if err != nil {
		t.Fatal(err)
	}
	srv.SetLocal(nil)
	ts := *cfg.Doors[0].Time
	seqAt := func(at time.Time) knock.Sequence {
		seq, err := ts.Derive(ts.Window(at))
		if err != nil {
			t.Fatal(err)
		}
		return seq
	}
	knockWith := func(src string, seq knock.Sequence, at time.Time) {
		for i, k := range seq {
			h := Packet{Src: mustAddr(src), Dst: me, Proto: k.Proto, Port: k.Port, Flags: k.EffectiveFlags(),
				Time: at.Add(time.Duration(i) * 100 * time.Millisecond)}
			srv.Handle(&h)
		}
	}
	w0 := seqAt(start)
	if got := srv.tracker.Doors[0].Seq.String() + "|" + srv.tracker.Doors[1].Seq.String(); !strings.Contains(got, w0.String()) {
		t.Fatalf("the door's slots hold %s, not this window's %s", got, w0)
	}
	knockWith("10.77.0.1", w0, start.Add(time.Second))   // opens
	knockWith("10.77.0.3", w0, start.Add(5*time.Second)) // the same window replayed: refused
	w1 := seqAt(start.Add(30 * time.Second))
	knockWith("10.77.0.4", w0, start.Add(31*time.Second))                               // previous window, already used: refused
	knockWith("10.77.0.5", w1, start.Add(32*time.Second))                               // the new window: opens
	knockWith("10.77.0.6", w1, start.Add(61*time.Second))                               // one window behind, used: refused
	knockWith("10.77.0.7", seqAt(start.Add(90*time.Second)), start.Add(65*time.Second)) // from the future: nothing
	// A client a window behind, with a sequence nobody used yet, gets in.
	w3 := seqAt(start.Add(90 * time.Second))
	knockWith("10.77.0.8", w3, start.Add(121*time.Second))
	knockWith("10.77.0.9", w3, start.Add(181*time.Second)) // two windows later: nothing
	actions.Shutdown(context.Background())
	b, _ := os.ReadFile(trace)
	got := strings.Fields(string(b))
	slices.Sort(got) // the commands run concurrently
	if want := []string{"10.77.0.1", "10.77.0.5", "10.77.0.8"}; !slices.Equal(got, want) {
		t.Fatalf("opened for %v, want %v\nlog:\n%s", got, want, logged.String())
	}
	if n := strings.Count(logged.String(), "already used: refused (a replay?)"); n != 3 {
		t.Fatalf("%d refusals logged, want 3:\n%s", n, logged.String())
	}
}

func mustAddr(s string) netip.Addr { return netip.MustParseAddr(s) }

// TestTimeDoorUsesTheVectors: a door with README's first vector's secret
// and default parameters holds the vector's sequences for its windows.
func TestTimeDoorUsesTheVectors(t *testing.T) {
	cfg, err := knockdconf.Parse("v.conf", []byte("[v]\nsequence_secret = JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP\n"))
	if err != nil {
		t.Fatal(err)
	}
	at := time.Unix(1_795_500_030, 0)
	log := &Logger{Now: func() time.Time { return at }}
	srv, err := New(cfg, log, &Actions{Log: log})
	if err != nil {
		t.Fatal(err)
	}
	w := cfg.Doors[0].Time.Window(at)
	cur, prev := srv.tracker.Doors[w%2].Seq.String(), srv.tracker.Doors[(w-1)%2].Seq.String()
	if cur != "19352 17738 51814 38520" || prev != "64963 36867 47798 64550" {
		t.Fatalf("current %s, previous %s: not the vectors", cur, prev)
	}
}

// A time-based door remembers the windows it used across a SIGHUP and a
// restart (its state directory), so a knock captured and replayed in its
// window is refused after either; when the state cannot be written,
// knockd says so and keeps the record in memory.
func TestUsedWindowsSurviveReloadAndRestart(t *testing.T) {
	state := t.TempDir()
	conf := "[totp]\nsequence_secret = JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP\n"
	start := time.Unix(1_795_500_000, 0)
	var logged bytes.Buffer
	newServer := func() *Server {
		cfg, err := knockdconf.Parse("t.conf", []byte(conf))
		if err != nil {
			t.Fatal(err)
		}
		log := &Logger{Verbose: &logged, Now: func() time.Time { return start }}
		srv, err := New(cfg, log, &Actions{Log: log})
		if err != nil {
			t.Fatal(err)
		}
		srv.SetLocal(nil)
		srv.LoadState(state)
		return srv
	}
	cfg, _ := knockdconf.Parse("t.conf", []byte(conf))
	ts := *cfg.Doors[0].Time
	seq, _ := ts.Derive(ts.Window(start))
	knockWith := func(srv *Server, src string, at time.Time) {
		for i, k := range seq {
			h := Packet{Src: mustAddr(src), Dst: me, Proto: k.Proto, Port: k.Port, Flags: k.EffectiveFlags(),
				Time: at.Add(time.Duration(i) * 100 * time.Millisecond)}
			srv.Handle(&h)
		}
	}
	srv := newServer()
	knockWith(srv, "10.77.0.1", start.Add(time.Second)) // opens
	if srv.Stats().Opened != 1 {
		t.Fatalf("the first knock did not open:\n%s", logged.String())
	}
	// SIGHUP: the same config again.
	cfg2, _ := knockdconf.Parse("t.conf", []byte(conf))
	if err := srv.Reload(cfg2); err != nil {
		t.Fatal(err)
	}
	knockWith(srv, "10.77.0.3", start.Add(2*time.Second))
	if srv.Stats().Opened != 1 {
		t.Fatalf("a replay after a reload opened:\n%s", logged.String())
	}
	// A restart: a new server reading the state directory.
	srv = newServer()
	knockWith(srv, "10.77.0.4", start.Add(3*time.Second))
	if srv.Stats().Opened != 0 {
		t.Fatalf("a replay after a restart opened:\n%s", logged.String())
	}
	if n := strings.Count(logged.String(), "already used: refused (a replay?)"); n != 2 {
		t.Fatalf("%d refusals logged, want 2:\n%s", n, logged.String())
	}
	if fi, err := os.Stat(filepath.Join(state, windowsFile)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("state file: %v %v", fi, err)
	}

	// A state directory that cannot be written: said, kept in memory.
	blocked := filepath.Join(t.TempDir(), "file")
	os.WriteFile(blocked, nil, 0o600)
	state = filepath.Join(blocked, "sub")
	logged.Reset()
	srv = newServer()
	knockWith(srv, "10.77.0.5", start.Add(4*time.Second)) // opens: nothing was kept there
	knockWith(srv, "10.77.0.6", start.Add(5*time.Second)) // refused from memory
	if srv.Stats().Opened != 1 || !strings.Contains(logged.String(), "cannot keep the used windows of time-based doors in "+state) ||
		!strings.Contains(logged.String(), "10.77.0.6: totp: sequence of window") {
		t.Fatalf("opened %d:\n%s", srv.Stats().Opened, logged.String())
	}
}
