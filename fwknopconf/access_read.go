package fwknopconf

import (
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/knocktools/knock"
	"github.com/knocktools/knock/spa"
)

// Access is fwknopd's access.conf: its stanzas in order (the first whose
// SOURCE matches a packet's source, and whose keys take the packet, wins).
type Access struct {
	Stanzas  []*AccessEntry
	Files    []string // every file read, the included ones too, in order
	Warnings []string // what fwknopd would warn about too, each with file:line
}

// AccessEntry is one stanza of an access.conf: from its SOURCE line to the next.
type AccessEntry struct {
	File string
	Line int // of its SOURCE

	Source         []netip.Prefix // where packets may come from; empty with SourceAny
	SourceAny      bool
	Destination    []netip.Prefix    // where they may be addressed; empty with DestinationAny
	DestinationAny bool              // also when DESTINATION is not set
	OpenPorts      []knock.ProtoPort // what may be opened; empty: what the packet asks
	RestrictPorts  []knock.ProtoPort // what never is

	Keys spa.Keys // the encryption key and mode, the HMAC key and digest

	FWAccessTimeout int // seconds a door stays open when the packet asks for none (default 30)
	MaxFWTimeout    int // the longest a packet may ask for (default 300)
	// AccessExpire is when the stanza stops taking packets; zero: never.
	AccessExpire time.Time

	RequireUsername      string // the user the packet must name; empty: any
	RequireSourceAddress bool   // the packet must name an address (0.0.0.0 is refused)

	// CmdCycleOpen runs instead of the firewall when a packet is taken,
	// and CmdCycleClose CmdCycleTimer seconds later (CloseNone: never).
	CmdCycleOpen, CmdCycleClose string
	CloseNone                   bool
	CmdCycleTimer               int
	CmdUser                     string // CMD_EXEC_USER: who runs them; empty: root
}

// Defaults of fwknopd 2.6.
const (
	DefaultFWAccessTimeout = 30
	DefaultMaxFWTimeout    = 300
	// MaxTimeout bounds every timeout in seconds (a year): past it a
	// value is a mistake.
	MaxTimeout = 366 * 24 * 3600
	// maxDepth is how deep %include goes, as in fwknopd.
	maxDepth = 3
)

// ParseAccess reads an access.conf: data, or (nil) the file at path, and
// what it includes through files (nil: none may be included). Every error
// names the file, the line and the token; so does every directive
// fwknopd would take but this knockd does not serve (GnuPG, NAT, command
// messages), refused rather than ignored.
func ParseAccess(path string, data []byte, files Files) (*Access, error) {
	p := &accessParser{files: files, a: &Access{}}
	if err := p.file(path, data, 0); err != nil {
		return nil, err
	}
	if err := p.finish(); err != nil {
		return nil, err
	}
	if len(p.a.Stanzas) == 0 {
		return nil, fmt.Errorf("%s: no stanza (each starts with SOURCE)", path)
	}
	return p.a, nil
}

type accessParser struct {
	files Files
	a     *Access
	cur   *AccessEntry
	seen  map[string]int // keys of the current stanza, with their lines
	keys  stanzaKeys
}

// stanzaKeys are the current stanza's key directives until it ends.
type stanzaKeys struct {
	key, hmacKey []byte
	hmacDigest   spa.Digest
	legacy       bool
}

func lineErr(path string, n int, format string, a ...any) error {
	return fmt.Errorf("%s:%d: %s", path, n, fmt.Sprintf(format, a...))
}

func (p *accessParser) file(path string, data []byte, depth int) error {
	if depth > maxDepth {
		return fmt.Errorf("%s: included more than %d deep", path, maxDepth)
	}
	if data == nil {
		if p.files == nil {
			return fmt.Errorf("%s: cannot be read here", path)
		}
		var err error
		if data, err = p.files.ReadFile(path); err != nil {
			var pe *fs.PathError
			if errors.As(err, &pe) {
				err = pe.Err
			}
			return &readError{path, err}
		}
	}
	p.a.Files = append(p.a.Files, path)
	return lines(path, data, func(n int, key, value string) error { return p.directive(path, n, key, value, depth) })
}

