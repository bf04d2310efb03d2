package knock

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base32"
	"encoding/binary"
	"fmt"
	"strings"
	"time"
)

// TimeSequence describes a time-based sequence: a shared secret turns each
// time window into a different knock, as TOTP (RFC 6238) does for
// passwords. README.md ("Time-based sequences") specifies the derivation
// for other implementations; Derive is ours.
type TimeSequence struct {
	Secret  []byte
	Period  time.Duration // window length; default 30s
	Length  int           // knocks; default 4
	PortMin uint16        // default 10000
	PortMax uint16        // default 65000
	// Protocol: "tcp" (default), "udp", or "both" (each knock's protocol
	// derived too).
	Protocol string
}

// Defaults of a time-based sequence.
const (
	DefaultPeriod  = 30 * time.Second
	DefaultLength  = 4
	DefaultPortMin = 10000
	DefaultPortMax = 65000
)

// WithDefaults fills in the unset fields.
func (ts TimeSequence) WithDefaults() TimeSequence {
	if ts.Period == 0 {
		ts.Period = DefaultPeriod
	}
	if ts.Length == 0 {
		ts.Length = DefaultLength
	}
	if ts.PortMin == 0 && ts.PortMax == 0 {
		ts.PortMin, ts.PortMax = DefaultPortMin, DefaultPortMax
	}
	if ts.Protocol == "" {
		ts.Protocol = "tcp"
	}
	return ts
}

// Validate checks the parameters (after WithDefaults).
func (ts TimeSequence) Validate() error {
	switch {
	case len(ts.Secret) < 16:
		return fmt.Errorf("secret of %d bytes is too short (want at least 16, e.g. from knock profile add --totp)", len(ts.Secret))
	case ts.Period < time.Second || ts.Period%time.Second != 0:
		return fmt.Errorf("period %v: want whole seconds, at least 1s", ts.Period)
	case ts.Length < 1 || ts.Length > MaxKnockdSequence:
		return fmt.Errorf("length %d out of range 1-%d", ts.Length, MaxKnockdSequence)
	case ts.PortMin < 1 || ts.PortMin > ts.PortMax:
		return fmt.Errorf("port range %d-%d is empty", ts.PortMin, ts.PortMax)
	case int(ts.PortMax-ts.PortMin)+1 < ts.Length:
		return fmt.Errorf("port range %d-%d has fewer than %d ports", ts.PortMin, ts.PortMax, ts.Length)
	case ts.Protocol != "tcp" && ts.Protocol != "udp" && ts.Protocol != "both":
		return fmt.Errorf("protocol %q: want tcp, udp or both", ts.Protocol)
	}
	return nil
}

// ParsePortRange reads "10000-65000".
func ParsePortRange(s string) (uint16, uint16, error) {
	lo, hi, ok := strings.Cut(strings.TrimSpace(s), "-")
	if !ok {
		return 0, 0, fmt.Errorf("port range %q: want LOW-HIGH, e.g. 10000-65000", s)
	}
	a, err := ParsePort(strings.TrimSpace(lo))
	if err != nil {
		return 0, 0, fmt.Errorf("port range %q: %w", s, err)
	}
	b, err := ParsePort(strings.TrimSpace(hi))
	if err != nil {
		return 0, 0, fmt.Errorf("port range %q: %w", s, err)
	}
	if a > b {
		return 0, 0, fmt.Errorf("port range %q is empty", s)
	}
	return a, b, nil
}

// ParseSecret decodes a base32 secret (RFC 4648 alphabet, any case,
// padding and spaces optional), as authenticator apps write them.
func ParseSecret(s string) ([]byte, error) {
	clean := strings.ToUpper(strings.Join(strings.Fields(s), ""))
	clean = strings.TrimRight(clean, "=")
	b, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(clean)
	if err != nil {
		return nil, fmt.Errorf("secret is not base32: %w", err)
	}
	return b, nil
}

// EncodeSecret writes a secret as unpadded base32.
func EncodeSecret(b []byte) string {
	return base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b)
}

// Window is the time window t falls in: floor(unix seconds / period).
func (ts TimeSequence) Window(t time.Time) uint64 {
	return uint64(t.Unix()) / uint64(ts.Period/time.Second)
}

// byteStream yields the bytes of HMAC-SHA256(secret, T) and, when more are
// needed, of HMAC-SHA256(secret, T || i) for i = 1, 2, ... (T as 8 bytes
// and i as 4 bytes, big-endian).
type byteStream struct {
	secret []byte
	window uint64
	block  uint32
	buf    []byte
}

func (s *byteStream) next() byte {
	if len(s.buf) == 0 {
		msg := binary.BigEndian.AppendUint64(nil, s.window)
		if s.block > 0 {
			msg = binary.BigEndian.AppendUint32(msg, s.block)
		}
		mac := hmac.New(sha256.New, s.secret)
		mac.Write(msg)
		s.buf = mac.Sum(nil)
		s.block++
	}
	b := s.buf[0]
	s.buf = s.buf[1:]
	return b
}

// Derive returns the knock sequence of a window. Each knock takes two
// bytes as a big-endian number v; values at or above the largest multiple
// of the range size are skipped (no modulo bias), as are ports already
// chosen; the port is PortMin + v mod size. With protocol "both", the next
// byte's lowest bit then picks tcp (0) or udp (1).
func (ts TimeSequence) Derive(window uint64) (Sequence, error) {
	if err := ts.Validate(); err != nil {
		return nil, err
	}
	size := uint32(ts.PortMax-ts.PortMin) + 1
	limit := 65536 - 65536%size
	s := &byteStream{secret: ts.Secret, window: window}
	used := map[uint16]bool{}
	seq := make(Sequence, 0, ts.Length)
	for len(seq) < ts.Length {
		v := uint32(s.next())<<8 | uint32(s.next())
		if v >= limit {
			continue
		}
		port := ts.PortMin + uint16(v%size)
		if used[port] {
			continue
		}
		used[port] = true
		k := Knock{Port: port, Proto: TCP}
		switch ts.Protocol {
		case "udp":
			k.Proto = UDP
		case "both":
			if s.next()&1 == 1 {
				k.Proto = UDP
			}
		}
		seq = append(seq, k)
	}
	return seq, nil
}
