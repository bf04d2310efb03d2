// Package knockdconf reads knockd.conf, the configuration of knockd 0.8, exactly
// as knockd 0.8 reads it, but strictly: every error names the file, the line
// and the bad token, including what knockd 0.8 silently accepts (a port
// "abc", a negative timeout, more than 32 ports).
//
// It has no I/O beyond reading the file (and a door's secret file), so both
// programs use it: knockd to run doors, knock to import and export them as
// profiles.
package knockdconf

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/knocktools/knock"
	"github.com/knocktools/knock/internal/safetext"
)

// Defaults of knockd 0.8.
const (
	DefaultPidFile    = "/var/run/knockd.pid"
	DefaultStateDir   = "/var/lib/knockd"
	DefaultInterface  = "eth0"
	DefaultSeqTimeout = 25 * time.Second
	DefaultCmdTimeout = 10 * time.Second
)

// Config is a whole knockd.conf.
type Config struct {
	Path      string
	UseSyslog bool
	LogFile   string
	PidFile   string
	// StrictModes (StrictModes = yes): a file of the configuration that
	// others could change is an error, not a warning.
	StrictModes bool
	// StateDir is where knockd keeps what must outlive a restart (the
	// windows time-based doors have used).
	StateDir  string
	Interface string // empty: not set in the file (the -i flag or eth0 apply); a comma list, or "any"
	RingSize  int    // bytes of each interface's capture ring; 0: not set
	// MaxKnockers caps the knockers tracked at once; 0: not set.
	MaxKnockers int
	// MaxCommands and MaxDoorCommands cap the door commands running at
	// once, in all and per door; 0: not set.
	MaxCommands, MaxDoorCommands int
	// FwknopdConf and AccessConf are fwknopd's files, for SPA; empty: not
	// set.
	FwknopdConf, AccessConf string
	// StatusSocket is where knockd status asks (DefaultStatusSocket when
	// empty; "off": nowhere).
	StatusSocket string
	// Firewall is the backend of the built-in actions (Open_Ports, SPA
	// stanzas without CMD_CYCLE_OPEN), one of FirewallNames; empty: not
	// set (auto).
	Firewall string
	// MemoryLimit is the Go runtime's soft memory limit in bytes, as
	// GOMEMLIMIT sets it; 0: not set, NoMemoryLimit: off.
	MemoryLimit int64
	Doors       []*Door
}

// Door is one section other than [options].
type Door struct {
	Name string
	Line int // where the section starts

	Sequence    knock.Sequence // empty for a one-time or time-based door
	OneTimeFile string
	OneTimeLine int // the line of its One_Time_Sequences directive
	// Time is set for a time-based door (Sequence_Secret): its sequence
	// changes every period (see knock.TimeSequence). SecretFile is where
	// the secret came from, when it was "file:PATH".
	Time       *knock.TimeSequence
	SecretFile string
	SeqTimeout time.Duration
	Flags      knock.FlagMatch
	CmdTimeout time.Duration
	Target     netip.Addr // zero: the interface's own addresses
	// AllowRepeats (Allow_Repeats = yes, not in knockd 0.8): a packet to
	// the port of the stage a knocker just reached is ignored instead of
	// failing the attempt, so a retransmitted SYN or a client that hits a
	// port twice does not break the knock.
	AllowRepeats bool

	StartCommand string
	StopCommand  string
	// OpenPorts (Open_Ports, not in knockd 0.8) are opened for the knocker
	// by knockd's built-in firewall, besides the commands, and closed
	// after Cmd_Timeout (by the kernel's own timeout with nftables).
	OpenPorts []knock.ProtoPort
	// The IPv6 commands, nil when not set: IPv6 knockers then use the
	// IPv4 ones. Set but empty means "do nothing" for IPv6.
	StartCommand6 *string
	StopCommand6  *string
}

// FirewallNames are the built-in firewalls Firewall (and knockd
// --firewall) may name, and FirewallChoice says them in an error.
var FirewallNames = []string{"auto", "nftables", "fw4", "iptables"}

const FirewallChoice = "auto, nftables, fw4 or iptables"

// IsFirewall reports whether name is one of FirewallNames.
func IsFirewall(name string) bool { return slices.Contains(FirewallNames, name) }

// ParsePorts reads "tcp/22,udp/53": ports 1 to 65535 of tcp or udp, each
// once.
func ParsePorts(s string) ([]knock.ProtoPort, error) {
	var out []knock.ProtoPort
	for _, item := range strings.Split(s, ",") {
		p, ok := knock.ParseProtoPort(item)
		if !ok || p.Port == 0 {
			return nil, fmt.Errorf("%q: want proto/port items such as tcp/22,udp/53 (ports 1-65535)", item)
		}
		if slices.Contains(out, p) {
			return nil, fmt.Errorf("%s given twice", p)
		}
		out = append(out, p)
	}
	return out, nil
}

// Start returns the command to run for a knocker of the given family.
func (d *Door) Start(ipv6 bool) string {
	if ipv6 && d.StartCommand6 != nil {
		return *d.StartCommand6
	}
	return d.StartCommand
}

