package knockcmd

import (
	"strings"
	"testing"
	"time"

	"github.com/knocktools/knock"
	"github.com/knocktools/knock/client"
	"github.com/knocktools/knock/profiles"
)

// The layering of a knock's options is a pure function of its layers:
// flags over variables over the profile over the built-in defaults, each
// error naming where the bad text came from.
func TestKnockLayers(t *testing.T) {
	prof := &profiles.Profile{Delay: profiles.Duration(300 * time.Millisecond), TTL: 9, Family: 6, Method: "connect", Flags: "fin"}
	for _, tt := range []struct {
		name    string
		flags   map[string]string
		env     map[string]string
		profile *profiles.Profile
		want    client.Options
		proto   knock.Proto
		flagsTo knock.TCPFlags
		err     string
	}{
		{name: "defaults", want: client.Options{Method: client.MethodAuto}, proto: knock.TCP},
		{name: "profile", profile: prof, proto: knock.TCP, flagsTo: knock.FIN,
			want: client.Options{Method: client.MethodConnect, Delay: 300 * time.Millisecond, TTL: 9, Family: 6, FamilyFrom: `profile "p": family 6`}},
		{name: "env over profile", profile: prof, env: map[string]string{"KNOCK_TTL": "20", "KNOCK_FAMILY": "4", "KNOCK_UDP": "1"}, proto: knock.UDP, flagsTo: knock.FIN,
			want: client.Options{Method: client.MethodConnect, Delay: 300 * time.Millisecond, TTL: 20, Family: 4, FamilyFrom: "KNOCK_FAMILY=4"}},
		{name: "flags over env", profile: prof, env: map[string]string{"KNOCK_TTL": "20", "KNOCK_DELAY": "1s"},
			flags: map[string]string{"ttl": "30", "family": "4", "source_port": "4444", "method": "raw", "flags": "syn+ack"},
			proto: knock.TCP, flagsTo: knock.SYN | knock.ACK,
			want: client.Options{Method: client.MethodRaw, Delay: time.Second, TTL: 30, Family: 4, SourcePort: 4444}},
		{name: "empty variable is unset", profile: prof, env: map[string]string{"KNOCK_TTL": ""}, proto: knock.TCP, flagsTo: knock.FIN,
			want: client.Options{Method: client.MethodConnect, Delay: 300 * time.Millisecond, TTL: 9, Family: 6, FamilyFrom: `profile "p": family 6`}},
		{name: "bad flag", flags: map[string]string{"ttl": "0"}, err: `--ttl: "0" out of range 1-255`},
		{name: "bad variable", env: map[string]string{"KNOCK_SOURCE_PORT": "x"}, err: "KNOCK_SOURCE_PORT: "},
		{name: "bad method from env", env: map[string]string{"KNOCK_METHOD": "carrier-pigeon"}, err: "KNOCK_METHOD: "},
		{name: "bad flags flag", flags: map[string]string{"flags": "xmas"}, err: "--flags: "},
	} {
		t.Run(tt.name, func(t *testing.T) {
			l := knockLayers{flags: tt.flags, profile: tt.profile, name: "p",
				env: func(k string) (string, bool) { v, ok := tt.env[k]; return v, ok }}
			o, d, err := l.options()
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if o != tt.want || d.Proto != tt.proto || d.Flags != tt.flagsTo {
				t.Errorf("got %+v %+v\nwant %+v proto %v flags %v", o, d, tt.want, tt.proto, tt.flagsTo)
			}
		})
	}
}

// Every option of the table is a flag of knock or of profile add, under
// the name the table gives it.
func TestKnockOptionFlags(t *testing.T) {
	root := NewRootCmd(nil, nil)
	add, _, err := root.Find([]string{"profile", "add"})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range profiles.KnockOptions() {
		if o.Root && root.Flags().Lookup(o.Flag()) == nil {
			t.Errorf("knock lacks --%s", o.Flag())
		}
		if o.InProfile() && add.Flags().Lookup(o.Flag()) == nil {
			t.Errorf("profile add lacks --%s", o.Flag())
		}
	}
}
