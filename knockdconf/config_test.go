package knockdconf

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/knocktools/knock"
)

func TestParseDebianDefault(t *testing.T) {
	c, err := Load("testdata/debian-default.conf")
	if err != nil {
		t.Fatal(err)
	}
	if !c.UseSyslog || c.PidFile != DefaultPidFile || c.Interface != "" || len(c.Doors) != 3 {
		t.Fatalf("config %+v", c)
	}
	d := c.Doors[0]
	if d.Name != "openSSH" || d.Sequence.KnockdString() != "7000:tcp,8000:tcp,9000:tcp" ||
		d.SeqTimeout != 5*time.Second || d.CmdTimeout != DefaultCmdTimeout ||
		d.Flags != (knock.FlagMatch{Set: knock.SYN}) ||
		d.StartCommand != "/sbin/iptables -A INPUT -s %IP% -p tcp --dport 22 -j ACCEPT" {
		t.Fatalf("door %+v", d)
	}
	if c.Doors[2].Sequence.String() != "12345 54321 24680 13579" {
		t.Fatalf("openHTTPS sequence %v", c.Doors[2].Sequence)
	}
}

func TestParseEveryDirective(t *testing.T) {
	conf := `# comment
[Options]
  logfile = /var/log/knockd.log
  PIDFILE = /run/knockd.pid
  Interface = wg0

[door one]
  Sequence = 7000:UDP, 8000 ,9000:tcp
  Timeout = 7
  Cmd_Timeout = 0
  TCPFlags = syn,!ack
  Command = open %IP%
  Command_6 =
  Stop_Command = close %IP%
  Stop_Command_6 = close6 %IP%
  Target = 10.77.0.9
`
	c, err := Parse("k.conf", []byte(conf))
	if err != nil {
		t.Fatal(err)
	}
	if c.LogFile != "/var/log/knockd.log" || c.PidFile != "/run/knockd.pid" || c.Interface != "wg0" || c.UseSyslog {
		t.Fatalf("options %+v", c)
	}
	d := c.Doors[0]
	if d.Name != "door one" || d.Sequence.String() != "7000:udp 8000 9000" || d.SeqTimeout != 7*time.Second ||
		d.CmdTimeout != 0 || d.Flags.String() != "syn,!ack" || d.Target.String() != "10.77.0.9" {
		t.Fatalf("door %+v", d)
	}
	if d.Start(false) != "open %IP%" || d.Start(true) != "" || d.Stop(false) != "close %IP%" || d.Stop(true) != "close6 %IP%" {
		t.Fatalf("commands: %q %q %q %q", d.Start(false), d.Start(true), d.Stop(false), d.Stop(true))
	}
	// Without _6 commands IPv6 knockers fall back to the IPv4 ones.
	c, _ = Parse("k.conf", []byte("[d]\nsequence=1\nstart_command=a\nstop_command=b\n"))
	if d := c.Doors[0]; d.Start(true) != "a" || d.Stop(true) != "b" {
		t.Fatalf("fallback: %q %q", d.Start(true), d.Stop(true))
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct{ name, conf, want string }{
		{"outside section", "sequence = 1\n", `k.conf:1: "sequence" is outside any section`},
		{"unknown directive", "[d]\nsequence=1\nsequense=2\n", `k.conf:3: unknown directive "sequense" in door [d]`},
		{"unknown option", "[options]\nlogfil = x\n", `k.conf:2: unknown option "logfil"`},
		{"port abc", "[d]\nsequence = 7000,abc\n", `k.conf:2: sequence: sequence item 2 "abc": port "abc" is not a number`},
		{"port too big", "[d]\nsequence = 70000\n", `k.conf:2: sequence: sequence item 1 "70000": port 70000 out of range 1-65535`},
		{"bad proto", "[d]\nsequence = 7000:icmp\n", `unknown protocol "icmp"`},
		{"too long", "[d]\nsequence = " + strings.Repeat("1,", 32) + "1\n", "at most 32"},
		{"bad flag", "[d]\nsequence=1\ntcpflags = syn,xmas\n", `k.conf:3: tcpflags: unrecognized flag "xmas"`},
		{"negative timeout", "[d]\nsequence=1\nseq_timeout = -5\n", `k.conf:3: seq_timeout: -5 seconds: must be at least 1`},
		{"word timeout", "[d]\nsequence=1\ncmd_timeout = ten\n", `k.conf:3: cmd_timeout: "ten" is not a whole number of seconds`},
		{"negative cmd timeout", "[d]\nsequence=1\ncmd_timeout = -1\n", `cmd_timeout: -1 seconds`},
		{"empty door", "[d]\ncommand = x\n[e]\nsequence=1\n", `k.conf:1: section 'd' has an empty knock sequence`},
		{"empty last door", "[d]\n", `k.conf:1: section 'd' has an empty knock sequence`},
		{"bad target", "[d]\nsequence=1\ntarget = nowhere\n", `k.conf:3: Target "nowhere" is not an IP address`},
		{"duplicate door", "[d]\nsequence=1\n[d]\nsequence=2\n", `k.conf:3: door [d] defined twice`},
		{"duplicate key", "[d]\nsequence=1\ncommand=a\nstart_command=b\n", `k.conf:4: start_command given twice`},
		{"bare door key", "[d]\nsequence\n", `k.conf:2: "sequence": want Key = value`},
		{"syslog with value", "[options]\nusesyslog = yes\n", `UseSyslog takes no value`},
		{"unclosed section", "[d\nsequence=1\n", `k.conf:1: section header "[d" has no closing ]`},
		{"escape in a door name", "[d\x1b[2J]\nsequence=1\n", `k.conf:1: control character or invalid UTF-8 in "[d\x1b[2J]": not allowed`},
		{"bidi override in a command", "[d]\nsequence=1\ncommand = echo \u202e\n", `k.conf:3: control character or invalid UTF-8 in "command = echo \u202e": not allowed`},
		{"options twice", "[options]\nlogfile = /a\n[d]\nsequence=1\n[Options]\nlogfile = /b\n", `k.conf:5: [options] given twice (first at line 1): merge them`},
		{"seq_timeout wraps", "[d]\nsequence=1\nseq_timeout = 9223372037\n", `k.conf:3: seq_timeout: 9223372037 seconds: must be at most 86400`},
		{"cmd_timeout wraps", "[d]\nsequence=1\ncmd_timeout = 99999999999999999999\n", `k.conf:3: cmd_timeout: 99999999999999999999 seconds: must be at most 31622400`},
		{"period too long", "[d]\nsequence_secret = JBSWY3DPEHPK3PXP\nsequence_period = 86401\n", `must be at most 86400`},
		{"mapped target", "[d]\nsequence=1\ntarget = ::ffff:10.77.0.2\n", `k.conf:3: Target "::ffff:10.77.0.2" can never match: it is an IPv4-mapped IPv6 address`},
		{"multicast target", "[d]\nsequence=1\ntarget = 224.0.0.1\n", `can never match: it is a multicast address`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("k.conf", []byte(tt.conf))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestLoadChecksOneTimeFile(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "knockd.conf")
	os.WriteFile(conf, []byte("[d]\n\tseq_timeout = 5\n\tone_time_sequences = "+dir+"/seqs\n"), 0o600)
	// The error names the directive's own line, not the door's header.
	if _, err := Load(conf); err == nil || !strings.Contains(err.Error(), "knockd.conf:3: [d]: One_Time_Sequences file") {
		t.Fatalf("missing one-time file: %v", err)
	}
	os.WriteFile(filepath.Join(dir, "seqs"), []byte("1,2,3\n"), 0o600)
	c, err := Load(conf)
	if err != nil || c.Doors[0].OneTimeFile != dir+"/seqs" {
		t.Fatalf("%v %v", c, err)
	}
}

func FuzzParse(f *testing.F) {
	data, _ := os.ReadFile("testdata/debian-default.conf")
	f.Add(data)
	f.Add([]byte("[options]\nusesyslog\n[d]\nsequence=1:udp,2\ntcpflags=syn,!ack\ncommand_6=\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse("fuzz.conf", data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.conf") {
				t.Fatalf("error without the file name: %v", err)
			}
			return
		}
		for _, d := range c.Doors {
			if len(d.Sequence) == 0 && d.OneTimeFile == "" {
				t.Fatalf("door %q accepted without a sequence", d.Name)
			}
			if d.SeqTimeout <= 0 || d.CmdTimeout < 0 {
				t.Fatalf("door %q timeouts %v %v", d.Name, d.SeqTimeout, d.CmdTimeout)
			}
		}
	})
}

func TestTimeBasedDoors(t *testing.T) {
	dir := t.TempDir()
	secretFile := filepath.Join(dir, "secret")
	os.WriteFile(secretFile, []byte("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP\n"), 0o600)
	c, err := Parse("k.conf", []byte(`[totp]
	Sequence_Secret   = jbsw y3dp ehpk 3pxp jbsw y3dp ehpk 3pxp
	Sequence_Length   = 5
	Sequence_Ports    = 20000-21000
	Sequence_Period   = 60
	Sequence_Protocol = both
	command = true
[fromfile]
	sequence_secret = file:`+secretFile+`
`))
	if err != nil {
		t.Fatal(err)
	}
	ts := c.Doors[0].Time
	if ts == nil || len(ts.Secret) != 20 || ts.Length != 5 || ts.PortMin != 20000 || ts.PortMax != 21000 ||
		ts.Period != 60*time.Second || ts.Protocol != "both" {
		t.Fatalf("door 1: %+v", ts)
	}
	if d := c.Doors[1]; d.Time.Length != 4 || d.Time.Period != 30*time.Second || d.Time.Protocol != "tcp" || d.SecretFile != secretFile {
		t.Fatalf("door 2 defaults: %+v", d.Time)
	}

	os.WriteFile(filepath.Join(dir, "open"), []byte("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"), 0o644)
	for _, tt := range []struct{ conf, want string }{
		{"[d]\nsequence = 1\nsequence_secret = JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP\n", "mixes Sequence, One_Time_Sequences and Sequence_Secret"},
		{"[d]\nsequence_length = 4\n", "sets Sequence_* options but no Sequence_Secret"},
		{"[d]\nsequence_secret = not!base32\n", "k.conf:2: Sequence_Secret: not a base32 secret"},
		{"[d]\nsequence_secret = JBSWY3DP\n", "secret of 5 bytes is too short"},
		{"[d]\nsequence_secret = file:" + dir + "/open\n", "is readable by others (mode 0644)"},
		{"[d]\nsequence_secret = file:" + dir + "/none\n", "no such file"},
		{"[d]\nsequence_secret = JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP\nsequence_length = 40\n", "Sequence_Length \"40\": want 1-32"},
		{"[d]\nsequence_secret = JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP\nsequence_ports = 9-1\n", "is empty"},
		{"[d]\nsequence_secret = JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP\nsequence_period = 0\n", "Sequence_Period: 0 seconds: must be at least 1"},
		{"[d]\nsequence_secret = JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP\nsequence_protocol = icmp\n", "want tcp, udp or both"},
	} {
		if _, err := Parse("k.conf", []byte(tt.conf)); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q: err = %v, want %q", tt.conf, err, tt.want)
		}
	}
}

