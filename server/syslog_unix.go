//go:build unix

package server

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"time"
)

// syslogPriority is daemon.notice, what Debian's knockd 0.8 logs at.
const syslogPriority = 3<<3 | 5

// syslogWriter sends each line as knockd 0.8 does through syslog(3):
// "<29>Mmm dd hh:mm:ss knockd: message", with no process ID and no
// newline. (Go's log/syslog always writes "knockd[PID]:", which filters
// written for knockd 0.8's lines would not match.) A failed write
// reconnects once, so a restarted syslog daemon gets the next line.
type syslogWriter struct {
	paths   []string
	mu      sync.Mutex
	conn    net.Conn
	network string
	now     func() time.Time
}

// openSyslog connects to the local syslog daemon, where Linux, macOS and
// the BSDs have it.
func openSyslog() (io.Writer, error) {
	return dialSyslog("/dev/log", "/var/run/syslog", "/var/run/log")
}

// dialSyslog connects to the first of paths that a syslog daemon listens on.
func dialSyslog(paths ...string) (*syslogWriter, error) {
	w := &syslogWriter{paths: paths, now: time.Now}
	if err := w.connect(); err != nil {
		return nil, err
	}
	return w, nil
}

func (w *syslogWriter) connect() error {
	var first error
	for _, path := range w.paths {
		for _, network := range []string{"unixgram", "unix"} {
			c, err := net.Dial(network, path)
			if err == nil {
				w.conn, w.network = c, network
				return nil
			}
			if first == nil {
				first = err
			}
		}
	}
	return fmt.Errorf("no syslog daemon listens on %s: %w", strings.Join(w.paths, ", "), first)
}

// Write sends p, one log line, as one syslog message.
func (w *syslogWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	msg := fmt.Sprintf("<%d>%s knockd: %s", syslogPriority, w.now().Format(time.Stamp), bytes.TrimRight(p, "\n"))
	if w.conn != nil && w.send(msg) == nil {
		return len(p), nil
	}
	if w.conn != nil {
		w.conn.Close()
		w.conn = nil
	}
	if err := w.connect(); err != nil {
		return 0, err
	}
	if err := w.send(msg); err != nil {
		return 0, err
	}
	return len(p), nil
}

// send writes one message; on a stream socket a newline ends it.
func (w *syslogWriter) send(msg string) error {
	if w.network == "unix" {
		msg += "\n"
	}
	_, err := io.WriteString(w.conn, msg)
	return err
}