func (p *accessParser) directive(path string, n int, key, value string, depth int) error {
	switch strings.ToLower(key) {
	case "%include":
		target := p.rel(path, value)
		err := p.file(target, nil, depth+1)
		if re := (*readError)(nil); errors.As(err, &re) && re.path == target {
			return lineErr(path, n, "%%include: %v", err)
		}
		return err
	case "%include_folder":
		return p.folder(path, n, p.rel(path, value), depth+1)
	}
	name := strings.ToUpper(key)
	if name == "SOURCE" {
		if err := p.finish(); err != nil {
			return err
		}
		p.cur = &AccessEntry{File: path, Line: n, FWAccessTimeout: DefaultFWAccessTimeout, MaxFWTimeout: DefaultMaxFWTimeout, DestinationAny: true}
		p.seen, p.keys = map[string]int{"SOURCE": n}, stanzaKeys{}
		var err error
		p.cur.Source, p.cur.SourceAny, err = parseAddrs(value)
		if err != nil {
			return lineErr(path, n, "SOURCE %q: %v", value, err)
		}
		p.a.Stanzas = append(p.a.Stanzas, p.cur)
		return nil
	}
	if p.cur == nil {
		return lineErr(path, n, "%s before any SOURCE (a stanza starts with SOURCE)", key)
	}
	if name == "%INCLUDE_KEYS" {
		return p.includeKeys(path, n, p.rel(path, value))
	}
	if prev, dup := p.seen[same(name)]; dup {
		return lineErr(path, n, "%s given twice in this stanza (first at line %d)", same(name), prev)
	}
	p.seen[same(name)] = n
	if err := p.set(name, value); err != nil {
		return lineErr(path, n, "%v", err)
	}
	return nil
}

// readError is a file that could not be read.
type readError struct {
	path string
	err  error
}

func (e *readError) Error() string { return e.path + ": " + e.err.Error() }
func (e *readError) Unwrap() error { return e.err }

// same is the directive a name sets: the key's two spellings set one key.
func same(name string) string {
	switch name {
	case "KEY_BASE64":
		return "KEY"
	case "HMAC_KEY_BASE64":
		return "HMAC_KEY"
	case "REQUIRE_SOURCE":
		return "REQUIRE_SOURCE_ADDRESS"
	}
	return name
}

// rel is an included path: as written, or beside the including file.
func (p *accessParser) rel(from, path string) string {
	if filepath.IsAbs(path) {
		return filepath.Clean(path)
	}
	return filepath.Join(filepath.Dir(from), path)
}

// folder includes every *.conf file of dir, in name order (fwknopd takes
// them in the order the directory lists them).
func (p *accessParser) folder(path string, n int, dir string, depth int) error {
	if p.files == nil {
		return lineErr(path, n, "%%include_folder %s: cannot be read here", dir)
	}
	names, err := p.files.ReadDir(dir)
	if err != nil {
		return lineErr(path, n, "%%include_folder: %v", err)
	}
	slices.Sort(names)
	for _, name := range names {
		if strings.HasSuffix(name, ".conf") {
			if err := p.file(filepath.Join(dir, name), nil, depth); err != nil {
				return err
			}
		}
	}
	return nil
}

// includeKeys reads the key directives of a stanza from a file of its own.
func (p *accessParser) includeKeys(path string, n int, file string) error {
	if p.files == nil {
		return lineErr(path, n, "%%include_keys %s: cannot be read here", file)
	}
	data, err := p.files.ReadFile(file)
	if err != nil {
		return lineErr(path, n, "%%include_keys: %v", err)
	}
	p.a.Files = append(p.a.Files, file)
	return lines(file, data, func(kn int, key, value string) error {
		name := strings.ToUpper(key)
		if !slices.Contains([]string{"KEY", "KEY_BASE64", "HMAC_KEY", "HMAC_KEY_BASE64", "HMAC_DIGEST_TYPE"}, name) {
			return lineErr(file, kn, "%s: a keys file holds KEY, KEY_BASE64, HMAC_KEY, HMAC_KEY_BASE64 and HMAC_DIGEST_TYPE only", key)
		}
		if prev, dup := p.seen[same(name)]; dup {
			return lineErr(file, kn, "%s given twice for the stanza at %s:%d (first at line %d)", same(name), p.cur.File, p.cur.Line, prev)
		}
		p.seen[same(name)] = kn
		if err := p.set(name, value); err != nil {
			return lineErr(file, kn, "%v", err)
		}
		return nil
	})
}

