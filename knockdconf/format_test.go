package knockdconf

import (
	"os"
	"reflect"
	"strings"
	"testing"
)

// Format then Parse gives back the configuration Parse read: Canonical
// loses nothing.
func FuzzFormatRoundTrip(f *testing.F) {
	for _, file := range []string{"testdata/debian-default.conf", "../etc/knockd.conf", "../etc/openwrt/knockd.conf"} {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("[options]\nusesyslog\nlogfile=/l\npidfile=/p\nstatedir=/s\nstrictmodes=yes\ninterface=a,b\nringsize=512K\n" +
		"maxknockers=100\nmaxcommands=3\nmaxdoorcommands=2\nmemorylimit=off\n" +
		"[d]\nsequence=1:udp,2\ntcpflags=syn,!ack\ncommand_6=\ncmd_timeout=7\ntarget=10.77.0.1\nallow_repeats=on\n" +
		"[t]\nsequence_secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP\nsequence_protocol=both\ntimeout=9\nstop_command_6=x %IP%\n" +
		"[o]\none_time_sequences=/x\nstart_command=a = b\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse("fuzz.conf", data)
		if err != nil {
			return
		}
		text := Format(c, Canonical)
		back, err := Parse("fuzz.conf", []byte(text))
		if err != nil {
			t.Fatalf("Format wrote what Parse refuses: %v\n%s", err, text)
		}
		for _, cfg := range []*Config{c, back} {
			for _, d := range cfg.Doors {
				d.Line, d.OneTimeLine = 0, 0
			}
		}
		if !reflect.DeepEqual(c, back) {
			t.Fatalf("round trip changed the configuration:\n%s\nfrom\n%#v\nto\n%#v", text, c, back)
		}
		// The other styles write every door too, and hide the secret.
		list := Format(c, Listing)
		for _, d := range c.Doors {
			if !strings.Contains(list, "["+d.Name+"]\n") {
				t.Fatalf("Listing lost door %q", d.Name)
			}
			if d.Time != nil && d.SecretFile == "" && strings.Contains(list, Format(&Config{Doors: []*Door{d}}, Canonical)) {
				t.Fatalf("Listing shows the secret of %q", d.Name)
			}
		}
	})
}

// The styles' layouts: --check's listing and the sample a profile export
// writes are what their golden scripts show.
func TestFormatStyles(t *testing.T) {
	c, err := Parse("k.conf", []byte("[options]\nUseSyslog\nRingSize = 2097152\n[ssh]\nsequence = 7000,8000:udp\ntcpflags = syn,!ack\ncommand = open %IP%\ncommand_6 =\n"+
		"[totp]\nsequence_secret = JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP\nstop_command = close\n"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		style Style
		want  string
	}{
		{Canonical, "[options]\n\tUseSyslog\n\tRingSize = 2M\n\n" +
			"[ssh]\n\tsequence = 7000:tcp,8000:udp\n\tseq_timeout = 25\n\ttcpflags = syn,!ack\n\tstart_command = open %IP%\n\tstart_command_6 = \n\n" +
			"[totp]\n\tsequence_secret = JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP\n\tsequence_length = 4\n\tsequence_ports = 10000-65000\n" +
			"\tsequence_period = 30\n\tsequence_protocol = tcp\n\tseq_timeout = 25\n\tcmd_timeout = 10\n\tstop_command = close\n"},
		{Listing, "[options]\n\tUseSyslog\n\tRingSize      = 2M\n\n" +
			"[ssh]\n\tsequence      = 7000:tcp,8000:udp\n\tseq_timeout   = 25\n\ttcpflags      = syn,!ack\n\tstart_command = open %IP%\n\tstart_command_6 = \n\n" +
			"[totp]\n\tsequence_secret   = (20 bytes, given inline)\n\tsequence_length   = 4\n\tsequence_ports    = 10000-65000\n" +
			"\tsequence_period   = 30\n\tsequence_protocol = tcp\n\tseq_timeout       = 25\n\tcmd_timeout   = 10\n\tstop_command  = close\n"},
	} {
		if got := Format(c, tt.style); got != tt.want {
			t.Errorf("got\n%s\nwant\n%s", got, tt.want)
		}
	}
}

// Every directive the parser takes is in the table with a doc line, and
// every entry of the table is one the parser takes.
func TestDirectiveTable(t *testing.T) {
	seen := map[string]bool{}
	for _, d := range Directives() {
		if d.Doc == "" || strings.Contains(d.Doc, "\n") {
			t.Errorf("%s: want a one-line doc", d.Name)
		}
		for _, k := range append([]string{d.Name}, d.Aliases...) {
			k = strings.ToLower(k)
			if seen[d.Section.String()+k] {
				t.Errorf("%s: %q twice in the table", d.Name, k)
			}
			seen[d.Section.String()+k] = true
		}
		if (d.Section == OptionsSection) != (d.option != nil && d.getOption != nil) || (d.Section == DoorSection) != (d.door != nil && d.getDoor != nil) {
			t.Errorf("%s: its parser and writer do not match its section", d.Name)
		}
	}
}