func TestPermissionWarnings(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("file modes do not say who may write on Windows")
	}
	dir := t.TempDir()
	conf := filepath.Join(dir, "knockd.conf")
	seqs := filepath.Join(dir, "seqs")
	os.WriteFile(seqs, []byte(" 1,2\n"), 0o600)
	os.WriteFile(conf, []byte("[d]\none_time_sequences = "+seqs+"\n"), 0o600)
	load := func() []string {
		t.Helper()
		c, err := Load(conf)
		if err != nil {
			t.Fatal(err)
		}
		return c.PermissionWarnings()
	}
	if w := load(); len(w) != 0 {
		t.Fatalf("warnings for 0600 files: %q", w)
	}
	os.Chmod(conf, 0o664)
	os.Chmod(seqs, 0o646)
	w := load()
	if len(w) != 2 || !strings.Contains(w[0], "configuration "+conf+" (mode 0664) is writable by group") ||
		!strings.Contains(w[1], "[d] One_Time_Sequences file "+seqs+" (mode 0646) is writable by others") {
		t.Fatalf("warnings %q", w)
	}
	os.Chmod(conf, 0o644)
	os.Chmod(seqs, 0o600)
	if os.Geteuid() == 0 {
		os.Chown(seqs, 4242, 4242)
		if w := load(); len(w) != 1 || !strings.Contains(w[0], "is owned by uid 4242, neither root nor knockd's user") {
			t.Fatalf("warnings %q", w)
		}
	}
}

