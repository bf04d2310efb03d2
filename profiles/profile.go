// Package profiles owns the store of named host profiles: one YAML file
// that maps names to a host, a knock sequence and the options to knock it
// with, so "knock ssh-prod" knocks a saved host.
//
// The file is read strictly (an unknown key is an error that names it, with
// the file and line) and written atomically (temporary file, fsync, rename)
// with mode 0600 under an advisory lock, editing the YAML tree in place so
// the comments and order of a hand-written file survive a "profile add".
package profiles

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/knocktools/knock"
	"github.com/knocktools/knock/internal/filepolicy"
	"go.yaml.in/yaml/v3"
)

// Profile is one saved host. Zero fields are unset: the file's defaults
// and then the built-in defaults apply.
type Profile struct {
	Host        string   `yaml:"host,omitempty"`
	Sequence    []string `yaml:"sequence,omitempty,flow"`
	Delay       Duration `yaml:"delay,omitempty"`
	Flags       string   `yaml:"flags,omitempty"`
	Family      int      `yaml:"family,omitempty"`
	Method      string   `yaml:"method,omitempty"`
	SourcePort  uint16   `yaml:"source_port,omitempty"`
	TTL         int      `yaml:"ttl,omitempty"`
	Description string   `yaml:"description,omitempty"`
	Port        uint16   `yaml:"port,omitempty"`
	User        string   `yaml:"user,omitempty"`
	Wait        Duration `yaml:"wait,omitempty"`

	// CloseSequence is knocked to close the door again ("knock NAME
	// --close", and by "knock ssh" after ssh exits). It is a fixed list,
	// for time-based profiles too.
	CloseSequence []string `yaml:"close_sequence,omitempty,flow"`
	// SPA makes the profile an fwknop Single Packet Authorization one: one
	// encrypted, authenticated UDP packet instead of a sequence.
	SPA *SPA `yaml:"spa,omitempty"`

	// AllowRepeats asks "profile export --knockd" for a door with
	// Allow_Repeats = yes (this project's knockd): a knock repeated by
	// the network or the client does not break the sequence.
	AllowRepeats bool `yaml:"allow_repeats,omitempty"`

	// A time-based profile (a knockd door with Sequence_Secret) has a
	// secret instead of a sequence: inline (base32) or in a file.
	Secret     string   `yaml:"secret,omitempty"`
	SecretFile string   `yaml:"secret_file,omitempty"`
	Period     Duration `yaml:"period,omitempty"`
	Length     int      `yaml:"length,omitempty"`
	Ports      string   `yaml:"ports,omitempty"`
	Protocol   string   `yaml:"protocol,omitempty"`
}

// Keys lists the keys a profile may hold, in the order they are written.
func Keys() []string {
	keys := []string{"host", "sequence"}
	for _, o := range KnockOptions() {
		if o.InProfile() && o.Key != "port" && o.Key != "wait" {
			keys = append(keys, o.Key)
		}
	}
	return append(keys, "description", "port", "user", "wait", "close_sequence", "allow_repeats", "spa", "secret", "secret_file", "period", "length", "ports", "protocol")
}

// Knobs are the settled values of the knock options for one knock: what
// the flags, the KNOCK_* variables and a profile say, in that order.
type Knobs struct {
	Delay      Duration
	Flags      string
	Family     int
	Method     string
	SourcePort uint16
	TTL        int
	UDP        bool
	Wait       Duration
	Port       uint16
}

// KnockOption is one option of how knock knocks. Its flag on knock and
// on profile add, its KNOCK_* variable, its profile key and field, its
// help and completions are all made from this table, in this file: an
// option is spelled once.
type KnockOption struct {
	Key    string   // the profile key; the flag is Key with '-' for '_', the variable KNOCK_ and Key in upper case
	Short  string   // knock's one-letter flag, or ""
	Help   string   // the flag's help
	Bool   bool     // a flag that takes no value
	Values []string // what completion offers
	Env    bool     // a KNOCK_* variable gives it
	Root   bool     // knock HOST|PROFILE takes the flag (family: -4 and -6 instead)
	// Parse reads a flag's or a variable's text. nil: knock's own
	// handling (udp's flag is a bool).
	Parse func(s string) (any, error)
	// field is where the option is kept in a Profile and in Knobs.
	field accessor
}

