package transfer

import (
	"github.com/knocktools/knock/profiles"
	"os"
	"strings"
	"testing"
	"time"
)

// The fixtures are shaped as the app writes its exports: the v1 envelope
// (enums as strings, explicit nulls, keys we do not know) and the legacy
// array (enums as declaration-order integers, localPort).
func TestParseKnockOnPortsV1(t *testing.T) {
	data, err := os.ReadFile("testdata/knockonports-v1.json")
	if err != nil {
		t.Fatal(err)
	}
	seqs, err := ParseKnockOnPorts("kop.json", data)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		name, host, seq, err, warn string
		family, ttl                int
		delay                      time.Duration
		sport                      uint16
	}{
		{name: "Home SSH", host: "home.example.org", family: 4, ttl: 64, delay: 250 * time.Millisecond,
			seq: "7000 8000:udp:text=open-sesame 8001:udp:hex=c0ffee 8002:udp:hex=68656c6c6f000000 8003:udp:hex= 9000"},
		{name: "mikrotik", host: "10.77.0.2", delay: 500 * time.Millisecond, sport: 40000,
			seq: "1111:udp:text=ab 2222", warn: "step 2: port 0 is not a port; the app skips such a step"},
		{name: "ping door", err: "step 2: an ICMP knock, which knock cannot send"},
		{name: "ssh", err: `host "-oProxyCommand=touch /tmp/x": a space`},
		{name: "ssh", host: "prod.example.com", delay: 500 * time.Millisecond, seq: "7022", warn: "ipv both_ipv4_ipv6: the app knocks one address of each family"},
		{name: "", host: "fd77::3", delay: 500 * time.Millisecond, seq: "5000:udp:hex="},
	}
	if len(seqs) != len(want) {
		t.Fatalf("%d sequences, want %d", len(seqs), len(want))
	}
	for i, w := range want {
		s := seqs[i]
		if s.Name != w.name || s.Index != i+1 {
			t.Errorf("sequence %d: name %q index %d", i+1, s.Name, s.Index)
		}
		if w.err != "" {
			if s.Err == nil || !strings.Contains(s.Err.Error(), w.err) {
				t.Errorf("sequence %d: err %v, want %q", i+1, s.Err, w.err)
			}
			continue
		}
		if s.Err != nil {
			t.Errorf("sequence %d: %v", i+1, s.Err)
			continue
		}
		p := s.Profile
		if p.Host != w.host || strings.Join(p.Sequence, " ") != w.seq || p.Family != w.family || p.TTL != w.ttl ||
			time.Duration(p.Delay) != w.delay || p.SourcePort != w.sport {
			t.Errorf("sequence %d: %+v", i+1, p)
		}
		if w.warn != "" && !strings.Contains(strings.Join(s.Warnings, "\n"), w.warn) {
			t.Errorf("sequence %d: warnings %q, want %q", i+1, s.Warnings, w.warn)
		}
	}
	if w := seqs[1].Warnings; len(w) != 2 || !strings.Contains(w[0], "ipv prefer_ipv6") {
		t.Errorf("mikrotik warnings %q", w)
	}
}

func TestParseKnockOnPortsLegacy(t *testing.T) {
	data, err := os.ReadFile("testdata/knockonports-v0.json")
	if err != nil {
		t.Fatal(err)
	}
	seqs, err := ParseKnockOnPorts("old.json", data)
	if err != nil {
		t.Fatal(err)
	}
	if len(seqs) != 2 {
		t.Fatalf("%d sequences", len(seqs))
	}
	p := seqs[0].Profile
	if seqs[0].Err != nil || p.Host != "legacy.example.net" || p.Family != 6 || p.SourcePort != 41000 ||
		time.Duration(p.Delay) != time.Second || strings.Join(p.Sequence, " ") != "7100 7200:udp:hex=ff00 7300:udp:text=text 7400" {
		t.Fatalf("legacy sequence: %+v %v", p, seqs[0].Err)
	}
	if seqs[1].Err == nil || !strings.Contains(seqs[1].Err.Error(), "step 1: an ICMP knock") {
		t.Fatalf("icmp sequence: %v", seqs[1].Err)
	}
}

