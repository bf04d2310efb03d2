// Package firewall opens and closes holes for knockers, idempotently, in
// nftables or iptables: what knockd's door commands call (knockd fw open /
// close / list). Every rule it adds carries a comment marking it as ours,
// and it touches no other rule. Input is validated before anything runs,
// and commands run directly, never through a shell.
package firewall

import (
	"errors"
	"fmt"
	"net/netip"
	"os/exec"
	"regexp"
	"strings"

	"github.com/knocktools/knock"
)

// Rule is a hole: packets from Src to Port/Proto are accepted.
type Rule struct {
	Src     netip.Addr
	Port    uint16
	Proto   string // tcp or udp
	Chain   string // iptables chain, or the chain in our nftables table
	Comment string // marks the rules we manage
}

// Defaults for the flags.
const (
	DefaultComment = "knockd"
	DefaultChain   = "INPUT" // iptables; nftables uses "input" in table inet knockd
)

// ErrInvalid marks input refused before anything ran.
var ErrInvalid = errors.New("invalid input")

var (
	chainRE   = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_-]{0,27}$`)
	commentRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$`)
)

// Validate refuses what would not make a well-formed rule: addresses that
// do not parse, ports out of range, and chains or comments carrying
// anything beyond letters, digits and a few separators (no shell or rule
// syntax can get through).
func (r Rule) Validate() error {
	if !r.Src.IsValid() {
		return fmt.Errorf("%w: missing source address", ErrInvalid)
	}
	if r.Src.Zone() != "" {
		return fmt.Errorf("%w: source %s: zones are not allowed", ErrInvalid, r.Src)
	}
	if r.Port == 0 {
		return fmt.Errorf("%w: port out of range 1-65535", ErrInvalid)
	}
	if r.Proto != "tcp" && r.Proto != "udp" {
		return fmt.Errorf("%w: protocol %q (want tcp or udp)", ErrInvalid, r.Proto)
	}
	return ValidateNames(r.Chain, r.Comment)
}

// ValidateNames checks a chain name and a comment.
func ValidateNames(chain, comment string) error {
	if !chainRE.MatchString(chain) {
		return fmt.Errorf("%w: chain %q (letters, digits, '_' and '-', starting with a letter, at most 28)", ErrInvalid, chain)
	}
	if !commentRE.MatchString(comment) {
		return fmt.Errorf("%w: comment %q (letters, digits, '_', '.', ':' and '-', at most 64)", ErrInvalid, comment)
	}
	return nil
}

// ParseSource parses --src, which must be a plain address (knockd's %IP%).
func ParseSource(s string) (netip.Addr, error) {
	a, err := netip.ParseAddr(strings.TrimSpace(s))
	if err != nil {
		return netip.Addr{}, fmt.Errorf("%w: source %q is not an IP address", ErrInvalid, s)
	}
	// A mapped or compatible IPv6 source would open its IPv4 address;
	// multicast, broadcast and unspecified sources are never a peer.
	if why := knock.NotAPeer(a); why != "" {
		return netip.Addr{}, fmt.Errorf("%w: source %q is %s, never a real peer", ErrInvalid, s, why)
	}
	return a, nil
}

// Runner runs one command (no shell) and returns its output; dry runs and
// tests replace it.
type Runner interface {
	Run(name string, args ...string) (stdout, stderr string, err error)
}

// Exec runs commands for real.
type Exec struct{}

func (Exec) Run(name string, args ...string) (string, string, error) {
	c := exec.Command(name, args...)
	var out, errb strings.Builder
	c.Stdout, c.Stderr = &out, &errb
	err := c.Run()
	return out.String(), errb.String(), err
}

// Backend manages our rules in one firewall.
type Backend interface {
	Name() string
	// Open adds the rule unless it is there; it reports whether it added.
	Open(r Rule) (bool, error)
	// Close removes every copy of the rule and reports how many.
	Close(r Rule) (int, error)
	// List returns our rules (those carrying comment, and the
	// established rule), one per line.
	List(chain, comment string) ([]string, error)
	// Established makes sure the chain accepts established and related
	// connections of r's family ahead of the rules that drop the port, so
	// that closing a door cuts no session it let in; it adds one rule,
	// marked with EstablishedComment(r.Comment), at most once and shared
	// by every door, which Close leaves in place. It reports whether it
	// added it.
	Established(r Rule) (bool, error)
}

// EstablishedComment marks the established rule of the rules marked
// comment.
func EstablishedComment(comment string) string { return comment + "-established" }

// New returns the backend by name: "nftables", "iptables", or "auto"
// (what Detect finds filtering this host's input; detect runs the
// commands Detect needs, and may differ from run in a dry run).
func New(name string, run, detect Runner) (Backend, error) {
	switch name {
	case "nftables":
		return &NFT{Run: run}, nil
	case "iptables":
		return &IPTables{Run: run}, nil
	case "auto", "":
		name, err := detected(detect)
		if err != nil {
			return nil, err
		}
		return New(name, run, detect)
	}
	return nil, fmt.Errorf("%w: backend %q (want auto, nftables or iptables)", ErrInvalid, name)
}

// detected is what Detect finds, or why it refuses.
func detected(run Runner) (string, error) {
	c, err := Detect(run)
	if err == nil && c.Refused != nil {
		err = c.Refused
	}
	return c.Backend, err
}

// commandError reports a failed command with what it printed.
func commandError(name string, args []string, stderr string, err error) error {
	msg := strings.TrimSpace(stderr)
	if msg == "" {
		msg = err.Error()
	}
	return fmt.Errorf("%s %s: %s", name, strings.Join(args, " "), msg)
}