func TestParseInterfaces(t *testing.T) {
	for in, want := range map[string]string{
		"eth0": "eth0", "eth0,wg0": "eth0 wg0", " eth0 , wg0 ,eth0": "eth0 wg0", "any": "any", "br-lan.10": "br-lan.10",
	} {
		got, err := ParseInterfaces(in)
		if err != nil || strings.Join(got, " ") != want {
			t.Errorf("ParseInterfaces(%q) = %q, %v, want %q", in, got, err, want)
		}
	}
	for in, want := range map[string]string{
		"":                 "empty interface name",
		"eth0,":            "empty interface name",
		"any,eth0":         "any already means",
		"a-very-long-name": "longer than the 15 bytes",
		"eth0 wg0":         "not an interface name",
		"../x":             "not an interface name",
		"e:1":              "not an interface name",
	} {
		if _, err := ParseInterfaces(in); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseInterfaces(%q) error %v, want %q", in, err, want)
		}
	}
}

func FuzzParseInterfaces(f *testing.F) {
	for _, s := range []string{"eth0", "eth0,wg0", "any", "a,,b", "any,x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		list, err := ParseInterfaces(s)
		if err != nil {
			return
		}
		for _, name := range list {
			if name == "" || len(name) > 15 || strings.ContainsAny(name, ",/: \t\n\r\x00") {
				t.Fatalf("%q gave the name %q", s, name)
			}
		}
		back, err := ParseInterfaces(strings.Join(list, ","))
		if err != nil || strings.Join(back, ",") != strings.Join(list, ",") {
			t.Fatalf("%q -> %q -> %q, %v", s, list, back, err)
		}
	})
}

