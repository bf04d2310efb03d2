package knockcmd

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/knocktools/knock"
	"github.com/knocktools/knock/client"
	"github.com/knocktools/knock/internal/buildinfo"
	"github.com/knocktools/knock/profiles"
)

// rootOptions is what the root command's flags and arguments say.
type rootOptions struct {
	Host     string
	Profile  string // the profile knocked, if any
	Sequence knock.Sequence
	Client   client.Options
	Verbose  bool
	JSON     bool
	Wait     time.Duration     // --wait: negative means "the profile's, else the default"
	Port     uint16            // --port
	Close    bool              // --close: the profile's close sequence
	SPA      *profiles.Profile // an SPA profile: one packet instead of Sequence

	streams *streams
}

const rootLong = `Send a port-knock sequence to HOST: one packet per PORT, in order;
or knock a saved profile: knock PROFILE.

Each knock is PORT[:PROTO[:FLAGS|PAYLOAD]]: a port 1-65535, optionally :tcp or
:udp (default tcp, or udp with -u), and for TCP optionally the flags to set,
joined by "+": syn, fin, rst, psh, ack, urg, ece, cwr (default syn). A UDP knock
sends one zero byte, as knock 0.8 does, or the payload given as hex=DEAD01,
b64=3q0B or text=anything (hex= is an empty datagram), for servers that match
payloads.

TCP knocks with flags other than a plain SYN are built and sent over raw
sockets, which needs root or CAP_NET_RAW. Plain SYN knocks fall back to a
non-blocking connect(), as knock 0.8 does, when raw sockets are not available.

A first argument that names a profile knocks that profile's host with its
sequence and options; ports after it replace the sequence. Options come from
the command line first, then these environment variables, then the profile:

    @VARS@`

const rootExample = `  knock door.example.com 7000 8000 9000
  knock -u -d 200 door.example.com 7000 8000:tcp 9000
  knock door.example.com 7000:tcp:fin+psh 8000:udp 9000:tcp:syn+urg
  knock --flags fin -v 2001:db8::7 7000 8000
  knock router.lan 7000:udp:text=open-sesame 8000:udp:hex=c0ffee
  knock ssh-prod`

// subcommandWords are the first words that need knock's subcommands:
// their names (newRootCmd adds them; TestSubcommandWords keeps the list
// true) and cobra's own.
var subcommandWords = []string{"profile", "gen", "proxy", "ssh", "ssh-config", "check", "spa",
	"completion", "help", cobra.ShellCompRequestCmd, cobra.ShellCompNoDescRequestCmd}

// newRootCmd builds the knock command tree. runF replaces the work of the
// root command in tests that check only how the command line is read.
func newRootCmd(s *streams, runF func(*rootOptions) error) *cobra.Command {
	cmd, a := newRootOnly(s, runF)
	a.addSubcommands(cmd)
	return cmd
}

// addSubcommands adds every subcommand to root, and names the default
// profile file in the usage of --config.
func (a *app) addSubcommands(root *cobra.Command) {
	root.PersistentFlags().Lookup("config").Usage = "profile file (default $KNOCK_CONFIG, else " + displayDefaultPath() + ")"
	root.Long = strings.Replace(rootLong, "@VARS@", strings.Join(KnockVariables(), " "), 1)
	root.AddCommand(newProfileCmd(a), newGenCmd(a), newProxyCmd(a), newSSHCmd(a), newSSHConfigCmd(a), newCheckCmd(a), newSPACmd(a))
}

// needsSubcommands reports whether a command line may run a subcommand
// (or help, or completion): when its first word that is not a root flag
// or a root flag's value is one of subcommandWords, when it asks for
// help, or when it has no such word at all (cobra then prints usage) and
// does not ask for the version.
func needsSubcommands(root *cobra.Command, args []string) bool {
	// Persistent flags (--config) are merged into Flags only at parse time.
	lookup := func(name string) *pflag.Flag {
		if f := root.Flags().Lookup(name); f != nil {
			return f
		}
		return root.PersistentFlags().Lookup(name)
	}
	shorthand := func(c string) *pflag.Flag {
		if f := root.Flags().ShorthandLookup(c); f != nil {
			return f
		}
		return root.PersistentFlags().ShorthandLookup(c)
	}
	takesValue := func(f *pflag.Flag) bool { return f != nil && f.NoOptDefVal == "" && f.Value.Type() != "bool" }
	for _, arg := range args {
		if arg == "--" {
			break
		}
		if arg == "-h" || arg == "--help" {
			return true // cobra reads flags after the arguments too
		}
	}
	version := false
	for i := 0; i < len(args); i++ {
		arg := args[i]
		switch {
		case arg == "--":
			return i+1 >= len(args) || slices.Contains(subcommandWords, args[i+1])
		case strings.HasPrefix(arg, "--"):
			name, _, hasValue := strings.Cut(arg[2:], "=")
			version = version || name == "version"
			if !hasValue && takesValue(lookup(name)) {
				i++
			}
		case strings.HasPrefix(arg, "-") && len(arg) > 1:
			// Shorthands, possibly combined (-4v); the last may take the
			// rest of the word or the next one as its value (-d 200).
			for j := 1; j < len(arg); j++ {
				f := shorthand(arg[j : j+1])
				if takesValue(f) {
					if j == len(arg)-1 {
						i++
					}
					break
				}
				version = version || f != nil && f.Name == "version"
			}
		default:
			return slices.Contains(subcommandWords, arg)
		}
	}
	return !version
}