// accessor reads and writes one option in a Profile and in Knobs.
type accessor interface {
	get(p *Profile) (any, bool)
	set(p *Profile, v any)
	put(k *Knobs, v any)
	decode(n *yaml.Node) (any, error)
	inProfile() bool
}

// optionField is the accessor of an option of type T: its Profile field (nil
// when a profile does not hold it), its Knobs field, and how a profile
// file's node is read.
type optionField[T comparable] struct {
	p   func(*Profile) *T
	k   func(*Knobs) *T
	dec func(*yaml.Node) (T, error)
}

func (f optionField[T]) get(p *Profile) (any, bool) {
	var zero T
	if f.p == nil || p == nil || *f.p(p) == zero {
		return nil, false
	}
	return *f.p(p), true
}

func (f optionField[T]) set(p *Profile, v any) {
	if f.p != nil {
		*f.p(p) = v.(T)
	}
}

func (f optionField[T]) put(k *Knobs, v any)              { *f.k(k) = v.(T) }
func (f optionField[T]) decode(n *yaml.Node) (any, error) { return f.dec(n) }
func (f optionField[T]) inProfile() bool                  { return f.p != nil }

// Flag is the option's flag name.
func (o *KnockOption) Flag() string { return strings.ReplaceAll(o.Key, "_", "-") }

// Var is the option's environment variable, "" when it has none.
func (o *KnockOption) Var() string {
	if !o.Env {
		return ""
	}
	return "KNOCK_" + strings.ToUpper(o.Key)
}

// InProfile reports whether a profile holds the option (profile add then
// takes its flag).
func (o *KnockOption) InProfile() bool { return o.field.inProfile() }

// FromProfile is the option's value in p, and whether p sets it.
func (o *KnockOption) FromProfile(p *Profile) (any, bool) { return o.field.get(p) }

// SetProfile sets the option in p (a value of Parse).
func (o *KnockOption) SetProfile(p *Profile, v any) { o.field.set(p, v) }

// Put sets the option in k (a value of Parse or FromProfile).
func (o *KnockOption) Put(k *Knobs, v any) { o.field.put(k, v) }

// KnockOptions is the table of knock's options.
func KnockOptions() []KnockOption { return knockOptions }

// KnockOptionOf finds an option by its profile key.
func KnockOptionOf(key string) *KnockOption {
	for i := range knockOptions {
		if knockOptions[i].Key == key {
			return &knockOptions[i]
		}
	}
	return nil
}

// The parsers of the options' texts, shared by flags, variables and
// profile files.
func parseDelay(s string) (any, error)  { return ParseDuration(s) }
func parseString(s string) (any, error) { return s, nil }
func parseTTL(s string) (any, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 255 {
		return nil, fmt.Errorf("%q out of range 1-255", s)
	}
	return n, nil
}
func parsePort(s string) (any, error) { return knock.ParsePort(s) }
func parseFamily(s string) (any, error) {
	if s != "4" && s != "6" {
		return nil, fmt.Errorf("%q: want 4 or 6", s)
	}
	return int(s[0] - '0'), nil
}