// A reload never applies a file that is still being written: one
// modified in the last moment is read again once it has settled, and one
// that never settles is not read at all.
func TestReloadWaitsForAFileToSettle(t *testing.T) {
	path := filepath.Join(t.TempDir(), "knockd.conf")
	clock := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	now := func() time.Time { return clock }
	// An editor has written half a line just now.
	os.WriteFile(path, []byte("[d]\nsequence = 7000,8"), 0o600)
	os.Chtimes(path, clock, clock.Add(-time.Millisecond))
	waits := 0
	finish := func(time.Duration) {
		waits++
		if waits == 1 { // the rest of the file, then quiet
			os.WriteFile(path, []byte("[d]\nsequence = 7000,8000\n"), 0o600)
			os.Chtimes(path, clock, clock.Add(-time.Second))
		}
	}
	c, err := load(path, settle, now, finish)
	if err != nil || c.Doors[0].Sequence.KnockdString() != "7000:tcp,8000:tcp" || waits != 1 {
		t.Fatalf("config %v, err %v, after %d waits", c, err, waits)
	}
	// A file that keeps changing is refused, naming why.
	os.Chtimes(path, clock, clock)
	waits = 0
	if _, err := load(path, settle, now, func(time.Duration) { waits++ }); err == nil || !strings.Contains(err.Error(), "still being written") || waits != settleTries {
		t.Fatalf("err %v after %d waits", err, waits)
	}
	// Starting and --check take the file as it is.
	if _, err := load(path, 0, now, func(time.Duration) { t.Fatal("Load waited") }); err != nil {
		t.Fatal(err)
	}
}