func TestParseKnockOnPortsErrors(t *testing.T) {
	for in, want := range map[string]string{
		`{"version":2,"sequences":[]}`: "version 2: want 1",
		`{"sequences":[]}`:             "version none",
		`not json`:                     "not a Knock on Ports export",
		`[1, 2`:                        "not a Knock on Ports export",
	} {
		if _, err := ParseKnockOnPorts("f.json", []byte(in)); err == nil || !strings.Contains(err.Error(), "f.json: ") || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: err %v, want %q", in, err, want)
		}
	}
	seqs, err := ParseKnockOnPorts("f.json", []byte(`{"version":1,"sequences":[{"host":"h","ipv":"sometimes","steps":[{"type":"tcp","port":1}]}, 7, {"steps":[]}]}`))
	if err != nil || len(seqs) != 3 {
		t.Fatal(err)
	}
	for i, want := range []string{`ipv "sometimes": want one of`, "not a sequence", "no host"} {
		if seqs[i].Err == nil || !strings.Contains(seqs[i].Err.Error(), want) {
			t.Errorf("sequence %d: %v, want %q", i+1, seqs[i].Err, want)
		}
	}
}

// An export reads back, with the app's own parser's rules, as the same
// knocks: what the app sends is what knock sends.
func TestKnockOnPortsRoundTrip(t *testing.T) {
	list := []NamedProfile{
		{"web", profiles.Profile{Host: "web.example.com", Sequence: []string{"7000", "8000:udp", "8001:udp:text=hi", "8002:udp:hex="}, Delay: profiles.Duration(100 * time.Millisecond), Family: 6, TTL: 9, SourcePort: 4444}},
		{"plain", profiles.Profile{Host: "10.77.0.2", Sequence: []string{"1", "2", "3"}}},
	}
	out, err := ExportKnockOnPorts(list)
	if err != nil {
		t.Fatal(err)
	}
	seqs, err := ParseKnockOnPorts("export.json", out)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	for i, s := range seqs {
		in, got := list[i].Profile, s.Profile
		if s.Err != nil || s.Name != list[i].Name || got.Host != in.Host || got.Family != in.Family || got.TTL != in.TTL ||
			got.SourcePort != in.SourcePort || got.Delay != in.Delay {
			t.Errorf("%s: %+v %v\n%s", list[i].Name, got, s.Err, out)
		}
		a, _ := in.KnockSequence(false)
		b, _ := got.KnockSequence(false)
		for j := range a {
			if !a[j].HasPayload && a[j].Proto == 1 {
				a[j].Payload, a[j].HasPayload = "\x00", true // knock 0.8's zero byte, spelt out
			}
		}
		if a.String() != b.String() {
			t.Errorf("%s: knocks %s, read back as %s", list[i].Name, a, b)
		}
	}
	for _, bad := range []struct {
		p    profiles.Profile
		want string
	}{
		{profiles.Profile{Host: "h", Sequence: []string{"1:tcp:fin"}}, "knock 1 (1:tcp:fin) sends fin: Knock on Ports sends only plain SYNs"},
		{profiles.Profile{Host: "h", Secret: "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"}, "time-based"},
		{profiles.Profile{Host: "h", Sequence: []string{"1"}, Delay: profiles.Duration(20 * time.Second)}, "at most 15000 ms"},
	} {
		if _, err := ExportKnockOnPorts([]NamedProfile{{"x", bad.p}}); err == nil || !strings.HasPrefix(err.Error(), `profile "x": `) || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%+v: err %v, want %q", bad.p, err, bad.want)
		}
	}
}

// FuzzParseKnockOnPorts: any file gives an error naming it, or sequences
// each refused or holding a profile that validates and exports back.
func FuzzParseKnockOnPorts(f *testing.F) {
	for _, name := range []string{"testdata/knockonports-v1.json", "testdata/knockonports-v0.json"} {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(`{"version":1,"sequences":[{"host":"h","steps":[{"type":"udp","port":1,"udp_payload_size":-3}]}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		seqs, err := ParseKnockOnPorts("fuzz.json", data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.json: ") {
				t.Fatalf("error without the file: %v", err)
			}
			return
		}
		for _, s := range seqs {
			if s.Err != nil {
				continue
			}
			if err := s.Profile.Validate(false); err != nil {
				t.Fatalf("imported an invalid profile %+v: %v", s.Profile, err)
			}
			if _, err := ExportKnockOnPorts([]NamedProfile{{"x", s.Profile}}); err != nil && !strings.Contains(err.Error(), "15000") {
				t.Fatalf("an imported profile does not export: %v", err)
			}
		}
	})
}
