package knock

import (
	"math/rand/v2"
	"strings"
	"testing"
)

func TestParseKnock(t *testing.T) {
	tests := []struct {
		in      string
		d       Defaults
		want    Knock
		wantErr string
	}{
		{in: "7000", want: Knock{Port: 7000, Proto: TCP}},
		{in: "1", want: Knock{Port: 1}},
		{in: "65535", want: Knock{Port: 65535}},
		{in: "8000:udp", want: Knock{Port: 8000, Proto: UDP}},
		{in: "8000:UDP", want: Knock{Port: 8000, Proto: UDP}},
		{in: "8000", d: Defaults{Proto: UDP}, want: Knock{Port: 8000, Proto: UDP}},
		{in: "8000:tcp", d: Defaults{Proto: UDP}, want: Knock{Port: 8000, Proto: TCP}},
		{in: "9000:tcp:fin+psh", want: Knock{Port: 9000, Proto: TCP, Flags: FIN | PSH}},
		{in: "9000:tcp:SYN+urg", want: Knock{Port: 9000, Flags: SYN | URG}},
		{in: "9000", d: Defaults{Flags: FIN}, want: Knock{Port: 9000, Flags: FIN}},
		{in: "9000:tcp:ack", d: Defaults{Flags: FIN}, want: Knock{Port: 9000, Flags: ACK}},
		{in: "9000:udp", d: Defaults{Flags: FIN}, want: Knock{Port: 9000, Proto: UDP}},
		{in: "70000", wantErr: "port 70000 out of range 1-65535"},
		{in: "0", wantErr: "port 0 out of range"},
		{in: "abc", wantErr: `port "abc" is not a number`},
		{in: "-1", wantErr: `port "-1" is not a number`},
		{in: "+80", wantErr: `not a number`},
		{in: "", wantErr: "missing port"},
		{in: "99999999999999999999", wantErr: "out of range"},
		{in: "7000:icmpx", wantErr: `unknown protocol "icmpx"`},
		{in: "7000:udp:syn", wantErr: "TCP flags on a UDP knock"},
		{in: "7000:udp:zzz", wantErr: `payload "zzz": want hex=`},
		{in: "7000:udp:hex=dead01", want: Knock{Port: 7000, Proto: UDP, Payload: "\xde\xad\x01", HasPayload: true}},
		{in: "7000:udp:HEX=DEAD", want: Knock{Port: 7000, Proto: UDP, Payload: "\xde\xad", HasPayload: true}},
		{in: "7000:udp:hex=", want: Knock{Port: 7000, Proto: UDP, Payload: "", HasPayload: true}},
		{in: "7000:udp:b64=aGVsbG8", want: Knock{Port: 7000, Proto: UDP, Payload: "hello", HasPayload: true}},
		{in: "7000:udp:b64=aGVsbG8=", want: Knock{Port: 7000, Proto: UDP, Payload: "hello", HasPayload: true}},
		{in: "7000:udp:text=a:b c", want: Knock{Port: 7000, Proto: UDP, Payload: "a:b c", HasPayload: true}},
		{in: "7000:text=x", d: Defaults{Proto: UDP}, wantErr: `unknown protocol "text=x"`},
		{in: "7000:udp:hex=abc", wantErr: "not valid hex"},
		{in: "7000:udp:b64=!!", wantErr: "not valid b64"},
		{in: "7000:udp:rot13=x", wantErr: `payload encoding "rot13"`},
		{in: "7000:tcp:text=x", wantErr: `unknown TCP flag`},
		{in: "7000:tcp:bogus", wantErr: `unknown TCP flag "bogus"`},
		{in: "7000:tcp:", wantErr: "empty TCP flag list"},
		{in: "7000:tcp:syn:x", wantErr: "too many fields"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseKnock(tt.in, tt.d)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseKnock(%q) error = %v, want one containing %q", tt.in, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseKnock(%q): %v", tt.in, err)
			}
			if got != tt.want {
				t.Fatalf("ParseKnock(%q) = %+v, want %+v", tt.in, got, tt.want)
			}
		})
	}
}

func TestParseSequenceNamesTheBadArgument(t *testing.T) {
	_, err := ParseSequence([]string{"7000", "8000:udp", "70000"}, Defaults{})
	if err == nil || err.Error() != `sequence item 3 "70000": port 70000 out of range 1-65535` {
		t.Fatalf("err = %v", err)
	}
	if _, err := ParseSequence(nil, Defaults{}); err == nil {
		t.Fatal("empty sequence accepted")
	}
}