func TestDoorChanges(t *testing.T) {
	old, _ := Parse("a", []byte("[keep]\nsequence = 1\n[gone]\nsequence = 2\n[edit]\nsequence = 3\n"))
	next, _ := Parse("b", []byte("# moved down\n\n[keep]\nsequence = 1\n[edit]\nsequence = 3\ncmd_timeout = 9\n[new]\nsequence = 4\n"))
	added, removed, changed := DoorChanges(old, next)
	if fmt.Sprint(added, removed, changed) != "[new] [gone] [edit]" {
		t.Fatalf("added %v removed %v changed %v", added, removed, changed)
	}
}

// StrictModes = yes turns the integrity warnings into a refusal: a
// configuration others could change does not load (so a reload keeps the
// running one, and --check fails).
func TestStrictModes(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("file modes do not say who may write on Windows")
	}
	dir := t.TempDir()
	conf := filepath.Join(dir, "knockd.conf")
	os.WriteFile(conf, []byte("[options]\nStrictModes = yes\n[d]\nsequence = 1\n"), 0o600)
	if _, err := Load(conf); err != nil {
		t.Fatal(err)
	}
	os.Chmod(conf, 0o666)
	if _, err := Load(conf); err == nil || !strings.Contains(err.Error(), "StrictModes = yes: configuration "+conf+" (mode 0666) is writable by others") {
		t.Fatalf("err %v", err)
	}
	os.WriteFile(conf, []byte("[options]\nStrictModes = maybe\n"), 0o600)
	if _, err := Load(conf); err == nil || !strings.Contains(err.Error(), `StrictModes "maybe": want yes or no`) {
		t.Fatalf("err %v", err)
	}
}

// Every error of a file is reported, each with its line, without the
// echoes of an earlier one (a door whose sequence was refused is not also
// "empty"), and a refused section adds nothing of its own.
func TestParseReportsEveryError(t *testing.T) {
	conf := "[a]\nsequence = 7000,abc\n[b]\nsequence = 1\nsequense = 2\n[c\nsequence = 3\nbogus = 4\n[d]\ntcpflags = syn\n[e]\nsequence = 5\n"
	_, err := Parse("k.conf", []byte(conf))
	if err == nil {
		t.Fatal("accepted")
	}
	want := []string{
		`k.conf:2: sequence: sequence item 2 "abc"`,
		`k.conf:5: unknown directive "sequense" in door [b]`,
		`k.conf:6: section header "[c" has no closing ]`,
		`k.conf:9: section 'd' has an empty knock sequence`,
	}
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != len(want) {
		t.Fatalf("%d errors, want %d:\n%s", len(lines), len(want), err)
	}
	for i, w := range want {
		if !strings.HasPrefix(lines[i], w) {
			t.Errorf("error %d: %q, want %q", i+1, lines[i], w)
		}
	}
	// A file of nothing but errors stops at maxErrors.
	_, err = Parse("k.conf", []byte(strings.Repeat("x = 1\n", 100)))
	if n := strings.Count(err.Error(), "\n") + 1; n != maxErrors+1 || !strings.Contains(err.Error(), "more errors not shown") {
		t.Fatalf("%d lines:\n%s", n, err)
	}
}