// What this knockd refuses, and why: fwknopd takes them, but they switch
// on what is not served here.
var refusedAccess = sync.OnceValue(func() map[string]string {
	return map[string]string{
		"GPG_HOME_DIR": "GnuPG", "GPG_EXE": "GnuPG", "GPG_DECRYPT_ID": "GnuPG", "GPG_DECRYPT_PW": "GnuPG",
		"GPG_ALLOW_NO_PW": "GnuPG", "GPG_REQUIRE_SIG": "GnuPG", "GPG_DISABLE_SIG": "GnuPG",
		"GPG_IGNORE_SIG_VERIFY_ERROR": "GnuPG", "GPG_REMOTE_ID": "GnuPG", "GPG_FINGERPRINT_ID": "GnuPG",
		"FORCE_NAT": "NAT", "FORCE_SNAT": "NAT",
		"CMD_SUDO_EXEC_USER": "command messages", "CMD_SUDO_EXEC_GROUP": "command messages",
	}
})

// refusedWhenYes are booleans refused when they switch a feature on.
var refusedWhenYes = sync.OnceValue(func() map[string]string {
	return map[string]string{
		"ENABLE_CMD_EXEC": "command messages", "ENABLE_CMD_SUDO_EXEC": "command messages",
		"FORCE_MASQUERADE": "NAT", "DISABLE_DNAT": "NAT", "FORWARD_ALL": "NAT",
	}
})

func (p *accessParser) set(name, v string) (err error) {
	s := p.cur
	if why, ok := refusedAccess()[name]; ok {
		return fmt.Errorf("%s: %s is not served by this knockd (run fwknopd for such stanzas)", name, why)
	}
	if why, ok := refusedWhenYes()[name]; ok {
		b, err := yesNo(name, v)
		if err == nil && b {
			err = fmt.Errorf("%s Y: %s are not served by this knockd (run fwknopd for such stanzas)", name, why)
		}
		return err
	}
	switch name {
	case "DESTINATION":
		s.Destination, s.DestinationAny, err = parseAddrs(v)
		if err != nil {
			return fmt.Errorf("DESTINATION %q: %v", v, err)
		}
	case "OPEN_PORTS":
		s.OpenPorts, err = parsePorts(name, v)
	case "RESTRICT_PORTS":
		s.RestrictPorts, err = parsePorts(name, v)
	case "KEY", "HMAC_KEY":
		if strings.EqualFold(v, "__CHANGEME__") {
			return fmt.Errorf("%s is __CHANGEME__: set it (fwknop --key-gen makes keys)", name)
		}
		if name == "KEY" {
			p.keys.key = []byte(v)
		} else {
			p.keys.hmacKey = []byte(v)
		}
	case "KEY_BASE64", "HMAC_KEY_BASE64":
		if strings.EqualFold(v, "__CHANGEME__") {
			return fmt.Errorf("%s is __CHANGEME__: set it (fwknop --key-gen makes keys)", name)
		}
		b, derr := base64.StdEncoding.DecodeString(v)
		if derr != nil {
			b, derr = base64.RawStdEncoding.DecodeString(strings.TrimRight(v, "="))
		}
		if derr != nil || len(b) == 0 {
			return fmt.Errorf("%s: not base64", name)
		}
		if name == "KEY_BASE64" {
			p.keys.key = b
		} else {
			p.keys.hmacKey = b
		}
	case "HMAC_DIGEST_TYPE":
		if p.keys.hmacDigest, err = spa.ParseDigest(v); err != nil {
			return fmt.Errorf("HMAC_DIGEST_TYPE: %v", err)
		}
	case "ENCRYPTION_MODE":
		switch strings.ToLower(v) {
		case "cbc":
		case "legacy":
			p.keys.legacy = true
		case "ctr", "asymmetric":
			return fmt.Errorf("ENCRYPTION_MODE %s: not served by this knockd (cbc and legacy are)", v)
		default:
			return fmt.Errorf("ENCRYPTION_MODE %q: want cbc or legacy", v)
		}
	case "FW_ACCESS_TIMEOUT":
		s.FWAccessTimeout, err = seconds(name, v, 0)
		if s.FWAccessTimeout == 0 {
			s.FWAccessTimeout = DefaultFWAccessTimeout
		}
	case "MAX_FW_TIMEOUT":
		s.MaxFWTimeout, err = seconds(name, v, 0)
		if s.MaxFWTimeout == 0 {
			s.MaxFWTimeout = DefaultMaxFWTimeout
		}
	case "CMD_CYCLE_TIMER":
		s.CmdCycleTimer, err = seconds(name, v, 1)
	case "CMD_CYCLE_OPEN":
		s.CmdCycleOpen = v
	case "CMD_CYCLE_CLOSE":
		s.CmdCycleClose, s.CloseNone = v, v == "NONE"
		if s.CloseNone {
			s.CmdCycleClose = ""
		}
	case "CMD_EXEC_USER":
		s.CmdUser = v
	case "CMD_EXEC_GROUP":
		// The user's own group is what the commands run with here.
	case "REQUIRE_USERNAME":
		s.RequireUsername = v
	case "REQUIRE_SOURCE_ADDRESS", "REQUIRE_SOURCE":
		s.RequireSourceAddress, err = yesNo(name, v)
	case "ACCESS_EXPIRE":
		t, terr := time.ParseInLocation("01/02/2006", v, time.Local)
		if terr != nil {
			return fmt.Errorf("ACCESS_EXPIRE %q: want MM/DD/YYYY", v)
		}
		s.AccessExpire = t
	case "ACCESS_EXPIRE_EPOCH":
		n, perr := strconv.ParseInt(v, 10, 64)
		if perr != nil || n < 0 {
			return fmt.Errorf("ACCESS_EXPIRE_EPOCH %q: want seconds since 1970", v)
		}
		s.AccessExpire = time.Unix(n, 0)
	default:
		return fmt.Errorf("unknown access.conf directive %q", name)
	}
	return err
}

