package server

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"strings"
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
	// Journal, when set, gets every log line with a syslog priority
	// prefix ("<5>..."), as systemd's journal reads a service's standard
	// error: knockd sets it to stderr when that is not a terminal and
	// neither UseSyslog nor -v already carries the lines there.
	Journal io.Writer
	Debug   bool // -D: packet lines too
	Lookup  bool // -l: "IP (hostname)"
	// LookupAddr is -l's reverse lookup; nil: net.DefaultResolver's.
	LookupAddr func(ctx context.Context, addr string) ([]string, error)
	Now        func() time.Time
	names      names
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
func (l *Logger) Enabled() bool {
	return l.file != nil || l.syslog != nil || l.Verbose != nil || l.Journal != nil
}

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
	if l.Journal != nil {
		// <5>: notice, as 0.8's syslog lines (daemon.notice).
		_, _ = io.WriteString(l.Journal, "<5>"+msg+"\n")
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
// name, "10.0.0.1 (host.example)". Who never waits for DNS: it is called
// on the packet path, and a slow resolver fed spoofed first knocks would
// stall capture until the kernel drops real knocks. A name is shown once
// it has been looked up in the background (see names); until then, and
// for addresses whose lookup was dropped or failed, the line has the
// address alone.
func (l *Logger) Who(ip netip.Addr) string {
	if !l.Lookup {
		return ip.String()
	}
	if n := l.names.get(ip, l.LookupAddr); n != "" {
		return ip.String() + " (" + n + ")"
	}
	return ip.String()
}

// Name lookups for -l: at most maxNames addresses are remembered (the
// oldest forgotten first), at most lookupQueue wait for the one goroutine
// that asks DNS, and an address that finds the queue full is not looked
// up (its lines show the address alone). Each lookup has lookupTimeout.
const (
	maxNames      = 4096
	lookupQueue   = 64
	lookupTimeout = 5 * time.Second
)

// names is the cache of -l's reverse lookups.
type names struct {
	mu    sync.Mutex
	known map[netip.Addr]string // "" while looked up, or when none was found
	order []netip.Addr          // known's keys in a ring: the oldest at next once it is full
	next  int
	queue chan netip.Addr
}

// get returns the name of ip if it is known, and otherwise asks for it in
// the background (lookup, nil for net.DefaultResolver's), without waiting.
func (c *names) get(ip netip.Addr, lookup func(context.Context, string) ([]string, error)) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if n, ok := c.known[ip]; ok {
		return n
	}
	if c.queue == nil {
		c.known = make(map[netip.Addr]string)
		c.queue = make(chan netip.Addr, lookupQueue)
		if lookup == nil {
			lookup = net.DefaultResolver.LookupAddr
		}
		go c.resolve(lookup)
	}
	select {
	case c.queue <- ip:
	default:
		return "" // behind: this address goes without a name
	}
	if len(c.order) < maxNames {
		c.order = append(c.order, ip)
	} else {
		delete(c.known, c.order[c.next])
		c.order[c.next] = ip
		c.next = (c.next + 1) % maxNames
	}
	c.known[ip] = ""
	return ""
}

// resolve looks up the queued addresses, one at a time, for ever.
func (c *names) resolve(lookup func(context.Context, string) ([]string, error)) {
	for ip := range c.queue {
		ctx, cancel := context.WithTimeout(context.Background(), lookupTimeout)
		found, err := lookup(ctx, ip.String())
		cancel()
		if err != nil || len(found) == 0 {
			continue
		}
		c.mu.Lock()
		if _, ok := c.known[ip]; ok { // not forgotten meanwhile
			c.known[ip] = strings.TrimSuffix(found[0], ".")
		}
		c.mu.Unlock()
	}
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