var knockOptions = []KnockOption{
	{Key: "udp", Short: "u", Bool: true, Env: true, Root: true,
		Help: "make every knock that names no protocol UDP (default TCP)",
		Parse: func(s string) (any, error) {
			b, err := strconv.ParseBool(s)
			if err != nil {
				return nil, fmt.Errorf("%q is not true or false", s)
			}
			return b, nil
		},
		field: optionField[bool]{nil, func(k *Knobs) *bool { return &k.UDP }, nil}},
	{Key: "delay", Short: "d", Env: true, Root: true,
		Help:  "wait between knocks: milliseconds as in knock 0.8, or a duration such as 250ms or 1.5s",
		Parse: parseDelay,
		field: optionField[Duration]{func(p *Profile) *Duration { return &p.Delay }, func(k *Knobs) *Duration { return &k.Delay }, duration}},
	{Key: "flags", Env: true, Root: true,
		Help:  "TCP flags for every TCP knock that names none, joined by + or , (e.g. fin+psh)",
		Parse: parseString,
		field: optionField[string]{func(p *Profile) *string { return &p.Flags }, func(k *Knobs) *string { return &k.Flags }, scalar}},
	{Key: "family", Env: true, Values: []string{"4", "6"},
		Help:  "address family: 4 or 6 (knock's -4 and -6)",
		Parse: parseFamily,
		field: optionField[int]{func(p *Profile) *int { return &p.Family }, func(k *Knobs) *int { return &k.Family }, func(n *yaml.Node) (int, error) { return integer(n, 0, 6) }}},
	{Key: "method", Env: true, Root: true, Values: []string{"auto", "raw", "connect"},
		Help:  "how TCP knocks are sent: auto (raw when privileged, else connect), raw or connect",
		Parse: parseString,
		field: optionField[string]{func(p *Profile) *string { return &p.Method }, func(k *Knobs) *string { return &k.Method }, scalar}},
	{Key: "source_port", Env: true, Root: true,
		Help:  "send every knock from this source port",
		Parse: parsePort,
		field: optionField[uint16]{func(p *Profile) *uint16 { return &p.SourcePort }, func(k *Knobs) *uint16 { return &k.SourcePort }, port}},
	{Key: "ttl", Env: true, Root: true,
		Help:  "IP TTL / hop limit of the knocks, 1-255 (default: the system's)",
		Parse: parseTTL,
		field: optionField[int]{func(p *Profile) *int { return &p.TTL }, func(k *Knobs) *int { return &k.TTL }, func(n *yaml.Node) (int, error) { return integer(n, 1, 255) }}},
	{Key: "port", // knock's --port and --wait only say what one run waits for
		Help:  "the port of the service behind the door (default 22)",
		Parse: parsePort,
		field: optionField[uint16]{func(p *Profile) *uint16 { return &p.Port }, func(k *Knobs) *uint16 { return &k.Port }, port}},
	{Key: "wait",
		Help:  "how long to wait for the door to open (default 10s)",
		Parse: parseDelay,
		field: optionField[Duration]{func(p *Profile) *Duration { return &p.Wait }, func(k *Knobs) *Duration { return &k.Wait }, duration}},
}

// Built-in defaults of the fields the ssh integration reads.
const (
	DefaultPort = 22
	DefaultWait = 10 * time.Second
)

// Duration is a time.Duration written as "100ms" or "1.5s"; a bare number
// is milliseconds, as knock's -d takes it.
type Duration time.Duration

// ParseDuration reads a bare number of milliseconds or a Go duration.
func ParseDuration(s string) (Duration, error) {
	s = strings.TrimSpace(s)
	if ms, err := strconv.ParseUint(s, 10, 32); err == nil {
		return Duration(time.Duration(ms) * time.Millisecond), nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("%q is neither milliseconds nor a duration such as 250ms", s)
	}
	return Duration(d), nil
}

func (d Duration) String() string { return time.Duration(d).String() }

// MarshalYAML writes the duration as text ("100ms").
func (d Duration) MarshalYAML() (any, error) { return d.String(), nil }

// ValidateName checks a profile name: letters, digits, '-', '_' and '.',
// starting with a letter or digit, and not one of reserved (the
// subcommands, which a profile name must not shadow).
func ValidateName(name string, reserved []string) error {
	if name == "" || !plainWord(name) || name[0] == '.' || name[0] == '_' || name[0] == '-' {
		return fmt.Errorf("invalid profile name %q: use letters, digits, '-', '_' and '.', starting with a letter or digit", name)
	}
	for _, r := range reserved {
		if strings.EqualFold(name, r) {
			return fmt.Errorf("invalid profile name %q: it is a knock subcommand", name)
		}
	}
	return nil
}