// Stop returns the stop command for a knocker of the given family.
func (d *Door) Stop(ipv6 bool) string {
	if ipv6 && d.StopCommand6 != nil {
		return *d.StopCommand6
	}
	return d.StopCommand
}

// Load reads and checks a knockd.conf file, including that every
// One_Time_Sequences file exists. A file whose size or modification time
// changes while it is read is read again.
func Load(path string) (*Config, error) {
	return load(path, 0, time.Now, time.Sleep)
}

// LoadForReload is Load for a running knockd told to re-read its file
// (SIGHUP), which may come while an editor or a script is still writing
// it: the file must also have been left alone for a moment, so that half
// a file (sequence = 7000,8) is never applied.
func LoadForReload(path string) (*Config, error) {
	return load(path, settle, time.Now, time.Sleep)
}

// How long a file must have been left alone before a reload reads it, and
// how often it looks again before it gives up.
const (
	settle      = 200 * time.Millisecond
	settleTries = 25 // 25 x settle/2: 2.5 s
)

func load(path string, minAge time.Duration, now func() time.Time, sleep func(time.Duration)) (*Config, error) {
	data, err := readSettled(path, minAge, now, sleep)
	if err != nil {
		return nil, err
	}
	c, err := Parse(path, data)
	if err != nil {
		return nil, err
	}
	for _, d := range c.Doors {
		if d.OneTimeFile == "" {
			continue
		}
		if _, err := os.Stat(d.OneTimeFile); err != nil {
			return nil, fmt.Errorf("%s:%d: [%s]: One_Time_Sequences file: %w", path, d.OneTimeLine, d.Name, err)
		}
	}
	if w := c.PermissionWarnings(); c.StrictModes && len(w) > 0 {
		return nil, fmt.Errorf("StrictModes = yes: %s", strings.Join(w, "; "))
	}
	return c, nil
}

