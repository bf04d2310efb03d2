package knockcmd

import (
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/spf13/viper"

	"github.com/knocktools/knock"
	"github.com/knocktools/knock/client"
	"github.com/knocktools/knock/profiles"
)

// knockLayers are what the options of one knock are made of, highest first:
// the flags given, the environment, the profile; then the built-in
// defaults. The options themselves are profiles.KnockOptions.
type knockLayers struct {
	flags   map[string]string           // the options given as flags, by key, as typed
	env     func(string) (string, bool) // the environment (os.LookupEnv)
	profile *profiles.Profile           // nil: none
	name    string                      // the profile's name, for messages
	offset  time.Duration               // --clock-offset, for a time-based profile
}

// registerKnockFlags declares the knock options' flags on a command:
// knock's own (root: the options it takes, with their shorthands), or
// profile add's (every option a profile holds).
func registerKnockFlags(cmd *cobra.Command, root bool) {
	f := cmd.Flags()
	for _, o := range profiles.KnockOptions() {
		if root && !o.Root || !root && !o.InProfile() {
			continue
		}
		short := ""
		if root {
			short = o.Short
		}
		if o.Bool {
			f.BoolP(o.Flag(), short, false, o.Help)
		} else {
			f.StringP(o.Flag(), short, "", o.Help)
		}
		_ = f.SetAnnotation(o.Flag(), knockOption, []string{o.Key})
		if o.Values != nil {
			_ = cmd.RegisterFlagCompletionFunc(o.Flag(), cobra.FixedCompletions(o.Values, cobra.ShellCompDirectiveNoFileComp))
		}
	}
	if f.Lookup("flags") != nil {
		_ = cmd.RegisterFlagCompletionFunc("flags", completeFlagList)
	}
}

// KnockVariables are the KNOCK_* variables of the knock options, in the
// table's order.
func KnockVariables() []string {
	var vars []string
	for _, o := range profiles.KnockOptions() {
		if v := o.Var(); v != "" {
			vars = append(vars, v)
		}
	}
	return vars
}

// knockOption marks the flags registerKnockFlags made: a command's other
// flags of the same name (knock's --wait, --port) are its own.
const knockOption = "knock-option"

// layersOf collects a command's knockLayers: the knock options among its
// flags that were given (a command that lacks a flag has no say in it),
// -4 and -6, and the process environment.
func layersOf(cmd *cobra.Command, name string, prof *profiles.Profile) (knockLayers, error) {
	l := knockLayers{flags: map[string]string{}, env: os.LookupEnv, profile: prof, name: name}
	f := cmd.Flags()
	for _, o := range profiles.KnockOptions() {
		if fl := f.Lookup(o.Flag()); fl != nil && fl.Changed && fl.Annotations[knockOption] != nil {
			l.flags[o.Key] = fl.Value.String()
		}
	}
	v4, v6 := changed(f, "ipv4"), changed(f, "ipv6")
	switch {
	case v4 && v6:
		return l, usagef("-4 and -6 exclude each other")
	case v4:
		l.flags["family"] = "4"
	case v6:
		l.flags["family"] = "6"
	}
	if fl := f.Lookup("clock-offset"); fl != nil {
		l.offset, _ = time.ParseDuration(fl.Value.String())
	}
	return l, nil
}

func changed(f *pflag.FlagSet, name string) bool {
	fl := f.Lookup(name)
	return fl != nil && fl.Changed && fl.Value.String() == "true"
}

// source is where an option's value came from.
type source struct {
	name    string // "--ttl", "KNOCK_TTL", `profile "x": ttl`
	text    string // the variable's text
	profile bool
}

// knobs settles each option: the flag over the variable over the profile.
// viper does the settling (Set over its config layer over SetDefault),
// fed values already parsed by the table, so each error names where the
// bad text came from.
func (l knockLayers) knobs() (profiles.Knobs, map[string]source, error) {
	var k profiles.Knobs
	v := viper.New()
	from := map[string]source{} // key -> where the value that won came from
	env := map[string]any{}
	for _, o := range profiles.KnockOptions() {
		if l.profile != nil {
			if val, ok := o.FromProfile(l.profile); ok {
				v.SetDefault(o.Key, val)
				from[o.Key] = source{name: fmt.Sprintf("profile %q: %s", l.name, o.Key), profile: true}
			}
		}
		if name := o.Var(); name != "" {
			if text, ok := l.env(name); ok && text != "" {
				val, err := o.Parse(text)
				if err != nil {
					return k, nil, usagef("%s: %v", name, err)
				}
				env[o.Key], from[o.Key] = val, source{name: name, text: text}
			}
		}
		if text, ok := l.flags[o.Key]; ok {
			val, err := o.Parse(text)
			if err != nil {
				return k, nil, usagef("--%s: %v", o.Flag(), err)
			}
			v.Set(o.Key, val)
			from[o.Key] = source{name: "--" + o.Flag()}
		}
	}
	if err := v.MergeConfigMap(env); err != nil {
		return k, nil, err
	}
	for _, o := range profiles.KnockOptions() {
		if val := v.Get(o.Key); val != nil {
			o.Put(&k, val)
		}
	}
	return k, from, nil
}

// options turns the knockLayers into the client's options and the defaults for
// knocks that name no protocol or flags: a pure function of its knockLayers.
func (l knockLayers) options() (client.Options, knock.Defaults, error) {
	var (
		o = client.Options{Method: client.MethodAuto}
		d = knock.Defaults{Proto: knock.TCP}
	)
	k, from, err := l.knobs()
	if err != nil {
		return o, d, err
	}
	bad := func(key string, err error) error { return usagef("%s: %v", from[key].name, err) }
	o.Delay, o.SourcePort, o.TTL, o.Family = time.Duration(k.Delay), k.SourcePort, k.TTL, k.Family
	if k.Method != "" {
		if o.Method, err = client.ParseMethod(k.Method); err != nil {
			return o, d, bad("method", err)
		}
	}
	if k.Flags != "" {
		if d.Flags, err = knock.ParseTCPFlags(k.Flags); err != nil {
			return o, d, bad("flags", err)
		}
	}
	if k.UDP {
		d.Proto = knock.UDP
	}
	// Name where a family that conflicts with an address came from (-4
	// and -6 name themselves).
	switch src := from["family"]; {
	case k.Family == 0, src.name == "" || src.name[0] == '-':
	case src.profile:
		o.FamilyFrom = fmt.Sprintf("%s %d", src.name, k.Family)
	default:
		o.FamilyFrom = src.name + "=" + src.text
	}
	return o, d, nil
}
