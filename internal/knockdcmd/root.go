package knockdcmd

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/netip"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/knocktools/knock/firewall"
	"github.com/knocktools/knock/fwknopconf"
	"github.com/knocktools/knock/internal/atomicfile"
	"github.com/knocktools/knock/internal/buildinfo"
	"github.com/knocktools/knock/internal/safetext"
	"github.com/knocktools/knock/knockdconf"
	"github.com/knocktools/knock/server"
	"github.com/knocktools/knock/spadoor"
)

const knockdLong = `knockd listens to the traffic on an interface and runs the commands of a door
when a source sends that door's knock sequence. It reads knockd 0.8's
configuration (/etc/knockd.conf) and takes its flags.

CONFIGURATION

The file is line oriented; blank lines and lines starting with # are skipped.
[options] holds the global options, any other [name] starts a door. Keys are
case-insensitive and written Key = value.

[options]:

@OPTIONS@

A door:

@DOOR@

SIGNALS

SIGHUP re-reads the configuration (a bad one is reported and the running one
kept); SIGTERM and SIGINT run every pending Stop_Command, then exit; SIGUSR1
logs counters.`

// longHelp is knockdLong with the directives of knockd.conf filled in,
// from knockdconf's table.
func longHelp() string {
	return strings.NewReplacer("@OPTIONS@", knockdconf.ReferenceText(knockdconf.OptionsSection, 79),
		"@DOOR@", knockdconf.ReferenceText(knockdconf.DoorSection, 79)).Replace(knockdLong)
}

// options is what knockd's command line says.
type options struct {
	Interfaces []string
	RingSize   string
	Knockers   string
	MemLimit   string
	Config     string
	Daemon     bool
	Foreground bool
	Debug      bool
	Lookup     bool
	OnlyIPv4   bool
	Verbose    bool
	PidFile    string
	LogFile    string
	Check      bool
	Replay     string
	RunCmds    bool
	Stats      time.Duration
	LogLimit   int
	Status     string // --status-socket
	Firewall   string // --firewall: the built-in firewall, over [options] Firewall
	// FwknopdConf and AccessConf are fwknopd's files, for SPA; with one
	// of them and no -c, knockd serves SPA alone.
	FwknopdConf, AccessConf string
	ConfigGiven             bool // -c was given
}

// exitError carries an exit status out of cobra.
type exitError struct {
	code int
	err  error
}

func (e exitError) Error() string { return e.err.Error() }

func Run(args []string, stdout, stderr io.Writer) int {
	cmd := NewRootCmd(stdout, stderr)
	cmd.SetArgs(args)
	err := cmd.Execute()
	if err == nil {
		return 0
	}
	fmt.Fprintf(stderr, "knockd: %s\n", safetext.Lines(err.Error()))
	var ee exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	if errors.Is(err, firewall.ErrInvalid) {
		return 2
	}
	return 1
}

