package knock

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// MaxKnockdSequence is the longest sequence knockd 0.8 accepts in a door.
const MaxKnockdSequence = 32

// Defaults fill in what a knock leaves out: the protocol (tcp, or udp with
// knock's -u) and the TCP flags (zero means a plain SYN).
type Defaults struct {
	Proto Proto
	Flags TCPFlags
}

// EffectiveFlags is what a TCP knock sends: its flags, or a SYN when none
// were given. UDP knocks have none.
func (k Knock) EffectiveFlags() TCPFlags {
	if k.Proto == UDP {
		return 0
	}
	if k.Flags == 0 {
		return SYN
	}
	return k.Flags
}

// ParsePort parses a decimal port number in 1-65535. Unlike atoi it refuses
// signs, spaces and trailing junk, which knockd 0.8 silently turns into 0.
func ParsePort(s string) (uint16, error) {
	if s == "" {
		return 0, fmt.Errorf("missing port number")
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return 0, fmt.Errorf("port %q is not a number", s)
		}
	}
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil || n < 1 || n > 65535 {
		return 0, fmt.Errorf("port %s out of range 1-65535", s)
	}
	return uint16(n), nil
}

// ParseKnock parses the client syntax PORT[:PROTO[:FLAGS|PAYLOAD]], e.g.
// "7000", "8000:udp", "9000:tcp:fin+psh", "8000:udp:hex=dead01" (see
// ParsePayload). Errors quote the bad part.
func ParseKnock(s string, d Defaults) (Knock, error) {
	parts := strings.SplitN(s, ":", 3)
	port, err := ParsePort(parts[0])
	if err != nil {
		return Knock{}, err
	}
	k := Knock{Port: port, Proto: d.Proto}
	if len(parts) > 1 {
		if k.Proto, err = ParseProto(parts[1]); err != nil {
			return Knock{}, err
		}
	}
	switch {
	case len(parts) > 2 && k.Proto == UDP:
		if _, ferr := ParseTCPFlags(parts[2]); ferr == nil {
			return Knock{}, errors.New("TCP flags on a UDP knock (a UDP knock may carry a payload: hex=..., b64=... or text=...)")
		}
		if k.Payload, err = ParsePayload(parts[2]); err != nil {
			return Knock{}, err
		}
		k.HasPayload = true
	case len(parts) > 2 && strings.Contains(parts[2], ":"):
		return Knock{}, errors.New("too many fields (want PORT[:PROTO[:FLAGS]])")
	case len(parts) > 2:
		if k.Flags, err = ParseTCPFlags(parts[2]); err != nil {
			return Knock{}, err
		}
	case k.Proto == TCP:
		k.Flags = d.Flags
	}
	return k, nil
}

// MaxPayload is the largest UDP knock payload: what fits a datagram over
// IPv4 with the largest header, as the Knock on Ports app caps it.
const MaxPayload = 65535 - 8 - 60

// ParsePayload reads a UDP knock's payload: "hex=DEAD01" (pairs of hex
// digits), "b64=3q0B" (standard base64, padding optional) or
// "text=hello" (the bytes as written, colons included: it is the last
// field). "hex=" is a zero-length datagram.
func ParsePayload(s string) (string, error) {
	enc, data, ok := strings.Cut(s, "=")
	if !ok {
		return "", fmt.Errorf("payload %q: want hex=..., b64=... or text=...", s)
	}
	var out []byte
	var err error
	switch strings.ToLower(enc) {
	case "hex":
		out, err = hex.DecodeString(data)
	case "b64", "base64":
		out, err = base64.RawStdEncoding.DecodeString(strings.TrimRight(data, "="))
	case "text":
		out = []byte(data)
	default:
		return "", fmt.Errorf("payload encoding %q: want hex, b64 or text", enc)
	}
	if err != nil {
		return "", fmt.Errorf("payload %q: not valid %s", s, enc)
	}
	if len(out) > MaxPayload {
		return "", fmt.Errorf("payload of %d bytes: at most %d fit a datagram", len(out), MaxPayload)
	}
	return string(out), nil
}

// FormatPayload spells a payload for ParsePayload: text= when it is
// printable ASCII without spaces or commas (which separate knocks in a
// --sequence list), else hex=.
func FormatPayload(p string) string {
	plain := p != ""
	for i := 0; i < len(p); i++ {
		if c := p[i]; c <= ' ' || c > '~' || c == ',' {
			plain = false
			break
		}
	}
	if plain {
		return "text=" + p
	}
	return "hex=" + hex.EncodeToString([]byte(p))
}

// ParseSequence parses one knock per argument; an error names the position
// and the argument.
func ParseSequence(args []string, d Defaults) (Sequence, error) {
	if len(args) == 0 {
		return nil, fmt.Errorf("no knocks given (want at least one PORT[:PROTO[:FLAGS]])")
	}
	seq := make(Sequence, 0, len(args))
	for i, a := range args {
		k, err := ParseKnock(a, d)
		if err != nil {
			return nil, fmt.Errorf("sequence item %d %q: %w", i+1, a, err)
		}
		seq = append(seq, k)
	}
	return seq, nil
}

// ParseKnockdSequence parses knockd.conf's Sequence value: ports with an
// optional ":tcp" or ":udp", separated by commas ("7000,8000:udp,9000").
// Flags are not part of this syntax (knockd sets them per door).
func ParseKnockdSequence(s string) (Sequence, error) {
	var seq Sequence
	for i, tok := range strings.Split(s, ",") {
		tok = strings.TrimSpace(tok)
		port, proto, hasProto := strings.Cut(tok, ":")
		p, err := ParsePort(strings.TrimSpace(port))
		if err != nil {
			return nil, fmt.Errorf("sequence item %d %q: %w", i+1, tok, err)
		}
		k := Knock{Port: p, Proto: TCP}
		if hasProto {
			if k.Proto, err = ParseProto(strings.TrimSpace(proto)); err != nil {
				return nil, fmt.Errorf("sequence item %d %q: %w", i+1, tok, err)
			}
		}
		seq = append(seq, k)
	}
	if len(seq) > MaxKnockdSequence {
		return nil, fmt.Errorf("sequence has %d knocks; knockd allows at most %d", len(seq), MaxKnockdSequence)
	}
	return seq, nil
}

// KnockdString gives knockd.conf's spelling of the sequence: "7000:tcp,8000:udp".
func (s Sequence) KnockdString() string {
	parts := make([]string, len(s))
	for i, k := range s {
		parts[i] = strconv.Itoa(int(k.Port)) + ":" + k.Proto.String()
	}
	return strings.Join(parts, ",")
}

// MethodNames are the ways a TCP knock can be sent, as --method and a
// profile's method name them; the client package sends them.
func MethodNames() []string { return []string{"auto", "raw", "connect"} }

// CheckMethod validates a method name.
func CheckMethod(s string) error {
	if slices.Contains(MethodNames(), s) {
		return nil
	}
	return fmt.Errorf("unknown method %q (want auto, raw or connect)", s)
}
