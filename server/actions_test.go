package server

import (
	"bytes"
	"context"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/knocktools/knock/knockdconf"
)

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func doorConf(t *testing.T, conf string) *knockdconf.Door {
	t.Helper()
	c, err := knockdconf.Parse("t.conf", []byte(conf))
	if err != nil {
		t.Fatal(err)
	}
	return c.Doors[0]
}

func TestActionsStartThenStop(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "trace")
	door := doorConf(t, "[d]\nsequence=1\nstart_command = echo open %IP% >> "+out+"; echo hello; exit 3\n"+
		"cmd_timeout = 0\nstop_command = echo close %IP% >> "+out+"\nstart_command_6 = echo open6 %IP% >> "+out+"\n")
	var logged lockedBuffer
	a := &Actions{Log: &Logger{Verbose: &logged, Now: time.Now}}
	a.Open(door, netip.MustParseAddr("10.77.0.1"))
	waitFor(t, "start and stop", func() bool {
		b, _ := os.ReadFile(out)
		return strings.Count(string(b), "\n") == 2
	})
	b, _ := os.ReadFile(out)
	if string(b) != "open 10.77.0.1\nclose 10.77.0.1\n" {
		t.Fatalf("trace %q", b)
	}
	a.Shutdown(context.Background())
	for _, want := range []string{
		"d: running command: echo open 10.77.0.1 >> ",
		"d: command output: hello",
		"d: command returned non-zero status code (3)",
		"10.77.0.1: d: command timeout",
		"d: running command: echo close 10.77.0.1",
	} {
		if !strings.Contains(logged.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, logged.String())
		}
	}
	// IPv6 knockers use the _6 start command and fall back to the IPv4 stop.
	os.Remove(out)
	a = &Actions{Log: &Logger{Now: time.Now}}
	a.Open(door, netip.MustParseAddr("fd77::1"))
	waitFor(t, "ipv6 start and stop", func() bool {
		b, _ := os.ReadFile(out)
		return strings.Count(string(b), "\n") == 2
	})
	if b, _ := os.ReadFile(out); string(b) != "open6 fd77::1\nclose fd77::1\n" {
		t.Fatalf("ipv6 trace %q", b)
	}
}

func TestShutdownRunsPendingStops(t *testing.T) {
	out := filepath.Join(t.TempDir(), "trace")
	door := doorConf(t, "[d]\nsequence=1\ncmd_timeout = 3600\nstop_command = echo close %IP% >> "+out+"\n")
	a := &Actions{Log: &Logger{Now: time.Now}}
	a.Open(door, netip.MustParseAddr("10.77.0.1"))
	a.Open(door, netip.MustParseAddr("10.77.0.3"))
	waitFor(t, "two pending stops", func() bool { return a.Pending() == 2 })
	if n := a.Pending(); n != 2 {
		t.Fatalf("%d pending stops, want 2", n)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	a.Shutdown(ctx)
	b, _ := os.ReadFile(out)
	if !strings.Contains(string(b), "close 10.77.0.1\n") || !strings.Contains(string(b), "close 10.77.0.3\n") {
		t.Fatalf("trace after shutdown %q", b)
	}
	a.Open(door, netip.MustParseAddr("10.77.0.9"))
	if a.Pending() != 0 {
		t.Fatal("Open after Shutdown scheduled a stop")
	}
}

// A command's output, like every log line, reaches the log and the
// terminal without its control characters.
func TestLogLinesAreEscaped(t *testing.T) {
	var out bytes.Buffer
	l := &Logger{Verbose: &out, Debug: true}
	l.Printf("%s: command output: %s", "door", "\x1b]0;pwned\x07")
	l.Debugf("%s", "\x1b[2J")
	if bytes.ContainsAny(out.Bytes(), "\x1b\x07") || !strings.Contains(out.String(), `door: command output: \x1b]0;pwned\a`) {
		t.Fatalf("logged %q", out.String())
	}
}