// newRootOnly builds the root command without its subcommands: all that
// "knock PROFILE" and "knock HOST PORT..." need. Building the rest costs
// about 50 us of a 0.4 ms profile knock here (code and memory touched
// for the first time), so Run adds them only for a command line that
// uses them.
func newRootOnly(s *streams, runF func(*rootOptions) error) (*cobra.Command, *app) {
	a := &app{streams: s}
	opts := &rootOptions{streams: s}
	var version bool
	cmd := &cobra.Command{
		Use:               "knock [flags] HOST PORT[:PROTO[:FLAGS]]... | knock [flags] PROFILE [PORT...]",
		Short:             "Send port-knock sequences over TCP (any flags) and UDP, IPv4 and IPv6",
		Example:           rootExample,
		SilenceErrors:     true,
		SilenceUsage:      true,
		Args:              cobra.ArbitraryArgs,
		ValidArgsFunction: a.completeRootArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if version {
				fmt.Fprintln(s.Out, buildinfo.String("knock"))
				return nil
			}
			if err := a.target(cmd, args, opts); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			knocked, err := a.knockRun(cmd, opts)
			if err != nil || opts.Wait == 0 || opts.Client.DryRun {
				return err
			}
			return a.waitReport(cmd.Context(), knocked, opts.Port, opts.Wait)
		},
	}
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	cmd.SetOut(s.Out)
	cmd.SetErr(s.Err)

	f := cmd.Flags()
	f.SortFlags = false
	registerKnockFlags(cmd, true) // -u, -d, --flags, --method, ...
	f.BoolP("ipv4", "4", false, "use IPv4 only")
	f.BoolP("ipv6", "6", false, "use IPv6 only")
	f.BoolVarP(&opts.Verbose, "verbose", "v", false, "print one line per knock sent")
	f.BoolVar(&opts.Client.DryRun, "dry-run", false, "print what would be sent, send nothing")
	f.BoolVar(&opts.JSON, "json", false, "print one JSON object per knock on stdout")
	f.DurationVar(&opts.Wait, "wait", 0, "after knocking, wait up to this long for the service port to open and say how soon it did (--wait alone: the profile's wait, else 10s)")
	f.Lookup("wait").NoOptDefVal = "-1ns"
	f.Uint16Var(&opts.Port, "port", 0, "the service port --wait tries (default: the profile's, else 22)")
	f.BoolVar(&opts.Close, "close", false, "knock the profile's close_sequence instead of its sequence")
	f.Duration("clock-offset", 0, "shift the clock that picks a time-based profile's sequence (for a clock known to be off, e.g. -30s)")
	f.BoolVarP(&version, "version", "V", false, "print the version and exit")
	// The usage names the default file once help can be shown
	// (addSubcommands): finding it is work a knock does not need.
	cmd.PersistentFlags().StringVar(&a.configFlag, "config", "", "profile file (default $KNOCK_CONFIG, else the user configuration directory's knock/config.yaml)")

	return cmd, a
}

// target works out what to knock: a profile (the first argument names
// one) or HOST PORT... given ad hoc, and the options that apply.
func (a *app) target(cmd *cobra.Command, args []string, opts *rootOptions) error {
	if len(args) == 0 {
		return usagef("missing HOST and the ports to knock, or a PROFILE")
	}
	// The file is read from this small frame, not from targetIn's large
	// one (2 KB): the parser's frames then fit, under cobra's, in the 8 KB
	// stack main starts with. Go grows a stack by copying it and adjusting
	// every frame, which in a fresh process means first reads of each
	// function's tables: growing it here cost a profile knock 30-50 us
	// and 8 page faults (measured with whole processes alternated).
	f, err := a.load()
	return a.targetIn(cmd, args, opts, f, err)
}

