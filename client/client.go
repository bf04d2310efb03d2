// Package client sends knock sequences: it resolves the host once, picks the
// address family and the sending method, paces the hits with the delay, and
// reports each one. Packets leave through a Sender; the real one builds raw
// TCP segments with gopacket, falls back to non-blocking connect() calls, and
// sends UDP datagrams, with the OS specifics in build-tagged files.
package client

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"syscall"
	"time"

	"github.com/knocktools/knock"
)

// Method says how TCP knocks leave the machine.
type Method string

const (
	// MethodAuto uses raw sockets when the process may open them, else connect.
	MethodAuto Method = "auto"
	// MethodRaw builds each TCP segment and sends it over a raw socket, so
	// any flag set can be sent. Needs root or CAP_NET_RAW.
	MethodRaw Method = "raw"
	// MethodConnect starts a non-blocking connect() per knock and closes the
	// socket at once, like knock 0.8: a plain SYN, no privileges needed.
	MethodConnect Method = "connect"
	// methodDatagram is how UDP knocks go, whatever the TCP method.
	methodDatagram Method = "datagram"
)

// Methods lists the values --method accepts.
func Methods() []string { return knock.MethodNames() }

// ParseMethod validates a --method value.
func ParseMethod(s string) (Method, error) {
	if err := knock.CheckMethod(s); err != nil {
		return "", err
	}
	return Method(s), nil
}

// Options shape one run of a sequence.
type Options struct {
	Family     int           // 4 or 6 to force a family; 0 takes the resolver's first address
	FamilyFrom string        // what asked for Family, for messages ("KNOCK_FAMILY=6"); "": -4 or -6
	Method     Method        // empty means MethodAuto
	Delay      time.Duration // pause between hits
	SourcePort uint16        // 0: random for raw packets, the kernel's choice otherwise
	TTL        int           // 0: the system default (64 for raw packets)
	DryRun     bool          // resolve and report, send nothing
}

// Hit is one knock as sent (or, in a dry run, as it would be sent).
type Hit struct {
	Index   int // 0-based position in the sequence
	Host    string
	Knock   knock.Knock
	Flags   knock.TCPFlags // what the segment carries; 0 for UDP
	Method  Method
	Src     netip.Addr // zero when the kernel chooses
	SrcPort uint16     // zero when the kernel chooses and did not tell
	Dst     netip.AddrPort
	TTL     int
	Time    time.Time
	DryRun  bool
}

// Sender puts hits on the wire. Send fills in what it learnt (the source
// port the kernel picked, say) and returns once the packet is handed to the
// kernel; it never waits for an answer.
type Sender interface {
	Send(h *Hit) error
	Close() error
}

// Knocker runs sequences. The zero value works; tests replace its parts.
type Knocker struct {
	// Resolver looks names up; nil means net.DefaultResolver.
	Resolver Resolver
	// OpenSender returns the sender for a destination; nil means the
	// system's sockets (see OpenSystemSender).
	OpenSender func(dst netip.Addr, m Method, seq knock.Sequence, o Options) (Sender, Method, error)
	// Sleep waits between hits; nil means a timer that honours ctx.
	Sleep func(ctx context.Context, d time.Duration) error
	// Now stamps hits; nil means time.Now.
	Now func() time.Time
	// Report is called after each hit is handed to the kernel.
	Report func(Hit)
}

// ErrNeedRaw says a knock needs raw sockets that are not available.
var ErrNeedRaw = errors.New("custom TCP flags need raw sockets")

// Knock resolves host once and sends the sequence to it. It stops at the
// first hit the kernel refuses and returns an error that names that knock.
func (k *Knocker) Knock(ctx context.Context, host string, seq knock.Sequence, o Options) error {
	_, err := k.KnockHost(ctx, host, seq, o)
	return err
}

