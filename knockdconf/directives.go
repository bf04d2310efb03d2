package knockdconf

import (
	"errors"
	"fmt"
	"net/netip"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/knocktools/knock"
	"github.com/knocktools/knock/internal/filepolicy"
)

// Section is where a directive may stand.
type Section int

const (
	OptionsSection Section = iota // [options]
	DoorSection                   // any other [name]: a door
)

func (s Section) String() string {
	if s == OptionsSection {
		return "[options]"
	}
	return "door"
}

// Directive is one knockd.conf directive: the parser, Format, knockd
// --help, the knockd.conf(5) man page and README's reference are all made
// from this table, so a directive is spelled once.
type Directive struct {
	Name    string   // as the documentation spells it: "Seq_Timeout"; keys are case-insensitive
	Aliases []string // knockd 0.8's other spellings: "Timeout"
	Section Section
	Syntax  string // what follows "=" ("seconds"); empty for a directive that takes no value (UseSyslog)
	Doc     string // one sentence: what it does, and its default
	Ours    bool   // an addition of this knockd: knockd 0.8 does not know it

	// Exactly one pair is set, by Section.
	option    func(c *Config, value string) error
	getOption func(c *Config) (string, bool) // the value to write, and whether to write it
	door      func(d *Door, value string) error
	getDoor   func(d *Door, s Style) (string, bool)
	// keyPrefix: the parser's error names the key as written ("timeout:
	// ..."); namePrefix: it names the directive ("RingSize: ...").
	keyPrefix, namePrefix bool
}

// Key is the directive's name as Format writes it: lower case, as
// knockd 0.8's own sample file writes door directives.
func (d *Directive) Key() string {
	if d.Section == OptionsSection {
		return d.Name
	}
	return strings.ToLower(d.Name)
}

// Directives returns the table, [options] first, each section in the
// order Format writes it.
func Directives() []Directive { return directives() }

// lookup finds a directive of a section by a lower-cased key or alias.
func lookup(section Section, key string) *Directive {
	return byKey()[section][key]
}

// The table is built on first use, not at start-up: knock links this
// package and starts a whole process per knock.
var byKey = sync.OnceValue(func() [2]map[string]*Directive {
	m := [2]map[string]*Directive{{}, {}}
	all := directives()
	for i := range all {
		d := &all[i]
		m[d.Section][strings.ToLower(d.Name)] = d
		for _, a := range d.Aliases {
			m[d.Section][strings.ToLower(a)] = d
		}
	}
	return m
})

