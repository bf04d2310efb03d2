package knock

import (
	"fmt"
	"strings"
)

// TCPFlags is a set of TCP header flags, with the bit layout of the flags
// byte of the TCP header (FIN is bit 0), so it can be copied to and from the
// wire without translation.
type TCPFlags uint8

const (
	FIN TCPFlags = 1 << iota
	SYN
	RST
	PSH
	ACK
	URG
	ECE
	CWR
)

// flagNames lists the flags in header-bit order; String and the parsers use
// it, so the spelling is defined once.
var flagNames = [...]struct {
	name string
	flag TCPFlags
}{
	{"fin", FIN}, {"syn", SYN}, {"rst", RST}, {"psh", PSH},
	{"ack", ACK}, {"urg", URG}, {"ece", ECE}, {"cwr", CWR},
}

// FlagNames returns the flag names in header-bit order (for help texts and
// shell completion).
func FlagNames() []string {
	names := make([]string, len(flagNames))
	for i, f := range flagNames {
		names[i] = f.name
	}
	return names
}

func lookupFlag(name string) (TCPFlags, bool) {
	name = strings.ToLower(strings.TrimSpace(name))
	for _, f := range flagNames {
		if f.name == name {
			return f.flag, true
		}
	}
	return 0, false
}

// String joins the names of the set flags with "+", e.g. "fin+psh".
func (f TCPFlags) String() string {
	var parts []string
	for _, n := range flagNames {
		if f&n.flag != 0 {
			parts = append(parts, n.name)
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, "+")
}

// ParseTCPFlags parses flag names joined by "+" or ",", in any case, such as
// "syn", "fin+psh" or "FIN,URG". An empty list and unknown names are errors
// that quote the offending text.
func ParseTCPFlags(s string) (TCPFlags, error) {
	if strings.TrimSpace(s) == "" {
		return 0, fmt.Errorf("empty TCP flag list (want names such as syn, fin+psh)")
	}
	var f TCPFlags
	for _, name := range strings.FieldsFunc(s, func(r rune) bool { return r == '+' || r == ',' }) {
		bit, ok := lookupFlag(name)
		if !ok {
			return 0, fmt.Errorf("unknown TCP flag %q (want %s)", name, strings.Join(FlagNames(), ", "))
		}
		f |= bit
	}
	if f == 0 {
		return 0, fmt.Errorf("empty TCP flag list %q", s)
	}
	return f, nil
}

// FlagMatch is knockd's TCPFlags directive: the flags that must be set and
// the flags that must be clear ("syn,!ack"). The zero value matches every
// packet, as a door without TCPFlags does.
type FlagMatch struct {
	Set, Clear TCPFlags
}

// Matches reports whether a packet carrying flags f passes the test.
func (m FlagMatch) Matches(f TCPFlags) bool {
	return f&m.Set == m.Set && f&m.Clear == 0
}

// String gives knockd.conf's spelling, e.g. "syn,urg,!ack".
func (m FlagMatch) String() string {
	var parts []string
	for _, n := range flagNames {
		if m.Set&n.flag != 0 {
			parts = append(parts, n.name)
		}
	}
	for _, n := range flagNames {
		if m.Clear&n.flag != 0 {
			parts = append(parts, "!"+n.name)
		}
	}
	return strings.Join(parts, ",")
}

// knockdFlags are the flags knockd 0.8 accepts in TCPFlags; ece and cwr are
// not among them, and a config that used them would not load in knockd 0.8.
const knockdFlags = FIN | SYN | RST | PSH | ACK | URG

// ParseFlagMatch parses knockd.conf's TCPFlags value: flag names separated
// by commas, each optionally negated with "!". A flag both required and
// forbidden can never match and is refused.
func ParseFlagMatch(s string) (FlagMatch, error) {
	var m FlagMatch
	for _, tok := range strings.Split(s, ",") {
		tok = strings.TrimSpace(tok)
		neg := strings.HasPrefix(tok, "!")
		name := strings.TrimSpace(strings.TrimPrefix(tok, "!"))
		bit, ok := lookupFlag(name)
		if !ok || bit&knockdFlags == 0 {
			return FlagMatch{}, fmt.Errorf("unrecognized flag %q (want fin, syn, rst, psh, ack, urg, each optionally prefixed with !)", tok)
		}
		if neg {
			m.Clear |= bit
		} else {
			m.Set |= bit
		}
	}
	if both := m.Set & m.Clear; both != 0 {
		return FlagMatch{}, fmt.Errorf("flag %s is both required and negated, so no packet can match", both)
	}
	return m, nil
}
