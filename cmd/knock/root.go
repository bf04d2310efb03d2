package main

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/knocktools/knock"
	"github.com/knocktools/knock/client"
	"github.com/knocktools/knock/internal/buildinfo"
)

// rootOptions is what the root command's flags and arguments say.
type rootOptions struct {
	Host     string
	Sequence knock.Sequence
	Client   client.Options
	Verbose  bool
	JSON     bool

	streams *streams
}

const rootLong = `Send a port-knock sequence to HOST: one packet per PORT, in order.

Each knock is PORT[:PROTO[:FLAGS]]: a port 1-65535, optionally :tcp or :udp
(default tcp, or udp with -u), and for TCP optionally the flags to set, joined
by "+": syn, fin, rst, psh, ack, urg, ece, cwr (default syn).

TCP knocks with flags other than a plain SYN are built and sent over raw
sockets, which needs root or CAP_NET_RAW. Plain SYN knocks fall back to a
non-blocking connect(), as knock 0.8 does, when raw sockets are not available.`

const rootExample = `  knock door.example.com 7000 8000 9000
  knock -u -d 200 door.example.com 7000 8000:tcp 9000
  knock door.example.com 7000:tcp:fin+psh 8000:udp 9000:tcp:syn+urg
  knock --flags fin -v 2001:db8::7 7000 8000`

// newRootCmd builds the knock command. runF replaces the work in tests that
// check only how the command line is read.
func newRootCmd(s *streams, runF func(*rootOptions) error) *cobra.Command {
	opts := &rootOptions{streams: s}
	var (
		udp, v4, v6, version bool
		delay                delayValue
		flags, method, sport string
		ttl                  int
	)
	cmd := &cobra.Command{
		Use:           "knock [flags] HOST PORT[:PROTO[:FLAGS]]...",
		Short:         "Send port-knock sequences over TCP (any flags) and UDP, IPv4 and IPv6",
		Long:          rootLong,
		Example:       rootExample,
		SilenceErrors: true,
		SilenceUsage:  true,
		Args:          cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if version {
				fmt.Fprintln(s.Out, buildinfo.String("knock"))
				return nil
			}
			if len(args) < 2 {
				if len(args) == 0 {
					return usagef("missing HOST and the ports to knock")
				}
				return usagef("missing the ports to knock after %q", args[0])
			}
			if v4 && v6 {
				return usagef("-4 and -6 exclude each other")
			}
			d := knock.Defaults{Proto: knock.TCP}
			if udp {
				d.Proto = knock.UDP
			}
			if flags != "" {
				f, err := knock.ParseTCPFlags(flags)
				if err != nil {
					return usagef("--flags %q: %v", flags, err)
				}
				d.Flags = f
			}
			seq, err := knock.ParseSequence(args[1:], d)
			if err != nil {
				return usageError{err}
			}
			m, err := client.ParseMethod(method)
			if err != nil {
				return usagef("--method: %v", err)
			}
			if sport != "" {
				p, err := knock.ParsePort(sport)
				if err != nil {
					return usagef("--source-port: %v", err)
				}
				opts.Client.SourcePort = p
			}
			if cmd.Flags().Changed("ttl") && (ttl < 1 || ttl > 255) {
				return usagef("--ttl %d out of range 1-255", ttl)
			}
			opts.Host, opts.Sequence = args[0], seq
			opts.Client.Method, opts.Client.TTL, opts.Client.Delay = m, ttl, time.Duration(delay)
			switch {
			case v4:
				opts.Client.Family = 4
			case v6:
				opts.Client.Family = 6
			}
			if runF != nil {
				return runF(opts)
			}
			return knockRun(cmd, opts)
		},
	}
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	cmd.SetOut(s.Out)
	cmd.SetErr(s.Err)

	f := cmd.Flags()
	f.SortFlags = false
	f.BoolVarP(&udp, "udp", "u", false, "make every knock that names no protocol UDP (default TCP)")
	f.VarP(&delay, "delay", "d", "wait between knocks: milliseconds as in knock 0.8, or a duration such as 250ms or 1.5s")
	f.BoolVarP(&v4, "ipv4", "4", false, "use IPv4 only")
	f.BoolVarP(&v6, "ipv6", "6", false, "use IPv6 only")
	f.BoolVarP(&opts.Verbose, "verbose", "v", false, "print one line per knock sent")
	f.StringVar(&flags, "flags", "", "TCP flags for every TCP knock that names none, joined by + or , (e.g. fin+psh)")
	f.StringVar(&method, "method", string(client.MethodAuto), "how TCP knocks are sent: auto (raw when privileged, else connect), raw or connect")
	f.StringVar(&sport, "source-port", "", "send every knock from this source port")
	f.IntVar(&ttl, "ttl", 0, "IP TTL / hop limit of the knocks, 1-255 (default: the system's)")
	f.BoolVar(&opts.Client.DryRun, "dry-run", false, "print what would be sent, send nothing")
	f.BoolVar(&opts.JSON, "json", false, "print one JSON object per knock on stdout")
	f.BoolVarP(&version, "version", "V", false, "print the version and exit")

	_ = cmd.RegisterFlagCompletionFunc("method", cobra.FixedCompletions(client.Methods(), cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.RegisterFlagCompletionFunc("flags", completeFlagList)
	return cmd
}

// completeFlagList offers the TCP flag names, continuing a list already
// begun with "+" ("fin+<TAB>" offers "fin+psh", ...).
func completeFlagList(_ *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	prefix := ""
	if i := strings.LastIndexAny(toComplete, "+,"); i >= 0 {
		prefix = toComplete[:i+1]
	}
	var out []string
	for _, n := range knock.FlagNames() {
		out = append(out, prefix+n)
	}
	return out, cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveNoSpace
}

// delayValue reads -d: a bare number is milliseconds (knock 0.8), anything
// else a Go duration.
type delayValue time.Duration

func (d *delayValue) String() string { return time.Duration(*d).String() }
func (d *delayValue) Type() string   { return "ms|duration" }
func (d *delayValue) Set(s string) error {
	if ms, err := strconv.ParseUint(s, 10, 32); err == nil {
		*d = delayValue(time.Duration(ms) * time.Millisecond)
		return nil
	}
	v, err := time.ParseDuration(s)
	if err != nil || v < 0 {
		return fmt.Errorf("%q is neither milliseconds nor a duration such as 250ms", s)
	}
	*d = delayValue(v)
	return nil
}