// NewRootCmd returns knockd's command tree (also for the man page).
func NewRootCmd(stdout, stderr io.Writer) *cobra.Command {
	var (
		o       options
		version bool
	)
	cmd := &cobra.Command{
		Use:           "knockd [options]",
		Short:         "Port-knock server, compatible with knockd 0.8",
		Long:          longHelp(),
		Args:          cobra.NoArgs,
		SilenceErrors: true,
		SilenceUsage:  true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if version {
				fmt.Fprintln(stdout, buildinfo.String("knockd"))
				return nil
			}
			o.ConfigGiven = cmd.Flags().Changed("config")
			return serve(cmd.Context(), &o, stdout, stderr)
		},
	}
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return exitError{2, err} })
	cmd.SetOut(stdout)
	cmd.SetErr(stderr)
	f := cmd.Flags()
	f.SortFlags = false
	f.StringSliceVarP(&o.Interfaces, "interface", "i", nil, "network interface to listen on; several with -i a -i b or -i a,b; any: every interface that is up (default: the config's Interface, else eth0)")
	f.StringVar(&o.RingSize, "ring-size", "", "capture ring per interface, e.g. 8M or 512K (default: the config's RingSize, else "+knockdconf.FormatSize(server.DefaultRing)+")")
	f.StringVar(&o.Knockers, "max-knockers", "", "knockers tracked at once (default: the config's MaxKnockers, else "+strconv.Itoa(server.DefaultMaxSources)+")")
	f.StringVar(&o.MemLimit, "memory-limit", "", "the Go runtime's soft memory limit, e.g. 12M, or off (default: the config's MemoryLimit, else GOMEMLIMIT)")
	f.BoolVarP(&o.Daemon, "daemon", "d", false, "run in the background")
	f.StringVarP(&o.Config, "config", "c", "/etc/knockd.conf", "configuration file")
	f.BoolVarP(&o.Debug, "debug", "D", false, "print debugging lines, one per packet seen")
	f.BoolVarP(&o.Lookup, "lookup", "l", false, "look up knockers' host names for log lines (a security risk: DNS answers are attacker-controlled)")
	f.BoolVarP(&o.OnlyIPv4, "only-ip-v4", "4", false, "ignore IPv6 packets")
	f.BoolVarP(&o.Verbose, "verbose", "v", false, "print log lines on standard output")
	f.StringVarP(&o.PidFile, "pidfile", "p", "", "PID file for daemon mode (default: the config's PidFile)")
	f.StringVarP(&o.LogFile, "logfile", "g", "", "log file (default: the config's LogFile)")
	f.BoolVarP(&version, "version", "V", false, "print the version and exit")
	f.BoolVar(&o.Check, "check", false, "check the configuration, print the doors and exit")
	f.StringVar(&o.Replay, "replay", "", "read packets from a pcap or pcapng file instead of an interface, then exit: a dry run that prints the commands doors would run and writes no file")
	f.BoolVar(&o.RunCmds, "run-commands", false, "with --replay: run the doors' commands for real, and write the log and one-time files")
	f.BoolVar(&o.Foreground, "foreground", false, "stay in the foreground even with -d (for systemd)")
	f.IntVar(&o.LogLimit, "log-limit", server.DefaultLogLimit, "log at most this many Stage and timeout lines a second, counting the rest (a flood of spoofed knocks would write one per packet); 0 logs all")
	f.DurationVar(&o.Stats, "stats", 0, "log a status line (packets, kernel drops, knockers tracked, doors opened) this often, e.g. 5m; SIGUSR1 logs one at any time")
	f.StringVar(&o.FwknopdConf, "fwknopd-conf", "", "serve SPA as fwknopd would with this fwknopd.conf (and its access.conf); without -c, SPA alone")
	f.StringVar(&o.AccessConf, "access-conf", "", "serve SPA as fwknopd would with this access.conf (and "+fwknopconf.DefaultServerConf+"); without -c, SPA alone")
	f.StringVar(&o.Firewall, "firewall", "", "the built-in firewall of Open_Ports and SPA stanzas without CMD_CYCLE_OPEN: auto, nftables, fw4 or iptables (default: the config's Firewall, else auto)")
	f.StringVar(&o.Status, "status-socket", "", "the socket knockd status asks, or off (default: the config's StatusSocket, else "+knockdconf.DefaultStatusSocket+")")
	cmd.AddCommand(newFWCmd(stdout), newStatusCmd(stdout), newKeygenCmd(stdout))
	return cmd
}

