package knockdcmd

import (
	"bufio"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/knocktools/knock/internal/buildinfo"
	"github.com/knocktools/knock/internal/safetext"
	"github.com/knocktools/knock/knockdconf"
	"github.com/knocktools/knock/server"
)

// knockd status asks a running knockd over a Unix socket only root may
// use (StatusSocket, --status-socket): no network listener. The request
// is one line, "status" or "status -v"; the answer is server.Status as
// JSON, and the connection closes.

// statusSocket is where a knockd serves its status: the flag, else the
// config's StatusSocket, else the default; "" for off.
func statusSocket(flag string, cfg *knockdconf.Config) string {
	p := firstOf(flag, cfg.StatusSocket, knockdconf.DefaultStatusSocket)
	if p == "off" {
		return ""
	}
	return p
}

// listenStatus opens the status socket: mode 0600 in a directory it makes
// (0755) when missing. A socket a dead knockd left is replaced; one that
// answers belongs to a knockd still running, and a file that is no
// socket is left alone.
func listenStatus(path string) (*net.UnixListener, error) {
	if !filepath.IsAbs(path) {
		return nil, fmt.Errorf("%s: want an absolute path", path)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	if fi, err := os.Lstat(path); err == nil {
		if fi.Mode()&os.ModeSocket == 0 {
			return nil, fmt.Errorf("%s exists and is no socket: not replaced", path)
		}
		if c, err := net.DialTimeout("unix", path, time.Second); err == nil {
			c.Close()
			return nil, fmt.Errorf("%s: another knockd answers there (give this one its own StatusSocket)", path)
		}
		if err := os.Remove(path); err != nil {
			return nil, err
		}
	}
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		return nil, err
	}
	// Connecting takes write permission on the socket: the umask's 0755
	// already keeps others out; 0600 says so.
	if err := os.Chmod(path, 0o600); err != nil {
		l.Close()
		return nil, err
	}
	return l, nil
}

// serveStatus answers status requests on l until ctx ends.
func serveStatus(ctx context.Context, l *net.UnixListener, srv *server.Server, socket string) {
	stop := context.AfterFunc(ctx, func() { l.Close() })
	defer stop()
	for {
		c, err := l.AcceptUnix()
		if err != nil {
			if ctx.Err() == nil {
				srv.Log.Printf("status: %s: %v; knockd status will not reach this knockd", socket, err)
			}
			return
		}
		go answerStatus(c, srv, socket)
	}
}

// answerStatus answers one request, from root (or knockd's own user) only.
func answerStatus(c *net.UnixConn, srv *server.Server, socket string) {
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if uid, err := peerUID(c); err == nil && uid != 0 && int(uid) != os.Geteuid() {
		fmt.Fprintf(c, "error: knockd status is root's only (uid %d asked)\n", uid)
		return
	}
	line, err := bufio.NewReader(io.LimitReader(c, 64)).ReadString('\n')
	if err != nil {
		return
	}
	var verbose bool
	switch strings.TrimSpace(line) {
	case "status":
	case "status -v":
		verbose = true
	default:
		fmt.Fprintf(c, "error: unknown request %q\n", safetext.Escape(strings.TrimSpace(line)))
		return
	}
	st := srv.Status(verbose)
	st.Version, st.PID, st.Socket = buildinfo.Version(), os.Getpid(), socket
	_ = json.NewEncoder(c).Encode(st)
}

type statusOptions struct {
	config, socket string
	json, verbose  bool
}