// KnockHost is Knock for a caller that connects next: it returns the
// address it knocked, so that the connection goes to that very address
// (the door opened for it, and for its family) instead of resolving the
// name again. When the kernel refuses the very first hit to an address
// because it cannot reach it (no route to that family, say), the next
// address of host is knocked instead, from the start of the sequence.
func (k *Knocker) KnockHost(ctx context.Context, host string, seq knock.Sequence, o Options) (netip.Addr, error) {
	if len(seq) == 0 {
		return netip.Addr{}, errors.New("empty knock sequence")
	}
	if o.Method == "" {
		o.Method = MethodAuto
	}
	if _, err := ParseMethod(string(o.Method)); err != nil {
		return netip.Addr{}, err
	}
	if o.TTL < 0 || o.TTL > 255 {
		return netip.Addr{}, fmt.Errorf("TTL %d out of range 1-255", o.TTL)
	}
	return k.firstReachable(ctx, host, o, func(dst netip.Addr) (int, error) {
		return k.knockAddr(ctx, host, dst, seq, o)
	})
}

// firstReachable resolves host once and tries its addresses in order
// with try, which says how many packets the kernel took. It moves to the
// next address only when not one could be sent because this host cannot
// reach that address at all, and returns the address it stopped at.
func (k *Knocker) firstReachable(ctx context.Context, host string, o Options, try func(netip.Addr) (int, error)) (netip.Addr, error) {
	addrs, err := ResolveAll(ctx, k.resolver(), host, o.Family)
	if fe := (*FamilyError)(nil); errors.As(err, &fe) {
		fe.From = o.FamilyFrom
	}
	if err != nil {
		return netip.Addr{}, err
	}
	if o.DryRun {
		addrs = addrs[:1]
	}
	var errs []error
	for _, dst := range addrs {
		sent, err := try(dst)
		if err == nil || sent > 0 || !unreachable(err) {
			return dst, err
		}
		errs = append(errs, err)
	}
	return netip.Addr{}, errors.Join(errs...)
}

// unreachable reports whether a send failed because this host cannot
// reach the address at all, where another address of the name may do.
func unreachable(err error) bool {
	return errors.Is(err, syscall.ENETUNREACH) || errors.Is(err, syscall.EHOSTUNREACH) ||
		errors.Is(err, syscall.EADDRNOTAVAIL) || errors.Is(err, syscall.EAFNOSUPPORT)
}

// knockAddr sends the sequence to dst and returns how many hits the
// kernel took.
func (k *Knocker) knockAddr(ctx context.Context, host string, dst netip.Addr, seq knock.Sequence, o Options) (int, error) {
	open := k.OpenSender
	if open == nil {
		open = OpenSystemSender
	}
	s, method, err := open(dst, o.Method, seq, o)
	if err != nil {
		return 0, err
	}
	defer s.Close()

	rng := rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
	for i, kn := range seq {
		if i > 0 && o.Delay > 0 && !o.DryRun {
			if err := k.sleep(ctx, o.Delay); err != nil {
				return i, err
			}
		}
		if err := ctx.Err(); err != nil {
			return i, err
		}
		h := Hit{
			Index:   i,
			Host:    host,
			Knock:   kn,
			Flags:   kn.EffectiveFlags(),
			Method:  method,
			SrcPort: o.SourcePort,
			Dst:     netip.AddrPortFrom(dst, kn.Port),
			TTL:     o.TTL,
			DryRun:  o.DryRun,
		}
		if kn.Proto == knock.UDP {
			h.Method = methodDatagram
		} else if method == MethodRaw && h.SrcPort == 0 {
			// 32768-60999 is Linux's ephemeral range: a knock looks like
			// the start of an ordinary connection.
			h.SrcPort = uint16(32768 + rng.IntN(60999-32768+1))
		}
		if err := s.Send(&h); err != nil {
			return i, fmt.Errorf("hit %d (%s %s): %w", i+1, kn.Proto, h.Dst, err)
		}
		h.Time = k.now()
		if k.Report != nil {
			k.Report(h)
		}
	}
	return len(seq), nil
}

func (k *Knocker) resolver() Resolver {
	if k.Resolver != nil {
		return k.Resolver
	}
	return defaultResolver
}

func (k *Knocker) sleep(ctx context.Context, d time.Duration) error {
	if k.Sleep != nil {
		return k.Sleep(ctx, d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (k *Knocker) now() time.Time {
	if k.Now != nil {
		return k.Now()
	}
	return time.Now()
}
