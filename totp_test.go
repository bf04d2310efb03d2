package knock

import (
	"bytes"
	"fmt"
	"testing"
	"time"
)

// The derivation vectors, shared by the client's and the server's tests
// (and by any other implementation): secret, time, parameters, sequence.
// They were checked against an independent implementation of README's
// specification (Python's hmac module).
var timeVectors = []struct {
	secret string
	at     int64
	ts     TimeSequence
	want   string
}{
	{"JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", 1_795_500_000, TimeSequence{}, "64963 36867 47798 64550"},
	{"JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", 1_795_500_029, TimeSequence{}, "64963 36867 47798 64550"}, // same window
	{"JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", 1_795_500_030, TimeSequence{}, "19352 17738 51814 38520"},
	{"GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", 1_795_500_000, TimeSequence{Length: 8, PortMin: 20000, PortMax: 20009, Protocol: "both"}, "20004:udp 20005:udp 20009:udp 20008 20006:udp 20007 20003:udp 20000"},
	{"GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", 1_795_500_000, TimeSequence{Period: 60 * time.Second, Length: 32, Protocol: "udp"}, "64325:udp 47038:udp 40499:udp 46559:udp 24917:udp 22121:udp 39862:udp 54098:udp 12108:udp 40338:udp 62198:udp 28626:udp 56198:udp 32695:udp 42085:udp 16371:udp 30157:udp 49464:udp 27589:udp 32478:udp 49745:udp 47207:udp 21169:udp 48039:udp 10287:udp 17967:udp 46231:udp 29655:udp 14993:udp 45958:udp 34032:udp 56265:udp"},
}

func TestDeriveVectors(t *testing.T) {
	for i, v := range timeVectors {
		secret, err := ParseSecret(v.secret)
		if err != nil {
			t.Fatal(err)
		}
		ts := v.ts
		ts.Secret = secret
		ts = ts.WithDefaults()
		seq, err := ts.Derive(ts.Window(time.Unix(v.at, 0)))
		if err != nil {
			t.Fatal(err)
		}
		if got := seq.String(); got != v.want {
			t.Errorf("vector %d: %s, want %s", i, got, v.want)
		}
	}
}

func TestTimeSequenceValidation(t *testing.T) {
	secret, _ := ParseSecret("jbsw y3dp ehpk 3pxp jbsw y3dp ehpk 3pxp") // any case, spaces
	ok := TimeSequence{Secret: secret}.WithDefaults()
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
	if EncodeSecret(secret) != "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP" {
		t.Fatalf("round trip: %s", EncodeSecret(secret))
	}
	bad := []TimeSequence{
		{Secret: secret[:8]},
		{Secret: secret, Period: 1500 * time.Millisecond},
		{Secret: secret, Length: 33},
		{Secret: secret, PortMin: 100, PortMax: 102, Length: 4},
		{Secret: secret, Protocol: "icmp"},
	}
	for i, ts := range bad {
		if err := ts.WithDefaults().Validate(); err == nil {
			t.Errorf("case %d accepted: %+v", i, ts)
		}
	}
	if _, err := ParseSecret("not base32!"); err == nil {
		t.Error("bad secret accepted")
	}
	for _, tt := range []struct {
		in     string
		lo, hi uint16
		ok     bool
	}{{"10000-65000", 10000, 65000, true}, {" 1 - 2 ", 1, 2, true}, {"5-4", 0, 0, false}, {"70000-1", 0, 0, false}, {"100", 0, 0, false}} {
		lo, hi, err := ParsePortRange(tt.in)
		if (err == nil) != tt.ok || lo != tt.lo || hi != tt.hi {
			t.Errorf("ParsePortRange(%q) = %d, %d, %v", tt.in, lo, hi, err)
		}
	}
}

func FuzzDerive(f *testing.F) {
	f.Add([]byte("0123456789abcdef"), uint64(59850000), uint16(10000), uint16(10009), 8, true)
	f.Fuzz(func(t *testing.T, secret []byte, window uint64, lo, hi uint16, length int, both bool) {
		ts := TimeSequence{Secret: secret, Period: 30 * time.Second, Length: length, PortMin: lo, PortMax: hi, Protocol: "tcp"}
		if both {
			ts.Protocol = "both"
		}
		seq, err := ts.Derive(window)
		if err != nil {
			return
		}
		seen := map[uint16]bool{}
		for _, k := range seq {
			if k.Port < lo || k.Port > hi || seen[k.Port] {
				t.Fatalf("bad knock %v in %v (range %d-%d)", k, seq, lo, hi)
			}
			seen[k.Port] = true
		}
		if len(seq) != length {
			t.Fatalf("%d knocks, want %d", len(seq), length)
		}
	})
}

// FuzzParseTimeDoor covers the two values of a time-based door that are
// parsed from text: the port range and the base32 secret. What parses
// is well formed and reads back the same from its canonical form.
func FuzzParseTimeDoor(f *testing.F) {
	f.Add("10000-65000", "JBSWY3DPEHPK3PXP")
	f.Add(" 1 - 1 ", "jbsw y3dp ehpk 3pxp====")
	f.Add("65535-1", "not base32!")
	f.Fuzz(func(t *testing.T, ports, secret string) {
		if lo, hi, err := ParsePortRange(ports); err == nil {
			if lo == 0 || lo > hi {
				t.Fatalf("ParsePortRange(%q) = %d, %d", ports, lo, hi)
			}
			if lo2, hi2, err := ParsePortRange(fmt.Sprintf("%d-%d", lo, hi)); err != nil || lo2 != lo || hi2 != hi {
				t.Fatalf("%d-%d read back as %d, %d, %v", lo, hi, lo2, hi2, err)
			}
		}
		if b, err := ParseSecret(secret); err == nil {
			if back, err := ParseSecret(EncodeSecret(b)); err != nil || !bytes.Equal(back, b) {
				t.Fatalf("secret %q: %x encoded as %q read back as %x, %v", secret, b, EncodeSecret(b), back, err)
			}
		}
	})
}
