package knockcmd

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/viper"

	"github.com/knocktools/knock"
	"github.com/knocktools/knock/client"
	"github.com/knocktools/knock/profiles"
)

// setting is an option that a flag, a KNOCK_* environment variable and a
// profile can all give; the flag wins over the variable, which wins over
// the profile (viper's order: flag, env, default).
type setting struct {
	key  string // viper key, profile key, and KNOCK_<KEY> in upper case
	flag string // flag name, empty when there is none of the same name
}

var knockSettings = []setting{
	{"delay", "delay"},
	{"method", "method"},
	{"flags", "flags"},
	{"ttl", "ttl"},
	{"source_port", "source-port"},
	{"udp", "udp"},
	{"family", ""}, // -4 / -6
}

// settings resolves the knock options of one run.
type settings struct {
	v       *viper.Viper
	cmd     *cobra.Command
	profile string // name of the profile in use, for error messages
}

func newSettings(cmd *cobra.Command, name string, p *profiles.Profile) *settings {
	v := viper.New()
	v.SetEnvPrefix("KNOCK")
	v.AutomaticEnv()
	for _, s := range knockSettings {
		if s.flag != "" {
			_ = v.BindPFlag(s.key, cmd.Flags().Lookup(s.flag))
		}
	}
	if p != nil {
		set := func(key string, value any, isSet bool) {
			if isSet {
				v.SetDefault(key, value)
			}
		}
		set("delay", p.Delay.String(), p.Delay != 0)
		set("method", p.Method, p.Method != "")
		set("flags", p.Flags, p.Flags != "")
		set("ttl", p.TTL, p.TTL != 0)
		set("source_port", p.SourcePort, p.SourcePort != 0)
		set("family", p.Family, p.Family != 0)
	}
	return &settings{v: v, cmd: cmd, profile: name}
}

// source names where a setting's value came from, for error messages.
func (s *settings) source(key string) string {
	if src := s.explicitSource(key); src != "" {
		return src
	}
	if s.profile != "" {
		return fmt.Sprintf("profile %q: %s", s.profile, key)
	}
	return key
}

// explicitSource is the flag (--ttl) or environment variable (KNOCK_TTL)
// that set key, or "" when neither did.
func (s *settings) explicitSource(key string) string {
	for _, st := range knockSettings {
		if st.key == key && st.flag != "" && s.cmd.Flags().Changed(st.flag) {
			return "--" + st.flag
		}
	}
	env := "KNOCK_" + strings.ToUpper(key)
	if _, ok := os.LookupEnv(env); ok {
		return env
	}
	return ""
}

// explicit reports whether the user gave key on the command line or in the
// environment (a profile cannot hold a zero value).
func (s *settings) explicit(key string) bool { return s.explicitSource(key) != "" }

// options turns the settings into the client's options and the defaults
// for knocks that name no protocol or flags.
func (s *settings) options() (client.Options, knock.Defaults, error) {
	var (
		o client.Options
		d = knock.Defaults{Proto: knock.TCP}
		v = s.v
	)
	bad := func(key string, err error) error { return usagef("%s: %v", s.source(key), err) }

	if str := v.GetString("delay"); str != "" {
		dl, err := profiles.ParseDuration(str)
		if err != nil {
			return o, d, bad("delay", err)
		}
		o.Delay = time.Duration(dl)
	}
	o.Method = client.MethodAuto
	if str := v.GetString("method"); str != "" {
		m, err := client.ParseMethod(str)
		if err != nil {
			return o, d, bad("method", err)
		}
		o.Method = m
	}
	if str := v.GetString("flags"); str != "" {
		f, err := knock.ParseTCPFlags(str)
		if err != nil {
			return o, d, bad("flags", err)
		}
		d.Flags = f
	}
	if str := v.GetString("ttl"); str != "" && (str != "0" || s.explicit("ttl")) {
		n, err := strconv.Atoi(str)
		if err != nil || n < 1 || n > 255 {
			return o, d, bad("ttl", fmt.Errorf("%q out of range 1-255", str))
		}
		o.TTL = n
	}
	if str := v.GetString("source_port"); str != "" && (str != "0" || s.explicit("source_port")) {
		p, err := knock.ParsePort(str)
		if err != nil {
			return o, d, bad("source_port", err)
		}
		o.SourcePort = p
	}
	if str := v.GetString("udp"); str != "" {
		udp, err := strconv.ParseBool(str)
		if err != nil {
			return o, d, bad("udp", fmt.Errorf("%q is not true or false", str))
		}
		if udp {
			d.Proto = knock.UDP
		}
	}
	v4, _ := s.cmd.Flags().GetBool("ipv4")
	v6, _ := s.cmd.Flags().GetBool("ipv6")
	switch {
	case v4 && v6:
		return o, d, usagef("-4 and -6 exclude each other")
	case v4:
		o.Family = 4
	case v6:
		o.Family = 6
	default:
		if str := v.GetString("family"); str != "" && str != "0" {
			if str != "4" && str != "6" {
				return o, d, bad("family", fmt.Errorf("%q: want 4 or 6", str))
			}
			o.Family = int(str[0] - '0')
			if src := s.explicitSource("family"); src != "" {
				o.FamilyFrom = src + "=" + str
			} else {
				o.FamilyFrom = s.source("family") + " " + str
			}
		}
	}
	return o, d, nil
}