// readSettled reads a file whose size and modification time are the same
// before and after the read, and at least minAge old.
func readSettled(path string, minAge time.Duration, now func() time.Time, sleep func(time.Duration)) ([]byte, error) {
	for try := 0; ; try++ {
		before, err := os.Stat(path)
		if err != nil {
			return nil, err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		after, err := os.Stat(path)
		if err != nil {
			return nil, err
		}
		if after.Size() == before.Size() && after.ModTime().Equal(before.ModTime()) &&
			int64(len(data)) == after.Size() && now().Sub(after.ModTime()) >= minAge {
			return data, nil
		}
		if try == settleTries {
			return nil, fmt.Errorf("%s: still being written (it changed within %v of being read, %d times in a row); not read", path, max(minAge, settle/2), try+1)
		}
		sleep(settle / 2)
	}
}

// lineError is "FILE:LINE: message".
func lineError(path string, line int, format string, a ...any) error {
	return fmt.Errorf("%s:%d: %s", path, line, fmt.Sprintf(format, a...))
}

// Parse reads knockd.conf text; path is used in error messages only.
func Parse(path string, data []byte) (*Config, error) {
	c := &Config{Path: path, PidFile: DefaultPidFile, StateDir: DefaultStateDir}
	var (
		door        *Door
		inOptions   bool
		skip        bool // the lines of a section whose header was refused
		doorFailed  bool // the current door had an error: finishing it would only echo it
		optionsLine int
		seen        = map[string]int{}
		doorLines   = map[string]int{}
		errs        []error
	)
	// Every error of the file is reported, not only the first; a section
	// whose header is refused is skipped, so it adds no errors of its own.
	fail := func(err error) {
		if err != nil {
			errs = append(errs, err)
			doorFailed = true
		}
	}
	finish := func() {
		if !doorFailed {
			fail(finishDoor(path, door))
		}
		doorFailed = false
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for n := 1; sc.Scan() && len(errs) < maxErrors; n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		// Door names and commands reach logs, terminals and shells: no
		// control character (tabs aside) or invalid UTF-8 in any line
		// but comments.
		if !safetext.Safe(line) {
			fail(lineError(path, n, "control character or invalid UTF-8 in \"%s\": not allowed", safetext.Escape(line)))
			continue
		}
		if line[0] == '[' {
			finish()
			door, inOptions, skip = nil, false, true
			seen = map[string]int{}
			name := strings.TrimSpace(strings.TrimSuffix(line[1:], "]"))
			switch {
			case !strings.HasSuffix(line, "]"):
				fail(lineError(path, n, "section header %q has no closing ]", line))
			case name == "":
				fail(lineError(path, n, "empty section name"))
			case strings.EqualFold(name, "options") && optionsLine != 0:
				fail(lineError(path, n, "[options] given twice (first at line %d): merge them", optionsLine))
			case strings.EqualFold(name, "options"):
				inOptions, optionsLine, skip = true, n, false
			case doorLines[name] != 0:
				fail(lineError(path, n, "door [%s] defined twice (first at line %d)", name, doorLines[name]))
			default:
				doorLines[name] = n
				door = &Door{Name: name, Line: n, SeqTimeout: DefaultSeqTimeout, CmdTimeout: DefaultCmdTimeout}
				c.Doors = append(c.Doors, door)
				skip = false
			}
			continue
		}
		if skip {
			continue
		}
		key, value, hasValue := strings.Cut(line, "=")
		key, value = strings.ToLower(strings.TrimSpace(key)), strings.TrimSpace(value)
		if !inOptions && door == nil {
			fail(lineError(path, n, "%q is outside any section (start one with [options] or [doorname])", key))
			continue
		}
		var dir *Directive
		if inOptions {
			dir = lookup(OptionsSection, key)
		} else {
			dir = lookup(DoorSection, key)
		}
		canon := key
		if dir != nil {
			canon = strings.ToLower(dir.Name)
		}
		if prev, dup := seen[canon]; dup {
			fail(lineError(path, n, "%s given twice in this section (first at line %d)", key, prev))
			continue
		}
		seen[canon] = n
		if err := set(c, door, dir, key, value, hasValue); err != nil {
			fail(lineError(path, n, "%v", err))
		}
		if dir != nil && dir.Name == "One_Time_Sequences" {
			door.OneTimeLine = n
		}
	}
	if err := sc.Err(); err != nil {
		fail(fmt.Errorf("%s: %w", path, err))
	}
	if len(errs) < maxErrors {
		finish()
	}
	if len(errs) == maxErrors {
		errs = append(errs, fmt.Errorf("%s: more errors not shown (the first %d are above)", path, maxErrors))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return c, nil
}

// maxErrors bounds the errors Parse reports of one file.
const maxErrors = 20

func finishDoor(path string, d *Door) error {
	if d == nil {
		return nil
	}
	kinds := 0
	for _, set := range []bool{len(d.Sequence) > 0, d.OneTimeFile != "", d.Time != nil && d.Time.Secret != nil} {
		if set {
			kinds++
		}
	}
	switch {
	case kinds == 0 && d.Time != nil:
		return lineError(path, d.Line, "section '%s' sets Sequence_* options but no Sequence_Secret", d.Name)
	case kinds == 0:
		return lineError(path, d.Line, "section '%s' has an empty knock sequence (give it Sequence, One_Time_Sequences or Sequence_Secret)", d.Name)
	case kinds > 1:
		return lineError(path, d.Line, "section '%s' mixes Sequence, One_Time_Sequences and Sequence_Secret: give it one", d.Name)
	}
	if d.Time != nil {
		*d.Time = d.Time.WithDefaults()
		if err := d.Time.Validate(); err != nil {
			return lineError(path, d.Line, "section '%s': time-based sequence: %v", d.Name, err)
		}
	}
	return nil
}

// timeSeq returns the door's time-based parameters, creating them.
func (d *Door) timeSeq() *knock.TimeSequence {
	if d.Time == nil {
		d.Time = &knock.TimeSequence{}
	}
	return d.Time
}

// set applies one directive (dir, nil when unknown) of the section being
// read: [options] when door is nil.
func set(c *Config, door *Door, dir *Directive, key, value string, hasValue bool) error {
	switch {
	case door == nil && dir == nil:
		return fmt.Errorf("unknown option %q in [options] (want %s)", key, optionNames())
	case dir == nil:
		return fmt.Errorf("unknown directive %q in door [%s]", key, door.Name)
	case dir.Syntax == "" && hasValue:
		return fmt.Errorf("%s takes no value (found %q)", dir.Name, value)
	case dir.Syntax != "" && (!hasValue || (door == nil && value == "")):
		return fmt.Errorf("%q: want Key = value", key)
	case door == nil:
		err := dir.option(c, value)
		if err != nil && dir.namePrefix {
			return fmt.Errorf("%s: %w", dir.Name, err)
		}
		return err
	}
	err := dir.door(door, value)
	if err != nil && dir.keyPrefix {
		return fmt.Errorf("%s: %w", key, err)
	}
	return err
}

// DoorChanges names the doors of next that old lacks (added), those of
// old that next lacks (removed), and those of both whose settings differ
// (changed), each in file order; where in the file a door stands does not
// count.
func DoorChanges(old, next *Config) (added, removed, changed []string) {
	byName := func(c *Config) map[string]Door {
		m := make(map[string]Door, len(c.Doors))
		for _, d := range c.Doors {
			cp := *d
			cp.Line, cp.OneTimeLine = 0, 0
			m[d.Name] = cp
		}
		return m
	}
	was, is := byName(old), byName(next)
	for _, d := range next.Doors {
		if prev, ok := was[d.Name]; !ok {
			added = append(added, d.Name)
		} else if !reflect.DeepEqual(prev, is[d.Name]) {
			changed = append(changed, d.Name)
		}
	}
	for _, d := range old.Doors {
		if _, ok := is[d.Name]; !ok {
			removed = append(removed, d.Name)
		}
	}
	return added, removed, changed
}