// serve runs knockd until a signal or the end of a replay.
func serve(ctx context.Context, o *options, stdout, stderr io.Writer) error {
	if o.LogLimit < 0 {
		return fmt.Errorf("--log-limit %d: want 0 (no limit) or more lines a second", o.LogLimit)
	}
	if o.Stats != 0 && (o.Stats < time.Second || o.Stats > 366*24*time.Hour) {
		return fmt.Errorf("--stats %v: want 0 (none) or from 1s to 8784h", o.Stats)
	}
	if o.RunCmds && o.Replay == "" {
		return exitError{2, errors.New("--run-commands goes with --replay")}
	}
	if o.Firewall != "" && !knockdconf.IsFirewall(o.Firewall) {
		return exitError{2, fmt.Errorf("--firewall %q: want %s", o.Firewall, knockdconf.FirewallChoice)}
	}
	cfg, err := loadConfig(o)
	if err != nil {
		return err
	}
	spac, err := loadSPA(o, cfg)
	if err != nil {
		return err
	}
	pcapIntf := ""
	if spac != nil {
		pcapIntf = spac.server.Interface
	}
	ifaces, err := knockdconf.ParseInterfaces(firstOf(strings.Join(o.Interfaces, ","), cfg.Interface, pcapIntf, knockdconf.DefaultInterface))
	if err != nil {
		return fmt.Errorf("-i: %w", err)
	}
	sz, err := sizesOf(o, cfg)
	if err != nil {
		return err
	}
	if o.Check {
		if cfg.Path != "" {
			printDoors(stdout, cfg)
		}
		var warnings []string
		if spac != nil {
			printSPA(stdout, spac, builtinBackend(o.Firewall, cfg, spac))
			warnings = append(warnings, spac.access.Warnings...)
		}
		printMemory(stdout, ifaces, sz, spaStanzaCount(spac))
		line, fwWarnings := builtinCheck(o.Firewall, cfg, spac, firewall.Exec{})
		if line != "" {
			fmt.Fprintln(stdout, line)
		}
		warnings = append(append(append(warnings, cfg.PermissionWarnings()...), fwAutoWarnings(cfg, firewall.Exec{})...), fwWarnings...)
		warnings = append(warnings, missingPrograms(cfg, exec.LookPath)...)
		for _, iface := range ifaces {
			if iface != knockdconf.AnyInterface && server.Missing(iface) {
				warnings = append(warnings, fmt.Sprintf("interface %s does not exist (yet): knockd will wait for it to appear", iface))
			}
		}
		for _, w := range warnings {
			fmt.Fprintf(stdout, "warning: %s\n", w)
		}
		return nil
	}
	if o.Daemon && !o.Foreground && o.Replay == "" {
		return daemonize()
	}
	dryRun := o.Replay != "" && !o.RunCmds
	logFile, useSyslog := firstOf(o.LogFile, cfg.LogFile), cfg.UseSyslog
	if dryRun {
		logFile, useSyslog = "", false // a dry run writes no file
	}
	log, err := server.NewLogger(logFile, useSyslog)
	if err != nil {
		return err
	}
	defer log.Close()
	if o.Verbose || o.Debug {
		log.Verbose = stdout
	}
	log.Journal = journal(o, useSyslog, stderr)
	log.Debug, log.Lookup = o.Debug, o.Lookup
	for _, w := range cfg.PermissionWarnings() {
		log.Printf("warning: %s", w)
	}
	actions := &server.Actions{Log: log, MaxCommands: cfg.MaxCommands, MaxDoorCommands: cfg.MaxDoorCommands}
	if dryRun {
		actions.DryRun = stdout
	} else {
		if o.Replay != "" {
			fmt.Fprintln(stderr, "knockd: --run-commands: the doors' commands run for real, and their files are written")
		}
		if actions.Holes, err = builtinFirewall(o.Firewall, cfg, spac, firewall.Exec{}); err != nil {
			return err
		}
		if actions.Holes != nil {
			log.Printf("built-in firewall: %s, for %s", actions.Holes.Name(), builtinNeed(cfg, spac))
		}
	}
	srv, err := server.New(cfg, log, actions)
	if err != nil {
		return err
	}
	srv.OnlyIPv4, srv.NoWrites = o.OnlyIPv4, dryRun
	var cache *spadoor.Cache
	if spac != nil {
		if cache, err = spac.replayCache(o.Replay != "" && !o.RunCmds); err != nil {
			return err
		}
		if !spac.server.Aging {
			log.Printf("warning: %s: ENABLE_SPA_PACKET_AGING N: the replay cache keeps the last %d digests only, and an older packet replayed is taken", spac.server.Path, spadoor.DefaultMaxEntries)
		}
		sp, err := spac.spaService(cache)
		if err != nil {
			return err
		}
		srv.SetSPA(sp)
	}
	if o.Replay == "" {
		srv.LoadState(cfg.StateDir) // a replay neither reads nor writes it
	}
	srv.SetRing(sz.ring)
	srv.SetMaxKnockers(sz.knockers)
	if sz.memLimit != 0 {
		debug.SetMemoryLimit(cmp.Or(max(sz.memLimit, 0), math.MaxInt64))
	}
	srv.SetLogLimit(o.LogLimit)

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if spac != nil && o.Replay == "" && len(spac.access.Stanzas) >= spaWorkersFrom {
		// The HMACs of a flood of forgeries on every core (a replay
		// decides in order, where it reads).
		srv.StartSPAWorkers(ctx, runtime.GOMAXPROCS(0))
	}
	signals := make(chan os.Signal, 4)
	handled := []os.Signal{syscall.SIGHUP, syscall.SIGTERM, syscall.SIGINT}
	stats := statsSignal()
	if stats != nil {
		handled = append(handled, stats)
	}
	signal.Notify(signals, handled...)
	defer signal.Stop(signals)
	go func() {
		for sig := range signals {
			switch {
			case sig == syscall.SIGHUP:
				reload(srv, o, cache)
			case sig == stats:
				logStats(srv, actions)
			default:
				cancel()
				return
			}
		}
	}()

	if o.Replay != "" {
		src, err := server.OpenReplay(o.Replay)
		if err != nil {
			return err
		}
		if len(o.Interfaces) > 0 {
			all := []netip.Addr{}
			for _, iface := range ifaces {
				addrs, err := server.InterfaceAddrs(iface)
				if err != nil {
					return err
				}
				all = append(all, addrs...)
			}
			srv.SetLocal(all)
		}
		err = srv.Serve(ctx, src)
		src.Close()
		finish(log, actions)
		st := srv.Stats()
		fmt.Fprintf(stderr, "knockd: replayed %d packets, %d seen by doors, %d doors opened\n", st.Packets, st.Visible, st.Opened)
		return err
	}

	if o.Daemon && o.Foreground {
		if err := writePidFile(firstOf(o.PidFile, cfg.PidFile)); err != nil {
			return err
		}
		defer os.Remove(firstOf(o.PidFile, cfg.PidFile))
	}
	if o.Stats > 0 {
		go server.Every(ctx, o.Stats, func(time.Time) { logStats(srv, actions) })
	}
	if spac != nil {
		if err := spac.serveSockets(ctx, srv); err != nil {
			return err
		}
	}
	if socket := statusSocket(o.Status, cfg); socket != "" {
		l, err := listenStatus(socket)
		if err != nil {
			log.Printf("status: %v; knockd status will not reach this knockd", err)
		} else {
			go serveStatus(ctx, l, srv, socket)
		}
	}
	err = srv.RunLive(ctx, ifaces)
	finish(log, actions)
	return err
}