// finish checks the stanza being read, as fwknopd does at the next
// SOURCE and at the end.
func (p *accessParser) finish() error {
	s := p.cur
	if s == nil {
		return nil
	}
	k := &p.keys
	at := func(format string, a ...any) error { return lineErr(s.File, s.Line, format, a...) }
	if len(k.key) == 0 {
		return at("stanza SOURCE %s: no KEY or KEY_BASE64", AddrsText(s.SourceAny, s.Source))
	}
	s.Keys = spa.Keys{Key: k.key, HMACKey: k.hmacKey, HMAC: k.hmacDigest}
	if k.legacy {
		s.Keys.Mode = spa.Legacy
		if len(s.Keys.Key) > 16 {
			p.a.Warnings = append(p.a.Warnings, fmt.Sprintf("%s:%d: legacy mode takes 16 bytes of the key, as fwknopd does", s.File, s.Line))
			s.Keys.Key = s.Keys.Key[:16]
		}
	}
	if s.Keys.HMACKey != nil && s.Keys.HMAC == 0 {
		s.Keys.HMAC = spa.SHA256
	}
	if err := s.Keys.Validate(); err != nil {
		return at("stanza SOURCE %s: %v", AddrsText(s.SourceAny, s.Source), err)
	}
	switch {
	case s.CmdCycleOpen != "" && s.CmdCycleClose == "" && !s.CloseNone:
		return at("CMD_CYCLE_OPEN without CMD_CYCLE_CLOSE (NONE for no close command)")
	case s.CmdCycleOpen == "" && (s.CmdCycleClose != "" || s.CloseNone):
		return at("CMD_CYCLE_CLOSE without CMD_CYCLE_OPEN")
	case s.CmdCycleOpen != "" && !s.CloseNone && s.CmdCycleTimer == 0:
		return at("CMD_CYCLE_OPEN needs CMD_CYCLE_TIMER (the seconds until CMD_CYCLE_CLOSE)")
	}
	if s.MaxFWTimeout < s.FWAccessTimeout {
		p.a.Warnings = append(p.a.Warnings, fmt.Sprintf("%s:%d: MAX_FW_TIMEOUT %d < FW_ACCESS_TIMEOUT %d: MAX_FW_TIMEOUT holds", s.File, s.Line, s.MaxFWTimeout, s.FWAccessTimeout))
	}
	if !s.RequireSourceAddress {
		p.a.Warnings = append(p.a.Warnings, fmt.Sprintf("%s:%d: REQUIRE_SOURCE_ADDRESS is not Y: a packet asking for 0.0.0.0 opens for whoever sent it (whoever captures it first)", s.File, s.Line))
	}
	p.cur = nil
	return nil
}