// KnockSequence parses the sequence with the profile's flags (and UDP when
// udp is set) as the defaults of knocks that name none.
func (p Profile) KnockSequence(udp bool) (knock.Sequence, error) {
	d := knock.Defaults{Proto: knock.TCP}
	if udp {
		d.Proto = knock.UDP
	}
	if p.Flags != "" {
		f, err := knock.ParseTCPFlags(p.Flags)
		if err != nil {
			return nil, fmt.Errorf("flags: %w", err)
		}
		d.Flags = f
	}
	return knock.ParseSequence(p.Sequence, d)
}

// Closing returns the profile that knocks p's close sequence, with p's
// host and options.
func (p Profile) Closing() (Profile, error) {
	if len(p.CloseSequence) == 0 {
		return p, errors.New("no close_sequence (add one with profile edit, or profile add --close-sequence)")
	}
	c := p
	c.Sequence, c.CloseSequence = p.CloseSequence, nil
	c.Secret, c.SecretFile, c.Period, c.Length, c.Ports, c.Protocol = "", "", 0, 0, "", ""
	return c, nil
}

// Validate checks every field; the error names the field and the bad token.
// A profile that is only a set of defaults (no host, no sequence) passes
// with partial set.
func (p Profile) Validate(partial bool) error {
	if p.SPA != nil {
		if err := p.SPA.validate(); err != nil {
			return err
		}
		switch {
		case len(p.Sequence) > 0:
			return fieldErr("sequence", "sequence and spa exclude each other: an SPA profile sends one packet")
		case p.TimeBased():
			return fieldErr("spa", "spa and secret exclude each other")
		case len(p.CloseSequence) > 0:
			return fieldErr("close_sequence", "close_sequence is for sequence profiles: fwknopd closes the door itself after its timeout")
		}
	}
	if !partial {
		if p.Host == "" {
			return fieldErr("host", "host: missing")
		}
		if len(p.Sequence) == 0 && !p.TimeBased() && p.SPA == nil {
			return fieldErr("sequence", "sequence: missing (want a list such as [\"7000\", \"8000:udp\"], or a secret)")
		}
	}
	if p.Host != "" {
		if err := ValidateHost(p.Host); err != nil {
			return fieldErr("host", "host %q: %v", p.Host, err)
		}
	}
	if err := ValidateUser(p.User); err != nil {
		return fieldErr("user", "user %q: %v", p.User, err)
	}
	if err := ValidateText(p.Description); err != nil {
		return fieldErr("description", "description: %v", err)
	}
	if err := ValidateText(p.SecretFile); err != nil {
		return fieldErr("secret_file", "secret_file: %v", err)
	}
	if p.TimeBased() {
		if len(p.Sequence) > 0 {
			return fieldErr("sequence", "sequence and secret exclude each other: a time-based profile derives its sequence")
		}
		if p.Secret != "" && p.SecretFile != "" {
			return fieldErr("secret_file", "secret and secret_file exclude each other")
		}
		if _, err := p.timeParams(nil); err != nil {
			return err
		}
	} else if p.Period != 0 || p.Length != 0 || p.Ports != "" || p.Protocol != "" {
		return fieldErr(p.firstTimeKey(), "period, length, ports and protocol are for time-based profiles: give a secret or secret_file too")
	}
	if p.Flags != "" {
		if _, err := knock.ParseTCPFlags(p.Flags); err != nil {
			return fieldErr("flags", "flags: %w", err)
		}
	}
	if len(p.Sequence) > 0 {
		if _, err := p.KnockSequence(false); err != nil {
			return &FieldError{Field: "sequence", Err: err}
		}
	}
	if len(p.CloseSequence) > 0 {
		c, _ := p.Closing()
		if _, err := c.KnockSequence(false); err != nil {
			return fieldErr("close_sequence", "close_sequence: %w", err)
		}
	}
	if p.Delay < 0 {
		return fieldErr("delay", "delay %v: negative", p.Delay)
	}
	if p.Family != 0 && p.Family != 4 && p.Family != 6 {
		return fieldErr("family", "family %d: want 4 or 6", p.Family)
	}
	if p.Method != "" {
		if err := knock.CheckMethod(p.Method); err != nil {
			return fieldErr("method", "method: %w", err)
		}
	}
	if p.TTL < 0 || p.TTL > 255 {
		return fieldErr("ttl", "ttl %d: out of range 1-255", p.TTL)
	}
	if p.Wait < 0 {
		return fieldErr("wait", "wait %v: negative", p.Wait)
	}
	return nil
}

