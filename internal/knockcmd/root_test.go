package knockcmd

import (
	"bytes"
	"testing"
	"time"

	"github.com/knocktools/knock/client"
)

func TestRootFlags(t *testing.T) {
	tests := []struct {
		args  []string
		check func(t *testing.T, o *rootOptions)
	}{
		{[]string{"h", "7000"}, func(t *testing.T, o *rootOptions) {
			if o.Host != "h" || o.Sequence.String() != "7000" || o.Client.Method != client.MethodAuto || o.Client.Delay != 0 {
				t.Errorf("defaults: %+v", o)
			}
		}},
		{[]string{"-d", "250", "h", "1"}, func(t *testing.T, o *rootOptions) {
			if o.Client.Delay != 250*time.Millisecond {
				t.Errorf("delay %v", o.Client.Delay)
			}
		}},
		{[]string{"--delay=1.5s", "h", "1"}, func(t *testing.T, o *rootOptions) {
			if o.Client.Delay != 1500*time.Millisecond {
				t.Errorf("delay %v", o.Client.Delay)
			}
		}},
		// Flags may follow the host, as getopt permutes them for knock 0.8.
		{[]string{"h", "7000", "-u", "8000:tcp", "-v", "-6"}, func(t *testing.T, o *rootOptions) {
			if o.Sequence.String() != "7000:udp 8000" || !o.Verbose || o.Client.Family != 6 {
				t.Errorf("got %+v, sequence %s", o, o.Sequence)
			}
		}},
		{[]string{"--flags", "fin,psh", "h", "1", "2:tcp:syn", "3:udp"}, func(t *testing.T, o *rootOptions) {
			if o.Sequence.String() != "1:tcp:fin+psh 2:tcp:syn 3:udp" {
				t.Errorf("sequence %s", o.Sequence)
			}
		}},
		{[]string{"-4", "--method", "connect", "--source-port", "4444", "--ttl", "9", "--dry-run", "--json", "h", "1"}, func(t *testing.T, o *rootOptions) {
			c := o.Client
			if c.Family != 4 || c.Method != client.MethodConnect || c.SourcePort != 4444 || c.TTL != 9 || !c.DryRun || !o.JSON {
				t.Errorf("got %+v", c)
			}
		}},
	}
	t.Setenv("KNOCK_CONFIG", t.TempDir()+"/none.yaml")
	for _, tt := range tests {
		var got *rootOptions
		s := &streams{Out: &bytes.Buffer{}, Err: &bytes.Buffer{}}
		cmd := newRootCmd(s, func(o *rootOptions) error { got = o; return nil })
		cmd.SetArgs(tt.args)
		if err := cmd.Execute(); err != nil {
			t.Errorf("%v: %v", tt.args, err)
			continue
		}
		if got == nil {
			t.Errorf("%v: run function not called", tt.args)
			continue
		}
		tt.check(t, got)
	}
}

// TestTimeBasedProfileMatchesTheVectors derives a time-based profile's
// sequence through the command line, with the clock moved to a vector's
// time: it must be the sequence of README's first vector (totp_test.go).
func TestTimeBasedProfileMatchesTheVectors(t *testing.T) {
	cfg := t.TempDir() + "/config.yaml"
	t.Setenv("KNOCK_CONFIG", cfg)
	s := &streams{Out: &bytes.Buffer{}, Err: &bytes.Buffer{}}
	add := newRootCmd(s, nil)
	add.SetArgs([]string{"profile", "add", "vec", "--host", "127.0.0.1", "--secret", "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"})
	if err := add.Execute(); err != nil {
		t.Fatal(err)
	}
	at := time.Unix(1_795_500_010, 0) // inside the vector's window
	var got *rootOptions
	cmd := newRootCmd(s, func(o *rootOptions) error { got = o; return nil })
	cmd.SetArgs([]string{"--clock-offset", time.Until(at).Round(time.Second).String(), "vec"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if want := "64963 36867 47798 64550"; got.Sequence.String() != want {
		t.Fatalf("sequence %s, want %s", got.Sequence, want)
	}
}