// AddrsText writes a SOURCE or DESTINATION as access.conf spells it:
// ANY, or the comma list of its networks.
func AddrsText(any bool, list []netip.Prefix) string {
	if any {
		return "ANY"
	}
	parts := make([]string, len(list))
	for i, p := range list {
		parts[i] = p.String()
	}
	return strings.Join(parts, ",")
}

// parseAddrs reads a SOURCE or DESTINATION: ANY, or a comma list of
// addresses and networks (a.b.c.d/NN, a.b.c.d/m.m.m.m, IPv6 too).
func parseAddrs(v string) ([]netip.Prefix, bool, error) {
	var out []netip.Prefix
	for _, item := range strings.Split(v, ",") {
		item = strings.TrimSpace(item)
		if strings.EqualFold(item, "ANY") {
			if len(strings.Split(v, ",")) > 1 {
				return nil, false, errors.New("ANY in a list")
			}
			return nil, true, nil
		}
		p, err := parsePrefix(item)
		if err != nil {
			return nil, false, err
		}
		out = append(out, p)
	}
	return out, false, nil
}

func parsePrefix(s string) (netip.Prefix, error) {
	addr, mask, hasMask := strings.Cut(s, "/")
	a, err := netip.ParseAddr(addr)
	if err != nil || a.Zone() != "" {
		return netip.Prefix{}, fmt.Errorf("%q is not an address", addr)
	}
	a = a.Unmap()
	if !hasMask {
		return netip.PrefixFrom(a, a.BitLen()), nil
	}
	if bits, err := strconv.Atoi(mask); err == nil {
		if bits < 1 || bits > a.BitLen() {
			return netip.Prefix{}, fmt.Errorf("/%s: want 1-%d", mask, a.BitLen())
		}
		return netip.PrefixFrom(a, bits).Masked(), nil
	}
	m, err := netip.ParseAddr(mask)
	if err != nil || !a.Is4() || !m.Is4() {
		return netip.Prefix{}, fmt.Errorf("/%s: not a mask", mask)
	}
	b := m.As4()
	n := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	ones := 0
	for n&0x80000000 != 0 {
		ones, n = ones+1, n<<1
	}
	if n != 0 || ones == 0 {
		return netip.Prefix{}, fmt.Errorf("/%s: not a mask of leading ones", mask)
	}
	return netip.PrefixFrom(a, ones).Masked(), nil
}

// parsePorts reads "tcp/22, udp/53".
func parsePorts(name, v string) ([]knock.ProtoPort, error) {
	var out []knock.ProtoPort
	for _, item := range strings.Split(v, ",") {
		p, ok := knock.ParseProtoPort(item)
		if !ok {
			return nil, fmt.Errorf("%s %q: want proto/port items such as tcp/22,udp/53", name, strings.TrimSpace(item))
		}
		out = append(out, p)
	}
	return out, nil
}

// seconds reads a whole number of seconds from min to MaxTimeout.
func seconds(name, v string, min int) (int, error) {
	n, err := strconv.Atoi(v)
	if err != nil || n < min || n > MaxTimeout {
		return 0, fmt.Errorf("%s %q: want %d to %d seconds", name, v, min, MaxTimeout)
	}
	return n, nil
}

// yesNo reads fwknop's Y/N.
func yesNo(name, v string) (bool, error) {
	switch strings.ToUpper(v) {
	case "Y", "YES":
		return true, nil
	case "N", "NO":
		return false, nil
	}
	return false, fmt.Errorf("%s %q: want Y or N", name, v)
}
