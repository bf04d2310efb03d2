//go:build linux

package knockdcmd

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/knocktools/knock/internal/lab"
)

// TestSyslogLikeDebianKnockd runs Debian's knockd 0.8 and ours with
// UseSyslog, each with its own /dev/log (a socket of the test's, in a
// private mount namespace), knocks both open and compares what reached
// syslog: facility and severity, tag and every message.
func TestSyslogLikeDebianKnockd(t *testing.T) {
	lab.Require(t, "knockd", "unshare")
	l := lab.New(t)
	srv4, me := l.Server.Addr4.String(), l.Client.Addr4.String()
	run := func(program string) []string {
		sink := listenSyslog(t)
		kd := l.Server.StartKnockd(t, withDevLog(t, program, sink.path), lab.Fixture(t, "syslog.conf"), nil)
		out, err := l.Client.Command(context.Background(), ourKnock(t), srv4, "7001", "7002", "7003").CombinedOutput()
		if err != nil {
			t.Fatalf("knock: %v\n%s", err, out)
		}
		lab.WaitFile(t, kd.DoorFile("door"), me, 5*time.Second)
		kd.Stop()
		got := sink.wait(t, "shutting down", 5*time.Second)
		for i := range got {
			got[i] = strings.ReplaceAll(got[i], kd.Dir, "@DIR@")
		}
		return got
	}
	theirs := run(lab.DebianKnockd)
	ours := run(ourKnockd(t))

	// daemon.notice (29), tag "knockd" with no PID, no newline. (0.8 also
	// sends a newline after the command line, an accident of its code,
	// which syslog daemons drop.)
	want := []string{
		"<29>knockd: starting up, listening on eth0",
		"<29>knockd: " + me + ": door: Stage 1",
		"<29>knockd: " + me + ": door: Stage 2",
		"<29>knockd: " + me + ": door: Stage 3",
		"<29>knockd: " + me + ": door: OPEN SESAME",
		"<29>knockd: door: running command: echo " + me + " >> @DIR@/door",
		"<29>knockd: shutting down",
	}
	for name, got := range map[string][]string{"knockd 0.8": theirs, "ours": ours} {
		if name == "knockd 0.8" && len(got) == len(want) {
			got[5] = strings.TrimSuffix(got[5], "\n")
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("%s sent to syslog:\n%q\nwant:\n%q", name, got, want)
		}
	}
}

// withDevLog returns a script that runs program in a private mount
// namespace whose /dev is a tmpfs holding the usual device nodes and a
// /dev/log that is the test's socket, so that the host's /dev is left as
// it is.
func withDevLog(t *testing.T, program, socket string) string {
	t.Helper()
	dir := t.TempDir()
	// The lab gives our knockd a status socket of its own; Debian's has
	// no such flag.
	strip := ""
	if program == lab.DebianKnockd {
		strip = `for a do shift; case "$a" in --status-socket) skip=1;; *) [ -n "$skip" ] && skip= || set -- "$@" "$a";; esac; done
`
	}
	script := `#!/bin/sh
` + strip + `exec unshare --mount --propagation private sh -ec '
real="$1"; sock="$2"; shift 2
mount --bind /dev "$real"
mount -t tmpfs -o mode=0755 devlog /dev
for n in null zero random urandom; do
	touch "/dev/$n"
	mount --bind "$real/$n" "/dev/$n"
done
ln -s "$sock" /dev/log
exec "$@"' sh "` + filepath.Join(dir, "dev") + `" "` + socket + `" "` + program + `" "$@"
`
	if err := os.Mkdir(filepath.Join(dir, "dev"), 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "with-dev-log")
	if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

// syslogSink is a datagram socket standing in for /dev/log: it keeps the
// messages it receives as they came, but for the timestamp.
type syslogSink struct {
	path string
	mu   sync.Mutex
	msgs []string
}

// syslogLine is what a local syslog client sends: "<PRI>Mmm dd hh:mm:ss
// TAG: MESSAGE" (Go's log/syslog: "TAG[PID]: MESSAGE\n").
var syslogLine = regexp.MustCompile(`(?s)^(<\d+>)[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d (.*)$`)

func listenSyslog(t *testing.T) *syslogSink {
	t.Helper()
	// Unix socket paths are short: not under t.TempDir's long name.
	dir, err := os.MkdirTemp("", "syslog")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	s := &syslogSink{path: filepath.Join(dir, "log")}
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: s.path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := conn.Read(buf)
			if errors.Is(err, net.ErrClosed) {
				return
			}
			line := string(buf[:n])
			if m := syslogLine.FindStringSubmatch(line); m != nil {
				line = m[1] + m[2]
			}
			s.mu.Lock()
			s.msgs = append(s.msgs, line)
			s.mu.Unlock()
		}
	}()
	return s
}

// wait returns the messages received once one contains want.
func (s *syslogSink) wait(t *testing.T, want string, limit time.Duration) []string {
	t.Helper()
	var got []string
	ok := lab.Eventually(limit, func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		got = append(got[:0], s.msgs...)
		return strings.Contains(strings.Join(got, "\n"), want)
	})
	if !ok {
		t.Fatalf("no syslog message with %q in %v; received:\n%s", want, limit, strings.Join(got, "\n"))
	}
	return got
}