// finish runs pending stop commands and logs the end.
func finish(log *server.Logger, actions *server.Actions) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	actions.Shutdown(ctx)
	log.Printf("shutting down")
}

func writePidFile(path string) error {
	if err := atomicfile.WriteNoFollow(path, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644); err != nil {
		return fmt.Errorf("PidFile: %w", err)
	}
	return nil
}

// spaStanzaCount is how many stanzas SPA is served with (0: none).
func spaStanzaCount(spac *spaConfig) int {
	if spac == nil {
		return 0
	}
	return len(spac.access.Stanzas)
}

// spaWorkersFrom is the number of stanzas from which SPA packets are
// decided on every core: handing a packet to a worker costs about what
// two or three HMACs do (BenchmarkLabSPAFlood: one stanza cost 1.4 CPU
// seconds a flood decided in place, 2.0 handed over; with twenty, the
// workers and their new-sources-first queues let every real client in).
const spaWorkersFrom = 4

// reload re-reads the configuration; a bad one is reported and the old one
// kept, so the doors stay guarded (knockd 0.8 exits instead). So is a file
// with no doors while the running one has some (a file emptied or cut
// short by a write still under way), and a file still being written
// (knockdconf.LoadForReload). What changed is logged door by door. The
// SPA files are read again too; the replay cache and the doors open are
// kept.
func reload(srv *server.Server, o *options, cache *spadoor.Cache) {
	running := srv.Config()
	path := o.Config
	if !o.ConfigGiven && (o.FwknopdConf != "" || o.AccessConf != "") {
		path = firstOf(o.AccessConf, o.FwknopdConf) // SPA alone
	}
	cfg, err := loadConfigForReload(o)
	if err == nil && len(cfg.Doors) == 0 && len(running.Doors) > 0 {
		err = fmt.Errorf("it has no doors, the running configuration %d (to stop guarding every door, stop knockd)", len(running.Doors))
	}
	var (
		spa  *server.SPA
		spac *spaConfig
	)
	if err == nil {
		if spac, err = loadSPA(o, cfg); err == nil && spac != nil {
			if cache == nil {
				err = errors.New("SPA files named now but not at start: restart knockd to serve SPA")
			} else {
				spa, err = spac.spaService(cache)
			}
		}
	}
	if err == nil && srv.Actions.DryRun == nil && !srv.Actions.HasHoles() {
		// The first door or stanza that needs the built-in firewall.
		var h firewall.Holes
		if h, err = builtinFirewall(o.Firewall, cfg, spac, firewall.Exec{}); h != nil {
			srv.Actions.SetHoles(h)
		}
	}
	if err == nil {
		err = srv.Reload(cfg)
	}
	if err == nil {
		srv.SetSPA(spa)
		srv.Actions.SetLimits(cfg.MaxCommands, cfg.MaxDoorCommands)
	}
	if err != nil {
		srv.Log.Printf("re-reading %s failed, keeping the running configuration: %v", path, err)
		return
	}
	for _, w := range cfg.PermissionWarnings() {
		srv.Log.Printf("warning: %s", w)
	}
	added, removed, changed := knockdconf.DoorChanges(running, cfg)
	srv.Log.Printf("re-read %s: %d doors (added: %s; removed: %s; changed: %s)", path, len(cfg.Doors),
		doorList(added), doorList(removed), doorList(changed))
}