func TestKnockString(t *testing.T) {
	seq, err := ParseSequence([]string{"7000", "8000:udp", "9000:tcp:fin+psh", "10:tcp:syn"}, Defaults{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := seq.String(), "7000 8000:udp 9000:tcp:fin+psh 10:tcp:syn"; got != want {
		t.Fatalf("String() = %q, want %q", got, want)
	}
	if got, want := seq.KnockdString(), "7000:tcp,8000:udp,9000:tcp,10:tcp"; got != want {
		t.Fatalf("KnockdString() = %q, want %q", got, want)
	}
	if f := seq[0].EffectiveFlags(); f != SYN {
		t.Fatalf("default flags = %v, want syn", f)
	}
	if f := seq[1].EffectiveFlags(); f != 0 {
		t.Fatalf("udp flags = %v, want none", f)
	}
}

func TestParseTCPFlags(t *testing.T) {
	tests := []struct {
		in   string
		want TCPFlags
		err  bool
	}{
		{"syn", SYN, false},
		{"fin,psh", FIN | PSH, false},
		{"fin+psh+urg", FIN | PSH | URG, false},
		{"ECE+cwr+rst+ack", ECE | CWR | RST | ACK, false},
		{"", 0, true},
		{"+", 0, true},
		{"syn+nope", 0, true},
	}
	for _, tt := range tests {
		got, err := ParseTCPFlags(tt.in)
		if (err != nil) != tt.err || got != tt.want {
			t.Errorf("ParseTCPFlags(%q) = %v, %v; want %v, err %v", tt.in, got, err, tt.want, tt.err)
		}
	}
	if s := (FIN | PSH | CWR).String(); s != "fin+psh+cwr" {
		t.Errorf("String() = %q", s)
	}
}

func TestFlagMatch(t *testing.T) {
	m, err := ParseFlagMatch("syn, urg,!ack")
	if err != nil {
		t.Fatal(err)
	}
	if m.Set != SYN|URG || m.Clear != ACK || m.String() != "syn,urg,!ack" {
		t.Fatalf("got %+v (%s)", m, m)
	}
	for _, tt := range []struct {
		f    TCPFlags
		want bool
	}{{SYN | URG, true}, {SYN | URG | PSH, true}, {SYN, false}, {SYN | URG | ACK, false}} {
		if got := m.Matches(tt.f); got != tt.want {
			t.Errorf("Matches(%v) = %v", tt.f, got)
		}
	}
	if !(FlagMatch{}).Matches(ACK | RST) {
		t.Error("zero FlagMatch must match everything")
	}
	for _, bad := range []string{"", "syn,", "ece", "syn,!syn", "!bogus"} {
		if _, err := ParseFlagMatch(bad); err == nil {
			t.Errorf("ParseFlagMatch(%q) accepted", bad)
		}
	}
}

func TestParseKnockdSequence(t *testing.T) {
	seq, err := ParseKnockdSequence("7000, 8000:UDP,9000:tcp")
	if err != nil {
		t.Fatal(err)
	}
	want := Sequence{{Port: 7000}, {Port: 8000, Proto: UDP}, {Port: 9000}}
	if len(seq) != len(want) {
		t.Fatalf("got %v", seq)
	}
	for i := range want {
		if seq[i] != want[i] {
			t.Fatalf("item %d = %+v, want %+v", i, seq[i], want[i])
		}
	}
	long := strings.Repeat("1,", MaxKnockdSequence) + "1"
	for _, bad := range []string{"", "abc", "7000:icmp", "7000,,8000", long} {
		if _, err := ParseKnockdSequence(bad); err == nil {
			t.Errorf("ParseKnockdSequence(%q) accepted", bad)
		}
	}
}

func FuzzParseKnock(f *testing.F) {
	for _, s := range []string{"7000", "8000:udp", "9000:tcp:fin+psh", "1:TCP:syn,ack", "x:y:z", "70000", "1:udp:hex=00ff", "2:udp:text=a,b c", "3:udp:b64=AA"} {
		f.Add(s, false)
	}
	f.Fuzz(func(t *testing.T, s string, udp bool) {
		d := Defaults{}
		if udp {
			d.Proto = UDP
		}
		k, err := ParseKnock(s, d)
		if err != nil {
			return
		}
		if k.Port == 0 {
			t.Fatalf("%q parsed to port 0", s)
		}
		if k.HasPayload && (k.Proto != UDP || len(k.Payload) > MaxPayload) {
			t.Fatalf("%q: payload %+v", s, k)
		}
		back, err := ParseKnock(k.String(), Defaults{})
		if err != nil || back != k {
			t.Fatalf("%q -> %+v -> %q -> %+v, %v", s, k, k.String(), back, err)
		}
	})
}

func FuzzParseKnockdSequence(f *testing.F) {
	for _, s := range []string{"7000,8000:udp,9000", "1:tcp", " 2 : udp ", "a,b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		seq, err := ParseKnockdSequence(s)
		if err != nil {
			return
		}
		if len(seq) == 0 || len(seq) > MaxKnockdSequence {
			t.Fatalf("%q gave %d knocks", s, len(seq))
		}
		back, err := ParseKnockdSequence(seq.KnockdString())
		if err != nil || back.String() != seq.String() {
			t.Fatalf("round trip of %q: %v, %v", s, back, err)
		}
	})
}

func FuzzParseFlagMatch(f *testing.F) {
	for _, s := range []string{"syn,!ack", "fin", "!rst,urg"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := ParseFlagMatch(s)
		if err != nil {
			return
		}
		back, err := ParseFlagMatch(m.String())
		if err != nil || back != m {
			t.Fatalf("round trip of %q: %+v -> %q -> %+v, %v", s, m, m.String(), back, err)
		}
	})
}

func TestGenerate(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for range 200 {
		seq, err := Generate(rng, 8, 0.25)
		if err != nil {
			t.Fatal(err)
		}
		seen, udp := map[uint16]bool{}, 0
		for _, k := range seq {
			if k.Port < 1024 || avoidPorts[k.Port] || seen[k.Port] {
				t.Fatalf("bad port %d in %v", k.Port, seq)
			}
			seen[k.Port] = true
			if k.Proto == UDP {
				udp++
			}
		}
		if len(seq) != 8 || udp != 2 {
			t.Fatalf("%v: %d knocks, %d UDP", seq, len(seq), udp)
		}
	}
	for _, bad := range []struct {
		n int
		r float64
	}{{0, 0}, {33, 0}, {4, -0.1}, {4, 1.5}} {
		if _, err := Generate(rng, bad.n, bad.r); err == nil {
			t.Errorf("Generate(%d, %v) accepted", bad.n, bad.r)
		}
	}
}
