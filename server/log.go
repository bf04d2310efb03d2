package server

import (
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"sync"
	"time"

	"github.com/knocktools/knock/internal/atomicfile"
	"github.com/knocktools/knock/internal/safetext"
)

// Logger writes knockd 0.8's log lines: to LogFile as
// "[YYYY-MM-DD HH:MM] message", to syslog when UseSyslog is set, and to
// Verbose (standard output with -v or -D) as the bare message.
type Logger struct {
	mu      sync.Mutex
	file    *os.File
	syslog  io.Writer
	Verbose io.Writer // nil: quiet
	Debug   bool      // -D: packet lines too
	Lookup  bool      // -l: "IP (hostname)"
	Now     func() time.Time
}

// NewLogger opens logFile (append, created 0640) and syslog as asked.
func NewLogger(logFile string, useSyslog bool) (*Logger, error) {
	l := &Logger{Now: time.Now}
	if logFile != "" {
		// Never through a symbolic link: knockd runs as root.
		f, err := atomicfile.OpenNoFollow(logFile, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
		if err != nil {
			return nil, fmt.Errorf("LogFile: %w", err)
		}
		l.file = f
	}
	if useSyslog {
		w, err := openSyslog()
		if err != nil {
			return nil, fmt.Errorf("UseSyslog: %w", err)
		}
		l.syslog = w
	}
	return l, nil
}

// Printf logs one message everywhere logging goes.
func (l *Logger) Printf(format string, a ...any) { l.print(true, format, a...) }

// Logf logs to LogFile and syslog only, for the lines knockd 0.8 does not
// print with -v (it prints "listening on IF..." where it logs "starting up").
func (l *Logger) Logf(format string, a ...any) { l.print(false, format, a...) }

// Enabled reports whether log lines go anywhere; when they do not, the
// packet path skips formatting them.
func (l *Logger) Enabled() bool { return l.file != nil || l.syslog != nil || l.Verbose != nil }

func (l *Logger) print(verbose bool, format string, a ...any) {
	if !l.Enabled() {
		return
	}
	// Names from the config, DNS answers (-l), command output: nothing
	// that reaches a log or a terminal keeps a control character.
	msg := safetext.Escape(fmt.Sprintf(format, a...))
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.file != nil {
		fmt.Fprintf(l.file, "[%s] %s\n", l.now().Format("2006-01-02 15:04"), msg)
	}
	if l.syslog != nil {
		_, _ = io.WriteString(l.syslog, msg)
	}
	if verbose && l.Verbose != nil {
		fmt.Fprintln(l.Verbose, msg)
	}
}

// Verbosef prints to the verbose stream only (-v or -D).
func (l *Logger) Verbosef(format string, a ...any) {
	if l.Verbose == nil {
		return
	}
	msg := safetext.Escape(fmt.Sprintf(format, a...))
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintln(l.Verbose, msg)
}

// Debugf prints only with -D, to the verbose stream.
func (l *Logger) Debugf(format string, a ...any) {
	if l.Debug {
		l.Verbosef(format, a...)
	}
}

// Who spells a knocker as log lines show it: the address, and with -l its
// name, "10.0.0.1 (host.example)". The lookup is bounded so a slow DNS
// server cannot hold up the log for long.
func (l *Logger) Who(ip netip.Addr) string {
	if !l.Lookup {
		return ip.String()
	}
	names := make(chan string, 1)
	go func() {
		n, _ := net.LookupAddr(ip.String())
		if len(n) > 0 {
			names <- n[0]
		}
		close(names)
	}()
	select {
	case n, ok := <-names:
		if ok {
			return fmt.Sprintf("%s (%s)", ip, n)
		}
	case <-time.After(time.Second):
	}
	return ip.String()
}

// now is the logger's clock (time.Now unless a test set one).
func (l *Logger) now() time.Time {
	if l.Now != nil {
		return l.Now()
	}
	return time.Now()
}

// Close closes the log file.
func (l *Logger) Close() error {
	if l.file != nil {
		return l.file.Close()
	}
	return nil
}