// loadConfig reads knockd.conf, or (SPA files named, no -c) none: knockd
// serves SPA alone.
func loadConfig(o *options) (*knockdconf.Config, error) {
	if (o.FwknopdConf != "" || o.AccessConf != "") && !o.ConfigGiven {
		return knockdconf.Parse("", nil)
	}
	return knockdconf.Load(o.Config)
}

func loadConfigForReload(o *options) (*knockdconf.Config, error) {
	if (o.FwknopdConf != "" || o.AccessConf != "") && !o.ConfigGiven {
		return knockdconf.Parse("", nil)
	}
	return knockdconf.LoadForReload(o.Config)
}

// doorList names doors for a log line.
func doorList(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

func logStats(srv *server.Server, actions *server.Actions) {
	st := srv.Stats()
	spa := ""
	if st.SPADropped > 0 {
		spa = fmt.Sprintf(", %d SPA packets dropped with every SPA worker busy", st.SPADropped)
	}
	srv.Log.Printf("stats: %d packets, %d dropped by the kernel, %d seen by doors, %d knockers tracked, %d doors opened, %d stop commands pending%s",
		st.Packets, st.KernelDrops, st.Visible, st.Tracked, st.Opened, actions.Pending(), spa)
}

// printCapture says what the captures will cost: one ring per interface.
// sizes is what the memory knobs say, flags over the config over the
// defaults; memLimit 0 leaves GOMEMLIMIT to the runtime.
type sizes struct {
	ring, knockers         int
	memLimit               int64
	commands, doorCommands int
}

func sizesOf(o *options, cfg *knockdconf.Config) (sizes, error) {
	sz := sizes{ring: cmp.Or(cfg.RingSize, server.DefaultRing), knockers: cmp.Or(cfg.MaxKnockers, server.DefaultMaxSources), memLimit: cfg.MemoryLimit,
		commands: cmp.Or(cfg.MaxCommands, knockdconf.DefaultMaxCommands), doorCommands: cmp.Or(cfg.MaxDoorCommands, knockdconf.DefaultMaxDoorCommands)}
	var err error
	if o.RingSize != "" {
		if sz.ring, err = knockdconf.ParseRing(o.RingSize); err != nil {
			return sz, fmt.Errorf("--ring-size: %w", err)
		}
	}
	if o.Knockers != "" {
		if sz.knockers, err = knockdconf.ParseKnockers(o.Knockers); err != nil {
			return sz, fmt.Errorf("--max-knockers: %w", err)
		}
	}
	if o.MemLimit != "" {
		if sz.memLimit, err = knockdconf.ParseMemoryLimit(o.MemLimit); err != nil {
			return sz, fmt.Errorf("--memory-limit: %w", err)
		}
	}
	return sz, nil
}

// printMemory says what the chosen sizes cost (knockd --check).
func printMemory(w io.Writer, ifaces []string, sz sizes, spaStanzas int) {
	ring := knockdconf.FormatSize(int64(sz.ring))
	if len(ifaces) == 1 && ifaces[0] == knockdconf.AnyInterface {
		fmt.Fprintf(w, "capture: every interface that is up but loopback, a %s ring each (kernel memory: %s times their number)\n", ring, ring)
	} else {
		fmt.Fprintf(w, "capture: %s, a %s ring each (%s of kernel memory in all)\n", strings.Join(ifaces, ","), ring, knockdconf.FormatSize(int64(sz.ring*len(ifaces))))
	}
	table := int64(sz.knockers * server.KnockerBytes)
	fmt.Fprintf(w, "knockers: at most %d tracked at once (up to %s of memory)\n", sz.knockers, knockdconf.FormatApprox(table))
	fmt.Fprintf(w, "commands: at most %d running at once, %d per door (MaxCommands, MaxDoorCommands); a knock past them is not opened\n", sz.commands, sz.doorCommands)
	rings := int64(sz.ring * max(len(ifaces), 1))
	ringsSaid := "whatever comes in: the rings (" + knockdconf.FormatApprox(rings) + ")"
	if len(ifaces) == 1 && ifaces[0] == knockdconf.AnyInterface {
		ringsSaid = "and a ring more per interface beyond the first: the rings"
	}
	replays, replaysSaid := int64(0), ""
	if spaStanzas > 0 {
		replays = int64(2 * spadoor.DefaultMaxEntries * spadoor.EntryBytes)
		replaysSaid = ", the SPA replay cache twice (" + strconv.Itoa(spadoor.DefaultMaxEntries) + " digests at most)"
	}
	if spaStanzas >= spaWorkersFrom {
		replays += int64(2 * server.SPAQueueBytes)
		replaysSaid += ", the SPA workers' queues twice"
	}
	fmt.Fprintf(w, "memory: at most about %s resident, %s, the knocker table twice (the garbage collector lets the heap grow to twice what is live)%s and %s for knockd itself\n",
		knockdconf.FormatApprox(rings+2*table+replays+server.ProgramBytes), ringsSaid, replaysSaid, knockdconf.FormatApprox(server.ProgramBytes))
	switch {
	case sz.memLimit == knockdconf.NoMemoryLimit:
		fmt.Fprintln(w, "memory limit: off")
	case sz.memLimit > 0:
		fmt.Fprintf(w, "memory limit: %s (the Go runtime collects harder as the heap nears it)\n", knockdconf.FormatSize(sz.memLimit))
	case os.Getenv("GOMEMLIMIT") != "":
		fmt.Fprintf(w, "memory limit: %s, from GOMEMLIMIT\n", os.Getenv("GOMEMLIMIT"))
	default:
		fmt.Fprintln(w, "memory limit: none (MemoryLimit, --memory-limit or GOMEMLIMIT sets one)")
	}
}

func printDoors(w io.Writer, cfg *knockdconf.Config) {
	fmt.Fprintf(w, "%s: OK, %d door(s)\n", cfg.Path, len(cfg.Doors))
	for _, d := range cfg.Doors {
		io.WriteString(w, knockdconf.FormatDoor(d, knockdconf.Listing))
	}
}

func firstOf(s ...string) string {
	for _, x := range s {
		if strings.TrimSpace(x) != "" {
			return x
		}
	}
	return ""
}

// journal is where log lines go with syslog priority prefixes: standard
// error, when it is not a terminal (under systemd it is the journal), for
// a knockd that serves, unless UseSyslog (which reaches the journal
// already) or -v/-D (lines on standard output) carry them there: a line
// is never written twice. nil: nowhere.
func journal(o *options, useSyslog bool, stderr io.Writer) io.Writer {
	if useSyslog || o.Verbose || o.Debug || o.Replay != "" || isTerminal(stderr) {
		return nil
	}
	return stderr
}

// isTerminal reports whether w is a terminal (or /dev/null, a character
// device too: either way, not a journal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
