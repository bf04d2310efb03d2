package client

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/knocktools/knock"
)

type fakeResolver map[string][]netip.Addr

func (r fakeResolver) LookupNetIP(_ context.Context, network, host string) ([]netip.Addr, error) {
	var out []netip.Addr
	for _, a := range r[host] {
		if network == "ip" || (network == "ip4") == a.Is4() {
			out = append(out, a)
		}
	}
	if len(out) == 0 {
		return nil, errors.New("no such host")
	}
	return out, nil
}

// fakeSender records what would have gone out and fails on request.
type fakeSender struct {
	log    *[]string
	failAt int // 1-based hit that fails; 0 never
	sent   int
	closed bool
}

func (f *fakeSender) Send(h *Hit) error {
	f.sent++
	if f.sent == f.failAt {
		return errors.New("network is unreachable")
	}
	*f.log = append(*f.log, "send "+string(h.Method)+" "+h.Knock.Proto.String()+" "+h.Dst.String()+" "+h.Flags.String())
	return nil
}

func (f *fakeSender) Close() error { f.closed = true; return nil }

func seqOf(t *testing.T, args ...string) knock.Sequence {
	t.Helper()
	s, err := knock.ParseSequence(args, knock.Defaults{})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestKnockerPacesAndReports(t *testing.T) {
	var log []string
	fs := &fakeSender{log: &log}
	k := &Knocker{
		Resolver: fakeResolver{"door.lab": {netip.MustParseAddr("fd77::2"), netip.MustParseAddr("10.77.0.2")}},
		OpenSender: func(dst netip.Addr, m Method, seq knock.Sequence, o Options) (Sender, Method, error) {
			log = append(log, "open "+dst.String()+" "+string(m))
			return fs, MethodRaw, nil
		},
		Sleep: func(_ context.Context, d time.Duration) error {
			log = append(log, "sleep "+d.String())
			return nil
		},
		Report: func(h Hit) { log = append(log, "report "+h.Dst.String()) },
	}
	seq := seqOf(t, "7000", "8000:udp", "9000:tcp:fin+psh")
	if err := k.Knock(context.Background(), "door.lab", seq, Options{Family: 4, Delay: 250 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"open 10.77.0.2 auto",
		"send raw tcp 10.77.0.2:7000 syn", "report 10.77.0.2:7000",
		"sleep 250ms",
		"send datagram udp 10.77.0.2:8000 none", "report 10.77.0.2:8000",
		"sleep 250ms",
		"send raw tcp 10.77.0.2:9000 fin+psh", "report 10.77.0.2:9000",
	}
	if strings.Join(log, "\n") != strings.Join(want, "\n") {
		t.Fatalf("got\n%s\nwant\n%s", strings.Join(log, "\n"), strings.Join(want, "\n"))
	}
	if !fs.closed {
		t.Error("sender not closed")
	}
}

func TestKnockerStopsAtFirstFailure(t *testing.T) {
	var log []string
	fs := &fakeSender{log: &log, failAt: 2}
	k := &Knocker{
		OpenSender: func(netip.Addr, Method, knock.Sequence, Options) (Sender, Method, error) {
			return fs, MethodConnect, nil
		},
		Sleep: func(context.Context, time.Duration) error { return nil },
	}
	err := k.Knock(context.Background(), "10.77.0.2", seqOf(t, "1", "2", "3"), Options{})
	if err == nil || !strings.Contains(err.Error(), "hit 2 (tcp 10.77.0.2:2): network is unreachable") {
		t.Fatalf("err = %v", err)
	}
	if fs.sent != 2 {
		t.Fatalf("sent %d hits after a failure, want 2", fs.sent)
	}
}

func TestKnockerRandomSourcePortForRaw(t *testing.T) {
	var ports []uint16
	k := &Knocker{
		OpenSender: func(netip.Addr, Method, knock.Sequence, Options) (Sender, Method, error) {
			return &fakeSender{log: new([]string)}, MethodRaw, nil
		},
		Report: func(h Hit) { ports = append(ports, h.SrcPort) },
	}
	if err := k.Knock(context.Background(), "10.77.0.2", seqOf(t, "1", "2", "3:udp"), Options{}); err != nil {
		t.Fatal(err)
	}
	for _, p := range ports[:2] {
		if p < 32768 || p > 60999 {
			t.Errorf("raw source port %d outside the ephemeral range", p)
		}
	}
	if ports[2] != 0 {
		t.Errorf("UDP source port %d chosen by us, want the kernel's", ports[2])
	}
	ports = nil
	if err := k.Knock(context.Background(), "10.77.0.2", seqOf(t, "1"), Options{SourcePort: 4444}); err != nil {
		t.Fatal(err)
	}
	if ports[0] != 4444 {
		t.Errorf("source port %d, want 4444", ports[0])
	}
}

func TestKnockerRejectsBadOptions(t *testing.T) {
	k := &Knocker{}
	for _, o := range []Options{{Method: "carrier-pigeon"}, {TTL: 256}, {TTL: -1}} {
		if err := k.Knock(context.Background(), "10.77.0.2", seqOf(t, "1"), o); err == nil {
			t.Errorf("options %+v accepted", o)
		}
	}
}

func TestKnockerHonoursCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	k := &Knocker{
		OpenSender: func(netip.Addr, Method, knock.Sequence, Options) (Sender, Method, error) {
			return &fakeSender{log: new([]string)}, MethodRaw, nil
		},
		Report: func(Hit) { cancel() },
	}
	err := k.Knock(ctx, "10.77.0.2", seqOf(t, "1", "2"), Options{Delay: time.Hour})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

func TestResolve(t *testing.T) {
	r := fakeResolver{
		"both": {netip.MustParseAddr("fd77::2"), netip.MustParseAddr("10.77.0.2")},
		"v4":   {netip.MustParseAddr("10.77.0.3")},
	}
	tests := []struct {
		host    string
		family  int
		want    string
		wantErr string
	}{
		{"both", 0, "fd77::2", ""},
		{"both", 4, "10.77.0.2", ""},
		{"both", 6, "fd77::2", ""},
		{"v4", 6, "", "resolve \"v4\""},
		{"10.77.0.9", 0, "10.77.0.9", ""},
		{"[fd77::9]", 0, "fd77::9", ""},
		{"::ffff:10.77.0.9", 4, "10.77.0.9", ""},
		{"fd77::9", 4, "", "is an IPv6 address, but -4"},
		{"10.77.0.9", 6, "", "is an IPv4 address, but -6"},
		{"nowhere", 0, "", "resolve \"nowhere\""},
		{"", 0, "", "empty host"},
	}
	for _, tt := range tests {
		got, err := Resolve(context.Background(), r, tt.host, tt.family)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Resolve(%q, %d) err = %v, want %q", tt.host, tt.family, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got.String() != tt.want {
			t.Errorf("Resolve(%q, %d) = %v, %v; want %s", tt.host, tt.family, got, err, tt.want)
		}
	}
}

func TestOpenSystemSenderMethodChoice(t *testing.T) {
	dst := netip.MustParseAddr("127.0.0.1")
	plain := seqOf(t, "7000", "8000:udp")
	custom := seqOf(t, "7000", "8000:tcp:fin")
	if _, _, err := OpenSystemSender(dst, MethodConnect, custom, Options{}); !errors.Is(err, ErrNeedRaw) ||
		!strings.Contains(err.Error(), `sequence item 2 "8000:tcp:fin"`) {
		t.Errorf("connect with custom flags: err = %v", err)
	}
	s, m, err := OpenSystemSender(dst, MethodConnect, plain, Options{})
	if err != nil || m != MethodConnect {
		t.Fatalf("connect: %v %v", m, err)
	}
	s.Close()
	// auto never fails for plain SYNs: raw when allowed, else connect.
	s, m, err = OpenSystemSender(dst, MethodAuto, plain, Options{DryRun: true})
	if err != nil || (m != MethodRaw && m != MethodConnect) {
		t.Fatalf("auto: %v %v", m, err)
	}
	s.Close()
}

// KnockHost returns the address it knocked, for the connection to go to;
// an address the kernel cannot reach at all gives way to the next one,
// knocked from the start, while a failure later in a sequence does not.
func TestKnockHostReturnsTheKnockedAddress(t *testing.T) {
	v6, v4 := netip.MustParseAddr("fd77::2"), netip.MustParseAddr("10.77.0.2")
	tests := []struct {
		name     string
		family   int
		failV6   int   // 1-based hit to fd77::2 that fails; 0 none
		failWith error // what it fails with
		want     netip.Addr
		wantErr  string
		wantLog  string
	}{
		{"first address", 0, 0, nil, v6, "", "fd77::2 fd77::2"},
		{"family 4", 4, 0, nil, v4, "", "10.77.0.2 10.77.0.2"},
		{"unreachable: next address", 0, 1, syscall.ENETUNREACH, v4, "", "10.77.0.2 10.77.0.2"},
		{"no route to host: next address", 0, 1, syscall.EHOSTUNREACH, v4, "", "10.77.0.2 10.77.0.2"},
		{"unreachable midway: no fallback", 0, 2, syscall.ENETUNREACH, v6, "hit 2", "fd77::2"},
		{"other error: no fallback", 0, 1, syscall.EPERM, v6, "hit 1", ""},
		{"unreachable, family 6: nothing else", 6, 1, syscall.ENETUNREACH, netip.Addr{}, "network is unreachable", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var sent []string
			k := &Knocker{
				Resolver: fakeResolver{"door.lab": {v6, v4}},
				OpenSender: func(dst netip.Addr, m Method, seq knock.Sequence, o Options) (Sender, Method, error) {
					return &addrSender{dst: dst, failAt: map[bool]int{true: tt.failV6}[dst == v6], err: tt.failWith, sent: &sent}, MethodConnect, nil
				},
			}
			got, err := k.KnockHost(context.Background(), "door.lab", seqOf(t, "7000", "8000"), Options{Family: tt.family})
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
			if got != tt.want {
				t.Fatalf("knocked %v, want %v", got, tt.want)
			}
			if log := strings.Join(sent, " "); log != tt.wantLog {
				t.Fatalf("sent to %q, want %q", log, tt.wantLog)
			}
		})
	}
}

// addrSender records the address of each hit it takes and fails the
// failAt-th with err.
type addrSender struct {
	dst    netip.Addr
	failAt int
	err    error
	n      int
	sent   *[]string
}

func (s *addrSender) Send(h *Hit) error {
	s.n++
	if s.n == s.failAt {
		return s.err
	}
	*s.sent = append(*s.sent, h.Dst.Addr().String())
	return nil
}
func (s *addrSender) Close() error { return nil }