// optionNames lists the [options] directives for an error message:
// "A, B or C".
func optionNames() string {
	var names []string
	for _, d := range directives() {
		if d.Section == OptionsSection {
			names = append(names, d.Name)
		}
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}

// The defaults the documentation states; the server applies them.
const (
	DefaultStatusSocket = "/run/knockd/status.sock"
	DefaultRingSize     = 1 << 20
	DefaultMaxKnockers  = 1 << 14
)

var directives = sync.OnceValue(func() []Directive {
	return []Directive{
		{Name: "UseSyslog", Section: OptionsSection,
			Doc:       "log to syslog (facility daemon) too",
			option:    func(c *Config, _ string) error { c.UseSyslog = true; return nil },
			getOption: func(c *Config) (string, bool) { return "", c.UseSyslog }},
		{Name: "LogFile", Section: OptionsSection, Syntax: "path",
			Doc:       `log to this file too, in lines "[YYYY-MM-DD HH:MM] message"`,
			option:    func(c *Config, v string) error { c.LogFile = v; return nil },
			getOption: func(c *Config) (string, bool) { return c.LogFile, c.LogFile != "" }},
		{Name: "PidFile", Section: OptionsSection, Syntax: "path",
			Doc:       "the PID file of a daemon (-d) knockd (default " + DefaultPidFile + ")",
			option:    func(c *Config, v string) error { c.PidFile = v; return nil },
			getOption: func(c *Config) (string, bool) { return c.PidFile, c.PidFile != DefaultPidFile }},
		{Name: "StrictModes", Section: OptionsSection, Syntax: "yes|no", Ours: true,
			Doc: "yes: refuse a configuration, One_Time_Sequences or Sequence_Secret file that others could change " +
				"(writable by them, owned by someone else, behind their symbolic link, or in a directory they can write); " +
				"no, the default: warn",
			option: func(c *Config, v string) error {
				b, err := yesNo(v, false)
				if err != nil {
					return fmt.Errorf("StrictModes %q: want yes or no", v)
				}
				c.StrictModes = b
				return nil
			},
			getOption: func(c *Config) (string, bool) { return "yes", c.StrictModes }},
		{Name: "StateDir", Section: OptionsSection, Syntax: "path", Ours: true,
			Doc: "where knockd keeps what must outlive a restart, such as the windows time-based doors have used " +
				"(default " + DefaultStateDir + ")",
			option:    absPath("StateDir", func(c *Config) *string { return &c.StateDir }),
			getOption: func(c *Config) (string, bool) { return c.StateDir, c.StateDir != DefaultStateDir }},
		{Name: "Interface", Section: OptionsSection, Syntax: "name[,name...]|any",
			Doc: "the interfaces to listen on; any: every interface that is up but loopback, " +
				"also those that appear later (-i wins; default " + DefaultInterface + "; knockd 0.8 takes one name)",
			option: func(c *Config, v string) error {
				if _, err := ParseInterfaces(v); err != nil {
					return fmt.Errorf("Interface: %w", err)
				}
				c.Interface = v
				return nil
			},
			getOption: func(c *Config) (string, bool) { return c.Interface, c.Interface != "" }},
		{Name: "RingSize", Section: OptionsSection, Syntax: "size", Ours: true,
			Doc:        "the capture ring of each interface, such as 512K or 8M (default " + FormatSize(DefaultRingSize) + ")",
			namePrefix: true,
			option:     func(c *Config, v string) (err error) { c.RingSize, err = ParseRing(v); return err },
			getOption:  func(c *Config) (string, bool) { return FormatSize(int64(c.RingSize)), c.RingSize != 0 }},
		{Name: "MaxKnockers", Section: OptionsSection, Syntax: "n", Ours: true,
			Doc: "the knockers tracked at once, the oldest dropped first past it (default " +
				strconv.Itoa(DefaultMaxKnockers) + "; knockd --check prints the memory they take)",
			namePrefix: true,
			option:     func(c *Config, v string) (err error) { c.MaxKnockers, err = ParseKnockers(v); return err },
			getOption:  func(c *Config) (string, bool) { return strconv.Itoa(c.MaxKnockers), c.MaxKnockers != 0 }},
		{Name: "MaxCommands", Section: OptionsSection, Syntax: "n", Ours: true,
			Doc: "the door commands running at once (default " + strconv.Itoa(DefaultMaxCommands) +
				"); a sequence completed past it is not opened and uses nothing up; stop commands wait for a slot",
			namePrefix: true,
			option:     func(c *Config, v string) (err error) { c.MaxCommands, err = ParseCommands(v); return err },
			getOption:  func(c *Config) (string, bool) { return strconv.Itoa(c.MaxCommands), c.MaxCommands != 0 }},
		{Name: "MaxDoorCommands", Section: OptionsSection, Syntax: "n", Ours: true,
			Doc:        "the same for each door (default " + strconv.Itoa(DefaultMaxDoorCommands) + ")",
			namePrefix: true,
			option:     func(c *Config, v string) (err error) { c.MaxDoorCommands, err = ParseCommands(v); return err },
			getOption:  func(c *Config) (string, bool) { return strconv.Itoa(c.MaxDoorCommands), c.MaxDoorCommands != 0 }},
		{Name: "MemoryLimit", Section: OptionsSection, Syntax: "size|off", Ours: true,
			Doc:        "the Go runtime's soft memory limit, as GOMEMLIMIT sets it, such as 12M (off, the default: none)",
			namePrefix: true,
			option:     func(c *Config, v string) (err error) { c.MemoryLimit, err = ParseMemoryLimit(v); return err },
			getOption: func(c *Config) (string, bool) {
				if c.MemoryLimit == NoMemoryLimit {
					return "off", true
				}
				return FormatSize(c.MemoryLimit), c.MemoryLimit != 0
			}},

		{Name: "StatusSocket", Section: OptionsSection, Syntax: "path|off", Ours: true,
			Doc: "the Unix socket knockd status asks a running knockd on, which only root may use (default " +
				DefaultStatusSocket + "; off: none)",
			option: func(c *Config, v string) error {
				if v != "off" && !filepath.IsAbs(v) {
					return fmt.Errorf("StatusSocket %q: want an absolute path, or off", v)
				}
				c.StatusSocket = v
				return nil
			},
			getOption: func(c *Config) (string, bool) { return c.StatusSocket, c.StatusSocket != "" }},

		{Name: "Firewall", Section: OptionsSection, Syntax: strings.Join(FirewallNames, "|"), Ours: true,
			Doc: "the firewall of the built-in actions (Open_Ports; SPA stanzas without CMD_CYCLE_OPEN): nftables set elements " +
				"with a kernel timeout, over netlink; fw4: the same in OpenWrt's fw4 table, in the OpenWrt package's sets; " +
				"iptables rules; auto (default): what knockd fw's auto mode finds",
			option: func(c *Config, v string) error {
				if v = strings.ToLower(v); !IsFirewall(v) {
					return fmt.Errorf("Firewall %q: want %s", v, FirewallChoice)
				}
				c.Firewall = v
				return nil
			},
			getOption: func(c *Config) (string, bool) { return c.Firewall, c.Firewall != "" }},

		{Name: "Fwknopd_Conf", Section: OptionsSection, Syntax: "path", Ours: true,
			Doc:       "serve SPA too, as fwknopd would with this fwknopd.conf (its access.conf unless Access_Conf names one)",
			option:    absPath("Fwknopd_Conf", func(c *Config) *string { return &c.FwknopdConf }),
			getOption: func(c *Config) (string, bool) { return c.FwknopdConf, c.FwknopdConf != "" }},
		{Name: "Access_Conf", Section: OptionsSection, Syntax: "path", Ours: true,
			Doc:       "serve SPA too, as fwknopd would with this access.conf (and /etc/fwknop/fwknopd.conf unless Fwknopd_Conf names one)",
			option:    absPath("Access_Conf", func(c *Config) *string { return &c.AccessConf }),
			getOption: func(c *Config) (string, bool) { return c.AccessConf, c.AccessConf != "" }},

		// A door's knock: one of Sequence, One_Time_Sequences and Sequence_Secret.
		{Name: "Sequence", Section: DoorSection, Syntax: "port[:tcp|udp][,...]", keyPrefix: true,
			Doc:  "the knock: at most " + strconv.Itoa(knock.MaxKnockdSequence) + " ports, tcp unless a port says udp",
			door: func(d *Door, v string) (err error) { d.Sequence, err = knock.ParseKnockdSequence(v); return err },
			getDoor: func(d *Door, _ Style) (string, bool) {
				return d.Sequence.KnockdString(), len(d.Sequence) > 0
			}},
		{Name: "One_Time_Sequences", Section: DoorSection, Syntax: "file",
			Doc: "a file of sequences, one a line, each good once: the used line is marked with a leading #",
			door: func(d *Door, v string) error {
				if v == "" {
					return fmt.Errorf("One_Time_Sequences: missing file name")
				}
				d.OneTimeFile = v
				return nil
			},
			getDoor: func(d *Door, _ Style) (string, bool) { return d.OneTimeFile, d.OneTimeFile != "" }},
		{Name: "Sequence_Secret", Section: DoorSection, Syntax: "base32|file:path", Ours: true,
			Doc: "a time-based door: its sequence changes every period, derived from this secret (TOTP, as knock's " +
				"time-based profiles); file:path reads the secret from a file only its owner may read",
			door: func(d *Door, v string) error {
				secret := v
				if file, ok := strings.CutPrefix(v, "file:"); ok {
					data, err := filepolicy.ReadSecret(file)
					if err != nil {
						return fmt.Errorf("Sequence_Secret: %w", err)
					}
					d.SecretFile, secret = file, data
				}
				b, err := knock.ParseSecret(secret)
				if err != nil || len(b) == 0 {
					return fmt.Errorf("Sequence_Secret: not a base32 secret (or file:PATH holding one)")
				}
				d.timeSeq().Secret = b
				return nil
			},
			getDoor: func(d *Door, s Style) (string, bool) {
				if d.Time == nil {
					return "", false
				}
				from := "given inline"
				switch {
				case d.SecretFile != "" && s.HideSecrets:
					from = "from " + d.SecretFile
				case d.SecretFile != "":
					return "file:" + d.SecretFile, true
				case !s.HideSecrets:
					return knock.EncodeSecret(d.Time.Secret), true
				}
				return fmt.Sprintf("(%d bytes, %s)", len(d.Time.Secret), from), true
			}},
		{Name: "Sequence_Length", Section: DoorSection, Syntax: "n", Ours: true,
			Doc: "the knocks of a time-based sequence (default " + strconv.Itoa(knock.DefaultLength) + ")",
			door: func(d *Door, v string) error {
				n, err := strconv.Atoi(v)
				if err != nil || n < 1 || n > knock.MaxKnockdSequence {
					return fmt.Errorf("Sequence_Length %q: want 1-%d", v, knock.MaxKnockdSequence)
				}
				d.timeSeq().Length = n
				return nil
			},
			getDoor: timeValue(func(ts *knock.TimeSequence) string { return strconv.Itoa(ts.Length) })},
		{Name: "Sequence_Ports", Section: DoorSection, Syntax: "low-high", Ours: true,
			Doc: fmt.Sprintf("the ports its knocks are drawn from (default %d-%d)", knock.DefaultPortMin, knock.DefaultPortMax),
			door: func(d *Door, v string) error {
				lo, hi, err := knock.ParsePortRange(v)
				if err != nil {
					return fmt.Errorf("Sequence_Ports: %w", err)
				}
				d.timeSeq().PortMin, d.timeSeq().PortMax = lo, hi
				return nil
			},
			getDoor: timeValue(func(ts *knock.TimeSequence) string { return fmt.Sprintf("%d-%d", ts.PortMin, ts.PortMax) })},
		{Name: "Sequence_Period", Section: DoorSection, Syntax: "seconds", Ours: true,
			Doc: fmt.Sprintf("how long each sequence holds (default %d; the one before and after are accepted too)", int(knock.DefaultPeriod.Seconds())),
			door: func(d *Door, v string) error {
				p, err := seconds(v, 1, MaxSequencePeriod)
				if err != nil {
					return fmt.Errorf("Sequence_Period: %w", err)
				}
				d.timeSeq().Period = p
				return nil
			},
			getDoor: timeValue(func(ts *knock.TimeSequence) string { return strconv.Itoa(int(ts.Period.Seconds())) })},
		{Name: "Sequence_Protocol", Section: DoorSection, Syntax: "tcp|udp|both", Ours: true,
			Doc: "the protocol of its knocks; both: each knock's is drawn too (default tcp)",
			door: func(d *Door, v string) error {
				p := strings.ToLower(v)
				if p != "tcp" && p != "udp" && p != "both" {
					return fmt.Errorf("Sequence_Protocol %q: want tcp, udp or both", v)
				}
				d.timeSeq().Protocol = p
				return nil
			},
			getDoor: timeValue(func(ts *knock.TimeSequence) string { return ts.Protocol })},

		// How a knock is matched.
		{Name: "Seq_Timeout", Aliases: []string{"Timeout"}, Section: DoorSection, Syntax: "seconds", keyPrefix: true,
			Doc: fmt.Sprintf("the time for the whole sequence, from its first knock (default %d)", int(DefaultSeqTimeout.Seconds())),
			door: func(d *Door, v string) (err error) {
				d.SeqTimeout, err = seconds(v, 1, MaxSeqTimeout)
				return err
			},
			getDoor: func(d *Door, _ Style) (string, bool) { return strconv.Itoa(int(d.SeqTimeout.Seconds())), true }},
		{Name: "TCPFlags", Section: DoorSection, Syntax: "flag[,...]", keyPrefix: true,
			Doc:  "the flags a TCP knock must carry: fin, syn, rst, psh, ack, urg; !flag: the flag must be clear",
			door: func(d *Door, v string) (err error) { d.Flags, err = knock.ParseFlagMatch(v); return err },
			getDoor: func(d *Door, _ Style) (string, bool) {
				m := d.Flags.String()
				return m, m != ""
			}},
		{Name: "Target", Section: DoorSection, Syntax: "address",
			Doc: "watch knocks to this address instead of the interface's own",
			door: func(d *Door, v string) (err error) {
				if d.Target, err = netip.ParseAddr(v); err != nil {
					return fmt.Errorf("Target %q is not an IP address", v)
				}
				if why := knock.NotAPeer(d.Target); why != "" || d.Target.Zone() != "" {
					// A mapped address never arrives as a packet's destination,
					// and knockd refuses the others as sources.
					if why == "" {
						why = "an address with a zone"
					}
					return fmt.Errorf("Target %q can never match: it is %s", v, why)
				}
				return nil
			},
			getDoor: func(d *Door, _ Style) (string, bool) { return d.Target.String(), d.Target.IsValid() }},
		{Name: "Allow_Repeats", Section: DoorSection, Syntax: "yes|no", Ours: true,
			Doc: "yes: a packet to the port a knocker just knocked is ignored instead of failing the attempt, " +
				"so a retransmitted SYN does not break the knock (default no)",
			door: func(d *Door, v string) (err error) {
				if d.AllowRepeats, err = yesNo(v, true); err != nil {
					return fmt.Errorf("Allow_Repeats %q: want yes or no", v)
				}
				return nil
			},
			getDoor: func(d *Door, _ Style) (string, bool) { return "yes", d.AllowRepeats }},

		// What a door does.
		{Name: "Start_Command", Aliases: []string{"Command"}, Section: DoorSection, Syntax: "command",
			Doc:     "run through /bin/sh -c when the sequence completes, %IP% replaced by the knocker's address",
			door:    func(d *Door, v string) error { d.StartCommand = v; return nil },
			getDoor: func(d *Door, _ Style) (string, bool) { return d.StartCommand, d.StartCommand != "" }},
		{Name: "Start_Command_6", Aliases: []string{"Command_6"}, Section: DoorSection, Syntax: "command", Ours: true,
			Doc:     "the same for IPv6 knockers (default: Start_Command; empty: nothing)",
			door:    func(d *Door, v string) error { d.StartCommand6 = &v; return nil },
			getDoor: func(d *Door, _ Style) (string, bool) { return deref(d.StartCommand6), d.StartCommand6 != nil }},
		{Name: "Cmd_Timeout", Section: DoorSection, Syntax: "seconds", keyPrefix: true,
			Doc: fmt.Sprintf("the wait between Start_Command and Stop_Command, and how long Open_Ports stay open (default %d)", int(DefaultCmdTimeout.Seconds())),
			door: func(d *Door, v string) (err error) {
				d.CmdTimeout, err = seconds(v, 0, MaxCmdTimeout)
				return err
			},
			getDoor: func(d *Door, s Style) (string, bool) {
				return strconv.Itoa(int(d.CmdTimeout.Seconds())),
					d.StopCommand != "" || d.StopCommand6 != nil || len(d.OpenPorts) > 0 || (s.RoundTrip && d.CmdTimeout != DefaultCmdTimeout)
			}},
		{Name: "Stop_Command", Section: DoorSection, Syntax: "command",
			Doc:     "then run this, %IP% replaced as in Start_Command",
			door:    func(d *Door, v string) error { d.StopCommand = v; return nil },
			getDoor: func(d *Door, _ Style) (string, bool) { return d.StopCommand, d.StopCommand != "" }},
		{Name: "Stop_Command_6", Section: DoorSection, Syntax: "command", Ours: true,
			Doc:     "the same for IPv6 knockers (default: Stop_Command; empty: nothing)",
			door:    func(d *Door, v string) error { d.StopCommand6 = &v; return nil },
			getDoor: func(d *Door, _ Style) (string, bool) { return deref(d.StopCommand6), d.StopCommand6 != nil }},
		{Name: "Open_Ports", Section: DoorSection, Syntax: "proto/port[,...]", Ours: true,
			Doc: "open these ports for the knocker with the built-in firewall ([options] Firewall), no shell involved, " +
				"besides the commands; closed after Cmd_Timeout, connections they let in kept",
			door: func(d *Door, v string) (err error) {
				if d.OpenPorts, err = ParsePorts(v); err != nil {
					return fmt.Errorf("Open_Ports %w", err)
				}
				return nil
			},
			getDoor: func(d *Door, _ Style) (string, bool) { return knock.ProtoPortList(d.OpenPorts), len(d.OpenPorts) > 0 }},
	}
})

// absPath sets an option that names a file or directory by its absolute
// path.
func absPath(name string, field func(*Config) *string) func(c *Config, v string) error {
	return func(c *Config, v string) error {
		if !filepath.IsAbs(v) {
			return fmt.Errorf("%s %q: want an absolute path", name, v)
		}
		*field(c) = v
		return nil
	}
}

// timeValue writes a parameter of a time-based door, and nothing for
// another door.
func timeValue(f func(ts *knock.TimeSequence) string) func(d *Door, _ Style) (string, bool) {
	return func(d *Door, _ Style) (string, bool) {
		if d.Time == nil {
			return "", false
		}
		return f(d.Time), true
	}
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// yesNo reads yes or no (and, where loose, true/false, on/off, 1/0).
func yesNo(v string, loose bool) (bool, error) {
	switch strings.ToLower(v) {
	case "yes":
		return true, nil
	case "no":
		return false, nil
	}
	if loose {
		switch strings.ToLower(v) {
		case "true", "on", "1":
			return true, nil
		case "false", "off", "0":
			return false, nil
		}
	}
	return false, fmt.Errorf("%q: want yes or no", v)
}

// The bounds of the durations a door takes, in seconds. Beyond them a
// value is a mistake, and far beyond (2^63 ns is 292 years) one that
// would wrap into a negative or short duration.
const (
	MaxSeqTimeout     = 24 * 3600       // a knock sequence spread over a day is no knock
	MaxCmdTimeout     = 366 * 24 * 3600 // a door open for a year
	MaxSequencePeriod = 24 * 3600       // one TOTP window a day
)

// seconds parses a whole number of seconds from min to max.
func seconds(s string, min, max int) (time.Duration, error) {
	n, err := strconv.Atoi(s)
	if err != nil && errors.Is(err, strconv.ErrRange) {
		return 0, fmt.Errorf("%s seconds: must be at most %d", s, max)
	}
	if err != nil || strings.HasPrefix(s, "+") {
		return 0, fmt.Errorf("%q is not a whole number of seconds", s)
	}
	if n < min {
		return 0, fmt.Errorf("%d seconds: must be at least %d", n, min)
	}
	if n > max {
		return 0, fmt.Errorf("%d seconds: must be at most %d", n, max)
	}
	return time.Duration(n) * time.Second, nil
}