func newStatusCmd(stdout io.Writer) *cobra.Command {
	o := &statusOptions{}
	cmd := &cobra.Command{
		Use:   "status [--json] [-v] [-c FILE] [--socket PATH]",
		Short: "Show what a running knockd has open, who is knocking, and its captures",
		Long: `Ask a running knockd, over its status socket (StatusSocket, default
` + knockdconf.DefaultStatusSocket + `, root's only), what it is doing: each door's
openings (the knocker, when it opened and when its stop command is due, or
that it has none), the stop commands pending, the knockers in progress at
each door (-v names the furthest along), each interface's capture (frames
read, kernel drops), the counters SIGUSR1 logs, the configuration file and
when it was loaded, and the firewall holes door commands opened with knockd
fw and have not closed (knockd fw list shows the rules as the firewall holds
them). --json prints the answer as it came.

The socket is the one -c FILE's StatusSocket names (default /etc/knockd.conf),
unless --socket gives it.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return o.run(cmd.Context(), stdout)
		},
	}
	f := cmd.Flags()
	f.BoolVar(&o.json, "json", false, "print the status as JSON")
	f.BoolVarP(&o.verbose, "verbose", "v", false, "name the knockers furthest along at each door")
	f.StringVarP(&o.config, "config", "c", "/etc/knockd.conf", "the configuration whose StatusSocket to ask")
	f.StringVar(&o.socket, "socket", "", "the status socket to ask (default: the configuration's StatusSocket)")
	return cmd
}

// errNotRunning says no knockd answers on the socket.
var errNotRunning = errors.New("no knockd answers there")

func (o *statusOptions) run(ctx context.Context, stdout io.Writer) error {
	socket := o.socket
	if socket == "" {
		socket = knockdconf.DefaultStatusSocket
		// The file is root's; unreadable or broken, the default holds.
		if data, err := os.ReadFile(o.config); err == nil {
			if cfg, err := knockdconf.Parse(o.config, data); err == nil {
				socket = statusSocket("", cfg)
			}
		}
		if socket == "" {
			return fmt.Errorf("%s: StatusSocket = off: this knockd answers no status", o.config)
		}
	}
	var d net.Dialer
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	c, err := d.DialContext(ctx, "unix", socket)
	switch {
	case errors.Is(err, os.ErrPermission):
		return fmt.Errorf("%s: permission denied: knockd status is root's only (try sudo)", socket)
	case errors.Is(err, os.ErrNotExist), isRefused(err):
		return fmt.Errorf("%s: %w (is knockd running, with this StatusSocket?)", socket, errNotRunning)
	case err != nil:
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	req := "status\n"
	if o.verbose {
		req = "status -v\n"
	}
	// A knockd that refuses us may have answered and closed before the
	// request is written: its answer says why.
	_, werr := io.WriteString(c, req)
	answer, err := io.ReadAll(io.LimitReader(c, 64<<20))
	if err != nil && len(answer) == 0 {
		return fmt.Errorf("%s: %w", socket, cmp.Or(werr, err))
	}
	if msg, ok := strings.CutPrefix(string(answer), "error: "); ok {
		return fmt.Errorf("%s: %s", socket, safetext.Lines(strings.TrimSpace(msg)))
	}
	var st server.Status
	if err := json.Unmarshal(answer, &st); err != nil {
		return fmt.Errorf("%s: not a status: %w", socket, err)
	}
	if o.json {
		_, err := stdout.Write(answer)
		return err
	}
	printStatus(stdout, &st, time.Now())
	return nil
}

// isRefused reports a socket no one listens on any more.
func isRefused(err error) bool { return errors.Is(err, syscall.ECONNREFUSED) }

// printStatus writes a status for a person.
func printStatus(w io.Writer, st *server.Status, now time.Time) {
	ago := func(t time.Time) string { return now.Sub(t).Round(time.Second).String() }
	clock := func(t time.Time) string { return t.Local().Format("2006-01-02 15:04:05") }
	fmt.Fprintf(w, "knockd %s, pid %d, up %s\n", st.Version, st.PID, ago(st.Started))
	fmt.Fprintf(w, "config %s, loaded %s (%s ago)\n", st.Config, clock(st.Loaded), ago(st.Loaded))
	fmt.Fprintln(w, "doors:")
	for _, d := range st.Doors {
		state := ""
		if d.Disabled {
			state = ", disabled (no one-time sequence left)"
		}
		fmt.Fprintf(w, "  [%s] %s: %d open, %d knocking%s\n", safetext.Escape(d.Name), d.Kind, len(d.Open), d.Knockers, state)
		for _, o := range d.Open {
			switch {
			case o.NoStop:
				fmt.Fprintf(w, "    %-39s opened %s, no stop_command\n", o.Source, clock(o.OpenedAt))
			case o.Closing:
				fmt.Fprintf(w, "    %-39s opened %s, closing now\n", o.Source, clock(o.OpenedAt))
			case o.ClosesAt.IsZero():
				fmt.Fprintf(w, "    %-39s opened %s, start command running\n", o.Source, clock(o.OpenedAt))
			default:
				fmt.Fprintf(w, "    %-39s opened %s, closes %s (in %s)\n", o.Source, clock(o.OpenedAt), clock(o.ClosesAt), o.ClosesAt.Sub(now).Round(time.Second))
			}
		}
		for _, k := range d.Top {
			fmt.Fprintf(w, "    %-39s knocking: %d of %d knocks, since %s\n", k.Source, k.Stage, k.Of, clock(k.Since))
		}
	}
	fmt.Fprintf(w, "commands: %d running, %d stop command(s) pending\n", st.Commands, st.Pending)
	fmt.Fprintln(w, "captures:")
	for _, c := range st.Captures {
		state := ""
		if !c.Capturing {
			state = " (not capturing now)"
		}
		fmt.Fprintf(w, "  %s: %d frames, %d kernel drops%s\n", c.Interface, c.Frames, c.KernelDrops, state)
	}
	cn := st.Counters
	fmt.Fprintf(w, "counters: %d packets, %d dropped by the kernel, %d seen by doors, %d knockers tracked, %d doors opened\n",
		cn.Packets, cn.KernelDrops, cn.Visible, cn.Tracked, cn.Opened)
	if len(st.Holes) == 0 {
		fmt.Fprintln(w, "firewall holes: none opened by door commands through knockd fw")
		return
	}
	fmt.Fprintln(w, "firewall holes (opened by door commands through knockd fw; knockd fw list shows the firewall's rules):")
	for _, h := range st.Holes {
		fmt.Fprintf(w, "  %s %s/%d for %s, door [%s], since %s\n", h.Backend, h.Proto, h.Port, h.Source, safetext.Escape(h.Door), clock(h.OpenedAt))
	}
}