// targetIn is target once the profile file is read (f, or its error).
func (a *app) targetIn(cmd *cobra.Command, args []string, opts *rootOptions, f *profiles.File, err error) error {
	var prof *profiles.Profile
	switch {
	case err == nil:
		if p, ok := f.Resolve(args[0]); ok {
			prof, opts.Profile = &p, args[0]
		}
	case len(args) == 1:
		return err
	default:
		// An ad-hoc knock does not need the profile file.
		fmt.Fprintf(a.streams.Err, "knock: warning: profiles not read: %v\n", err)
	}
	if prof == nil && len(args) == 1 {
		nf := f.NotFound(args[0])
		return usagef("%v; to knock a host ad hoc, give the ports: knock %s PORT...", nf, args[0])
	}
	host, ports := args[0], args[1:]
	if opts.Close {
		if prof == nil {
			return usagef("--close knocks a profile's close_sequence: %q is not a profile", args[0])
		}
		if len(ports) > 0 {
			return usagef("--close knocks the profile's close_sequence: give no ports")
		}
		c, err := prof.Closing()
		if err != nil {
			return fmt.Errorf("profile %q: %w", opts.Profile, err)
		}
		prof = &c
	}
	if prof != nil {
		host = prof.Host
	}
	if prof != nil && prof.SPA != nil {
		if len(ports) > 0 {
			return usagef("profile %q is an SPA profile: it sends one packet, give no ports", opts.Profile)
		}
		opts.Host, opts.SPA = host, prof
		if opts.Wait != 0 {
			if opts.Wait < 0 {
				opts.Wait = prof.WaitTime()
			}
			if opts.Port == 0 {
				opts.Port = prof.ServicePort()
			}
		}
		return nil
	}
	dry := opts.Client.DryRun
	l, err := layersOf(cmd, opts.Profile, prof)
	if err != nil {
		return err
	}
	opts.Host, opts.Sequence, opts.Client, err = resolveKnock(l, host, ports)
	opts.Client.DryRun = dry
	if opts.Wait != 0 {
		p := profiles.Profile{}
		if prof != nil {
			p = *prof
		}
		if opts.Wait < 0 {
			opts.Wait = p.WaitTime()
		}
		if opts.Port == 0 {
			opts.Port = p.ServicePort()
		}
	}
	return err
}

// resolveKnock settles what a knock sends: the host, the sequence (ports
// given, else the profile's) and the options (see knockLayers).
func resolveKnock(l knockLayers, host string, ports []string) (string, knock.Sequence, client.Options, error) {
	o, d, err := l.options()
	if err != nil {
		return "", nil, o, err
	}
	prof, name := l.profile, l.name
	if prof != nil && len(ports) == 0 && prof.TimeBased() {
		seq, err := timeSequence(*prof, d, l.offset)
		if err != nil {
			return "", nil, o, fmt.Errorf("profile %q: %w", name, err)
		}
		return host, seq, o, nil
	}
	if prof != nil && len(ports) == 0 {
		seq, err := knock.ParseSequence(prof.Sequence, d)
		if err != nil {
			return "", nil, o, fmt.Errorf("profile %q: %w", name, err) // the file's fault, not the command line's
		}
		return host, seq, o, nil
	}
	seq, err := knock.ParseSequence(ports, d)
	if err != nil {
		return "", nil, o, usageError{err}
	}
	return host, seq, o, nil
}

// timeSequence derives a time-based profile's sequence for now, shifted by
// --clock-offset; TCP knocks take the default flags like any other.
func timeSequence(p profiles.Profile, d knock.Defaults, offset time.Duration) (knock.Sequence, error) {
	ts, err := p.TimeSequence()
	if err != nil {
		return nil, err
	}
	seq, err := ts.Derive(ts.Window(time.Now().Add(offset)))
	if err != nil {
		return nil, err
	}
	for i := range seq {
		if seq[i].Proto == knock.TCP {
			seq[i].Flags = d.Flags
		}
	}
	return seq, nil
}

// completeFlagList offers the TCP flag names, continuing a list already
// begun with "+" ("fin+<TAB>" offers "fin+psh", ...), without the flags
// the list already has ("fin+<TAB>" does not offer "fin+fin").
func completeFlagList(_ *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	prefix := ""
	if i := strings.LastIndexAny(toComplete, "+,"); i >= 0 {
		prefix = toComplete[:i+1]
	}
	given := strings.FieldsFunc(strings.ToLower(prefix), func(r rune) bool { return r == '+' || r == ',' })
	var out []string
	for _, n := range knock.FlagNames() {
		if !slices.Contains(given, n) {
			out = append(out, prefix+n)
		}
	}
	return out, cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveNoSpace
}

// displayDefaultPath is the default profile file for help texts, with the
// home directory written as ~ so generated docs do not depend on who ran
// the generator.
func displayDefaultPath() string {
	p, err := profiles.DefaultPath()
	if err != nil {
		return "the user configuration directory"
	}
	if home, err := os.UserHomeDir(); err == nil && strings.HasPrefix(p, home) {
		p = "~" + strings.TrimPrefix(p, home)
	}
	return p
}
