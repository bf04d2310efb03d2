package client

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"

	"github.com/knocktools/knock"
)

// errNoRawTCP explains why custom flags cannot be sent from some OSes:
// Windows refuses TCP over raw sockets since XP SP2.
var errNoRawTCP = errors.New("this operating system does not allow sending TCP over raw sockets; plain SYN knocks work with --method connect, other flags cannot be sent from here")

// rawSocket sends built TCP segments; raw_*.go implement it per OS, with
//
//	openRaw(dst netip.Addr) (rawSocket, netip.Addr, error)
//
// which opens one towards dst and returns the source address the kernel
// routes from (the checksums cover it). A *noRouteError means dst cannot
// be reached at all; any other error, that no raw socket could be had.
type rawSocket interface {
	send(seg *segment) error
	Close() error
}

// noRouteError is openRaw's error for a destination this host has no
// route to.
type noRouteError struct {
	dst netip.Addr
	err error
}

func (e *noRouteError) Error() string { return fmt.Sprintf("no route to %s: %v", e.dst, e.err) }
func (e *noRouteError) Unwrap() error { return e.err }

// systemSender is the real Sender: raw TCP segments or connect() calls for
// TCP knocks, datagrams for UDP knocks.
type systemSender struct {
	raw rawSocket  // nil unless the method is raw
	src netip.Addr // source address of raw segments
	dry bool
	rng *rand.Rand
	seg segmentBuilder // raw segments, one at a time
}

// OpenSystemSender prepares the system's sockets for a sequence to dst and
// settles the method: auto becomes raw when raw sockets can be opened, else
// connect. A sequence with flags other than a plain SYN needs raw sockets;
// when they cannot be had, the error says how to get them.
func OpenSystemSender(dst netip.Addr, m Method, seq knock.Sequence, o Options) (Sender, Method, error) {
	s := &systemSender{dry: o.DryRun, rng: rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))}
	custom := firstCustomFlags(seq)
	if !hasTCP(seq) {
		return s, m, nil
	}
	if !rawTCP && m == MethodAuto && custom < 0 {
		m = MethodConnect
	}
	if !rawTCP && m != MethodConnect {
		if custom >= 0 {
			return nil, "", fmt.Errorf("sequence item %d %q: %w: %v", custom+1, seq[custom], ErrNeedRaw, errNoRawTCP)
		}
		return nil, "", fmt.Errorf("--method raw: %v", errNoRawTCP)
	}
	if m == MethodConnect {
		if custom >= 0 {
			return nil, "", &ConflictError{fmt.Errorf("sequence item %d %q: %w; --method connect can only send a plain SYN (use --method raw)", custom+1, seq[custom], ErrNeedRaw)}
		}
		return s, MethodConnect, nil
	}
	raw, src, err := openRaw(dst)
	if nr := (*noRouteError)(nil); errors.As(err, &nr) {
		return nil, "", err
	}
	if err != nil {
		if custom >= 0 {
			return nil, "", fmt.Errorf("sequence item %d %q: %w, and a raw socket cannot be opened: %v%s", custom+1, seq[custom], ErrNeedRaw, err, rawHint(err))
		}
		if m == MethodAuto {
			return s, MethodConnect, nil
		}
		return nil, "", fmt.Errorf("--method raw: cannot open a raw socket: %v%s", err, rawHint(err))
	}
	if o.DryRun {
		raw.Close()
		raw = nil
	}
	s.raw, s.src = raw, src
	return s, MethodRaw, nil
}

// rawHint tells a user without privileges how to get them.
func rawHint(err error) string {
	if !errors.Is(err, os.ErrPermission) {
		return ""
	}
	exe, e := os.Executable()
	if e != nil {
		exe = "knock"
	}
	return fmt.Sprintf("; run as root, or allow raw sockets once with: sudo setcap cap_net_raw+ep %s", exe)
}

func hasTCP(seq knock.Sequence) bool {
	for _, k := range seq {
		if k.Proto == knock.TCP {
			return true
		}
	}
	return false
}

// firstCustomFlags returns the index of the first TCP knock that is not a
// plain SYN, or -1.
func firstCustomFlags(seq knock.Sequence) int {
	for i, k := range seq {
		if k.Proto == knock.TCP && k.EffectiveFlags() != knock.SYN {
			return i
		}
	}
	return -1
}

// datagram is what a UDP knock carries: its payload, or the single zero
// byte knock 0.8 sends.
func datagram(k knock.Knock) []byte {
	if k.HasPayload {
		return []byte(k.Payload)
	}
	return []byte{0}
}

func (s *systemSender) Send(h *Hit) error {
	if h.Knock.Proto == knock.UDP {
		if s.dry {
			return nil
		}
		return sendDatagram(h)
	}
	if h.Method == MethodConnect {
		if s.dry {
			return nil
		}
		return connectTCP(h)
	}
	h.Src = s.src
	seg, err := s.seg.build(segmentSpec{
		Src: s.src, Dst: h.Dst.Addr(),
		SrcPort: h.SrcPort, DstPort: h.Dst.Port(),
		Flags: h.Flags, TTL: uint8(h.TTL),
		Seq: s.rng.Uint32(), Ack: s.rng.Uint32(), ID: uint16(s.rng.Uint32()),
	})
	if err != nil || s.dry {
		return err
	}
	return s.raw.send(seg)
}

func (s *systemSender) Close() error {
	if s.raw != nil {
		return s.raw.Close()
	}
	return nil
}