// firstTimeKey names the first time-based key a profile sets.
func (p Profile) firstTimeKey() string {
	switch {
	case p.Period != 0:
		return "period"
	case p.Length != 0:
		return "length"
	case p.Ports != "":
		return "ports"
	}
	return "protocol"
}

// ServicePort is the port behind the door: the profile's, else 22.
func (p Profile) ServicePort() uint16 {
	if p.Port > 0 {
		return p.Port
	}
	return DefaultPort
}

// WaitTime is how long to wait for the door: the profile's, else 10s.
func (p Profile) WaitTime() time.Duration {
	if p.Wait > 0 {
		return time.Duration(p.Wait)
	}
	return DefaultWait
}

// TimeBased reports whether the profile derives its sequence from a secret.
func (p Profile) TimeBased() bool { return p.Secret != "" || p.SecretFile != "" }

// TimeSequence returns the parameters of a time-based profile, reading
// the secret file if there is one (which others must not be able to read).
func (p Profile) TimeSequence() (knock.TimeSequence, error) {
	return p.timeParams(filepolicy.ReadSecret)
}

// timeParams builds the parameters; with read nil a secret file is only
// named, not read (for validating a profile before saving it).
func (p Profile) timeParams(read func(string) (string, error)) (knock.TimeSequence, error) {
	ts := knock.TimeSequence{Period: time.Duration(p.Period), Length: p.Length, Protocol: p.Protocol}
	if p.Ports != "" {
		lo, hi, err := knock.ParsePortRange(p.Ports)
		if err != nil {
			return ts, fieldErr("ports", "ports: %w", err)
		}
		ts.PortMin, ts.PortMax = lo, hi
	}
	secret := p.Secret
	if p.SecretFile != "" {
		if read == nil {
			secret = "AAAAAAAAAAAAAAAAAAAAAAAAAA" // a placeholder of valid length
		} else {
			s, err := read(p.SecretFile)
			if err != nil {
				return ts, fieldErr("secret_file", "secret_file: %w", err)
			}
			secret = s
		}
	}
	b, err := knock.ParseSecret(secret)
	if err != nil {
		return ts, fieldErr("secret", "secret: %w", err)
	}
	ts.Secret = b
	ts = ts.WithDefaults()
	if err := ts.Validate(); err != nil {
		return ts, err
	}
	return ts, nil
}

// WithDefaults returns p with its unset fields taken from d.
func (p Profile) WithDefaults(d *Profile) Profile {
	if d == nil {
		return p
	}
	if p.Host == "" {
		p.Host = d.Host
	}
	for _, o := range knockOptions {
		if _, set := o.FromProfile(&p); !set {
			if v, ok := o.FromProfile(d); ok {
				o.field.set(&p, v)
			}
		}
	}
	if len(p.Sequence) == 0 {
		p.Sequence = d.Sequence
	}
	if p.User == "" {
		p.User = d.User
	}
	if len(p.CloseSequence) == 0 {
		p.CloseSequence = d.CloseSequence
	}
	p.AllowRepeats = p.AllowRepeats || d.AllowRepeats
	if p.SPA != nil {
		s := p.SPA.withDefaults(d.SPA)
		p.SPA = &s
	}
	if p.Period == 0 {
		p.Period = d.Period
	}
	if p.Length == 0 {
		p.Length = d.Length
	}
	if p.Ports == "" {
		p.Ports = d.Ports
	}
	if p.Protocol == "" {
		p.Protocol = d.Protocol
	}
	return p
}
