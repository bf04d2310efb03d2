package knockcmd

import (
	"bytes"
	crand "crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/knocktools/knock"
	"github.com/knocktools/knock/internal/qrterm"
	"github.com/knocktools/knock/profiles"
	"github.com/knocktools/knock/spa"
	"github.com/knocktools/knock/transfer"
)

func newProfileCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "profile",
		Short: "Manage saved host profiles (knock PROFILE knocks one)",
		Long: `Manage the saved host profiles that "knock PROFILE" knocks.

Profiles live in one YAML file: --config FILE, else $KNOCK_CONFIG, else
` + displayDefaultPath() + `. It is written atomically with mode 0600.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return usagef("missing subcommand: %s", subcommandNames(cmd))
		},
	}
	cmd.AddCommand(newProfileAddCmd(a), newProfileListCmd(a), newProfileShowCmd(a), newProfileRmCmd(a),
		newProfileEditCmd(a), newProfileRenameCmd(a), newProfileExportCmd(a), newProfileImportCmd(a))
	return cmd
}

func subcommandNames(cmd *cobra.Command) string {
	var names []string
	for _, c := range cmd.Commands() {
		names = append(names, c.Name())
	}
	return strings.Join(names, ", ")
}

// reservedNames are the words a profile may not be called, so that
// "knock NAME" always means the profile: every subcommand, and those of
// the ssh integration to come.
func reservedNames(cmd *cobra.Command) []string {
	names := []string{"help", "completion", "ssh", "proxy", "ssh-config", "check"}
	for _, c := range cmd.Root().Commands() {
		names = append(names, c.Name())
		names = append(names, c.Aliases...)
	}
	return names
}

// completeProfiles offers profile names, with the host as description.
func (a *app) completeProfiles(max int) cobra.CompletionFunc {
	return func(_ *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
		if max >= 0 && len(args) >= max {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		f, err := a.load()
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		var out []string
		for _, n := range f.Names() {
			p, _ := f.Resolve(n)
			desc := p.Host
			if p.Description != "" {
				desc += " - " + p.Description
			}
			out = append(out, n+"\t"+desc)
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}

// completeRootArgs offers profile names for "knock <TAB>"; after a host or
// profile come ports, which cannot be guessed.
func (a *app) completeRootArgs(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	return a.completeProfiles(1)(cmd, args, toComplete)
}

// profileFlags are the flags that set a profile's fields, shared by add.
type profileFlags struct {
	cmd                                                         *cobra.Command // its knock options are profiles.KnockOptions' flags
	host, sequence, description, user                           string
	length                                                      int
	secret, secretFile, period, ports, protocol                 string
	closeSequence                                               string
	allowRepeats                                                bool
	spa                                                         bool
	spaAccess, spaKeyFile, spaHMACKeyFile, spaAllowIP, spaProto string
	spaPort                                                     uint16
	spaFWTimeout                                                int
}

func (pf *profileFlags) register(cmd *cobra.Command) {
	pf.cmd = cmd
	f := cmd.Flags()
	registerKnockFlags(cmd, false) // --delay, --flags, --family, --method, ...
	f.StringVar(&pf.host, "host", "", "host name or address to knock (required)")
	f.StringVar(&pf.sequence, "sequence", "", "knocks, comma-separated: 7000,8000:udp,9000:tcp:fin (required)")
	f.StringVar(&pf.closeSequence, "close-sequence", "", "knocks that close the door again (knock NAME --close; knock ssh after ssh exits)")
	f.BoolVar(&pf.allowRepeats, "allow-repeats", false, "profile export --knockd writes Allow_Repeats = yes (a repeated knock does not break the door)")
	f.BoolVar(&pf.spa, "spa", false, "an fwknop SPA profile: one packet (with --access and --key-gen or --spa-key-file)")
	f.StringVar(&pf.spaAccess, "access", "", "SPA: what to open, proto/port comma-separated (fwknop's ACCESS), e.g. tcp/22")
	f.StringVar(&pf.spaKeyFile, "spa-key-file", "", "SPA: a 0600 file of base64 key material (or fwknop --key-gen lines)")
	f.StringVar(&pf.spaHMACKeyFile, "spa-hmac-key-file", "", "SPA: the HMAC key's file, the same way")
	f.StringVar(&pf.spaAllowIP, "allow-ip", "", "SPA, required: source (the packet's: whoever captures it first can use it), resolve (our public address, of the family the packet goes over), or an IP address (IPv6: knockd takes it, fwknopd does not)")
	f.Uint16Var(&pf.spaPort, "server-port", 0, "SPA: fwknopd's port (default 62201)")
	f.StringVar(&pf.spaProto, "server-proto", "", "SPA: udp (default) or tcp")
	f.IntVar(&pf.spaFWTimeout, "fw-timeout", 0, "SPA: seconds the door stays open (default: the server's)")
	f.StringVar(&pf.description, "description", "", "free text shown by profile list and completion")
	f.StringVar(&pf.user, "user", "", "user name for ssh")
	f.StringVar(&pf.secret, "secret", "", "time-based: the door's base32 secret (instead of --sequence)")
	f.StringVar(&pf.secretFile, "secret-file", "", "time-based: a file (mode 0600) holding the base32 secret")
	f.StringVar(&pf.period, "period", "", "time-based: window length, e.g. 30s (default 30s)")
	f.IntVar(&pf.length, "length", 0, "time-based: knocks per sequence (default 4)")
	f.StringVar(&pf.ports, "ports", "", "time-based: port range, e.g. 10000-65000 (the default)")
	f.StringVar(&pf.protocol, "protocol", "", "time-based: tcp (default), udp or both")
}

// splitList splits "7000,8000:udp 9000" at commas and white space.
func splitList(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' })
}

func (pf *profileFlags) profile() (profiles.Profile, error) {
	p := profiles.Profile{
		Host: pf.host, Sequence: splitList(pf.sequence), CloseSequence: splitList(pf.closeSequence), AllowRepeats: pf.allowRepeats,
		Description: pf.description, User: pf.user,
		Secret: pf.secret, SecretFile: pf.secretFile, Length: pf.length, Ports: pf.ports, Protocol: pf.protocol,
	}
	if pf.spa {
		p.SPA = &profiles.SPA{Access: pf.spaAccess, KeyFile: pf.spaKeyFile, HMACKeyFile: pf.spaHMACKeyFile,
			AllowIP: pf.spaAllowIP, ServerPort: pf.spaPort, ServerProto: pf.spaProto, FWTimeout: pf.spaFWTimeout}
	} else if pf.spaAccess != "" || pf.spaKeyFile != "" || pf.spaHMACKeyFile != "" || pf.spaAllowIP != "" || pf.spaPort != 0 || pf.spaProto != "" || pf.spaFWTimeout != 0 {
		return p, usagef("--access, --spa-key-file, --allow-ip, --server-port, --server-proto and --fw-timeout are for --spa profiles")
	}
	if pf.period != "" {
		d, perr := time.ParseDuration(pf.period)
		if perr != nil || d <= 0 {
			return p, usagef("--period %q: want a duration such as 30s", pf.period)
		}
		p.Period = profiles.Duration(d)
	}
	for _, o := range profiles.KnockOptions() {
		if fl := pf.cmd.Flags().Lookup(o.Flag()); o.InProfile() && fl != nil && fl.Changed {
			v, err := o.Parse(fl.Value.String())
			if err != nil {
				return p, usagef("--%s: %v", o.Flag(), err)
			}
			o.SetProfile(&p, v)
		}
	}
	return p, nil
}

func newProfileAddCmd(a *app) *cobra.Command {
	var (
		pf     profileFlags
		force  bool
		totp   bool
		keyGen bool
		qr     bool
	)
	cmd := &cobra.Command{
		Use:   "add NAME --host HOST (--sequence PORT[,PORT...] | --totp | --secret S | --spa --access tcp/22 --allow-ip source --key-gen) [flags]",
		Short: "Save a profile",
		Example: "  knock profile add ssh-prod --host prod.example.com --sequence 7000,8000:udp,9000:tcp:fin --delay 100ms --user admin\n" +
			"  knock profile add vault --host vault.example.com --totp   # prints the matching knockd.conf door\n" +
			"  knock profile add vault --host vault.example.com --spa --access tcp/22 --allow-ip source --key-gen   # prints the access.conf stanza\n" +
			"  knock profile add vault --host vault.example.com --spa --access tcp/22 --allow-ip source --key-gen --qr   # and the keys for a phone",
		Args: exactArgs(1, "NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := args[0]
			if err := profiles.ValidateName(name, reservedNames(cmd)); err != nil {
				return usageError{err}
			}
			if totp {
				if pf.sequence != "" || pf.secret != "" || pf.secretFile != "" {
					return usagef("--totp makes a new secret: it excludes --sequence, --secret and --secret-file")
				}
				secret := make([]byte, 20)
				if _, err := crand.Read(secret); err != nil {
					return err
				}
				pf.secret = knock.EncodeSecret(secret)
			}
			if pf.host == "" || (pf.sequence == "" && pf.secret == "" && pf.secretFile == "" && !pf.spa) {
				return usagef("profile add needs --host and --sequence (or --totp, --secret, --secret-file, --spa)")
			}
			if keyGen && !pf.spa {
				return usagef("--key-gen makes SPA keys: give --spa too")
			}
			if qr && !keyGen {
				return usagef("--qr shows new keys for a phone: give --spa --key-gen too")
			}
			if pf.spa && pf.spaAllowIP == "" {
				// As fwknop, which sends nothing without -s, -a or -R.
				return usagef("--spa needs --allow-ip: source (the packet's source, sent as 0.0.0.0: whoever captures the packet first can use it), resolve (our public address), or an address")
			}
			p, err := pf.profile()
			if err != nil {
				return err
			}
			if keyGen {
				if pf.spaKeyFile != "" || pf.spaHMACKeyFile != "" {
					return usagef("--key-gen makes new keys: it excludes --spa-key-file and --spa-hmac-key-file")
				}
				key, hkey, err := spa.NewKeys(crand.Reader)
				if err != nil {
					return err
				}
				p.SPA.KeyBase64 = base64.StdEncoding.EncodeToString(key)
				p.SPA.HMACKeyBase64 = base64.StdEncoding.EncodeToString(hkey)
			}
			verb, path := "saved", ""
			err = a.store().Update(func(f *profiles.File) error {
				if _, exists := f.Profiles[name]; exists && !force {
					return fmt.Errorf("profile %q already exists in %s (replace it with --force, or change it with profile edit)", name, f.Path)
				} else if exists {
					verb = "replaced"
				}
				path = f.Path
				return f.Put(name, p)
			})
			if err != nil {
				return err
			}
			if !totp && !keyGen {
				fmt.Fprintf(a.streams.Err, "profile %q %s in %s: knock %s\n", name, verb, path, name)
				return nil
			}
			if keyGen {
				stanza, err := transfer.ExportFwknopd(name, p)
				if err != nil {
					return err
				}
				fmt.Fprintf(a.streams.Err, "profile %q saved with new keys; add this stanza to the server's /etc/fwknop/access.conf:\n", name)
				if _, err = fmt.Fprint(a.streams.Out, stanza); err != nil || !qr {
					return err
				}
				keys, err := transfer.PhoneKeys(name, p)
				if err != nil {
					return err
				}
				return qrterm.ShowKeys(a.streams.Err, keys)
			}
			door, err := transfer.ExportKnockd(name, p)
			if err != nil {
				return err
			}
			fmt.Fprintf(a.streams.Err, "profile %q saved with a new secret; add this door to the server's knockd.conf:\n", name)
			_, err = fmt.Fprint(a.streams.Out, door)
			return err
		},
	}
	pf.register(cmd)
	cmd.Flags().BoolVar(&force, "force", false, "replace a profile of the same name")
	cmd.Flags().BoolVar(&totp, "totp", false, "time-based: generate a secret, save it, and print the matching knockd.conf door")
	cmd.Flags().BoolVar(&keyGen, "key-gen", false, "SPA: generate keys (as fwknop --key-gen), save them, and print the matching access.conf stanza")
	cmd.Flags().BoolVar(&qr, "qr", false, "with --key-gen: also show the keys as a QR code for Fwknop2 (fwknop's Android client) to scan")
	return cmd
}

func newProfileListCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List the profiles: name, host, sequence",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f, err := a.load()
			if err != nil {
				return err
			}
			if len(f.Profiles) == 0 {
				fmt.Fprintf(a.streams.Err, "no profiles in %s (add one with: knock profile add NAME --host HOST --sequence 7000,8000)\n", f.Path)
				return nil
			}
			w := tabwriter.NewWriter(a.streams.Out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "NAME\tHOST\tSEQUENCE\tDESCRIPTION")
			for _, n := range f.Names() {
				p, _ := f.Resolve(n)
				seq := strings.Join(p.Sequence, ",")
				switch {
				case p.SPA != nil:
					seq = "spa " + p.SPA.Access
				case p.TimeBased():
					seq = "time-based"
				}
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", n, p.Host, seq, p.Description)
			}
			return w.Flush()
		},
	}
}

func newProfileShowCmd(a *app) *cobra.Command {
	var showSecrets bool
	cmd := &cobra.Command{
		Use:               "show [--show-secrets] NAME",
		Short:             "Print a profile as YAML (keys hidden unless --show-secrets)",
		Args:              exactArgs(1, "NAME"),
		ValidArgsFunction: a.completeProfiles(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			f, err := a.load()
			if err != nil {
				return err
			}
			p, ok := f.Profiles[args[0]]
			if !ok {
				return f.NotFound(args[0])
			}
			if !showSecrets {
				p = p.WithoutSecrets()
			}
			out, err := profiles.MarshalProfile(args[0], p)
			if err != nil {
				return err
			}
			_, err = a.streams.Out.Write(out)
			return err
		},
	}
	cmd.Flags().BoolVar(&showSecrets, "show-secrets", false, "print keys and secrets too")
	return cmd
}

func newProfileRmCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:               "rm NAME...",
		Aliases:           []string{"remove"},
		Short:             "Remove profiles",
		Args:              minArgs(1, "NAME"),
		ValidArgsFunction: a.completeProfiles(-1),
		RunE: func(cmd *cobra.Command, args []string) error {
			path := ""
			err := a.store().Update(func(f *profiles.File) error {
				for _, n := range args {
					if err := f.Remove(n); err != nil {
						return err
					}
				}
				path = f.Path
				return nil
			})
			if err == nil {
				fmt.Fprintf(a.fileMessages(), "removed %d profile(s) from %s: %s\n", len(args), path, strings.Join(args, ", "))
			}
			return err
		},
	}
}

func newProfileRenameCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:               "rename OLD NEW",
		Aliases:           []string{"mv"},
		Short:             "Rename a profile",
		Args:              exactArgs(2, "OLD NEW"),
		ValidArgsFunction: a.completeProfiles(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := profiles.ValidateName(args[1], reservedNames(cmd)); err != nil {
				return usageError{err}
			}
			return a.store().Update(func(f *profiles.File) error { return f.Rename(args[0], args[1]) })
		},
	}
}

func newProfileEditCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "edit NAME",
		Short: "Edit a profile in $VISUAL or $EDITOR; it is validated before it is saved",
		Long: `Open the profile in $VISUAL, else $EDITOR, else vi, and save it when the
editor exits. An edit that does not validate is not saved; the edited copy is
kept and its path printed, so nothing typed is lost.`,
		Args:              exactArgs(1, "NAME"),
		ValidArgsFunction: a.completeProfiles(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := args[0]
			f, err := a.load()
			if err != nil {
				return err
			}
			p, ok := f.Profiles[name]
			if !ok {
				return f.NotFound(name)
			}
			before, err := profiles.MarshalProfile(name, p)
			if err != nil {
				return err
			}
			tmp, err := os.CreateTemp("", "knock-profile-"+name+"-*.yaml")
			if err != nil {
				return err
			}
			path := tmp.Name()
			_, werr := tmp.Write(before)
			if err := errors.Join(werr, tmp.Close()); err != nil {
				os.Remove(path)
				return err
			}
			if err := runEditor(path, a.streams); err != nil {
				os.Remove(path)
				return err
			}
			after, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			if bytes.Equal(before, after) {
				os.Remove(path)
				fmt.Fprintf(a.streams.Err, "profile %q unchanged\n", name)
				return nil
			}
			err = saveEdit(a, name, path, after)
			if err != nil {
				return fmt.Errorf("%w\nnot saved; your edit is kept in %s", err, path)
			}
			os.Remove(path)
			return nil
		},
	}
}

func saveEdit(a *app, name, path string, data []byte) error {
	newName, p, err := profiles.ParseProfile(path, data)
	if err != nil {
		return err
	}
	if newName != name {
		return fmt.Errorf("%s: the profile's name changed from %q to %q; use knock profile rename for that", path, name, newName)
	}
	return a.store().Update(func(f *profiles.File) error {
		if _, ok := f.Profiles[name]; !ok {
			return fmt.Errorf("profile %q was removed while you edited it", name)
		}
		return f.Put(name, p)
	})
}

// runEditor runs the user's editor on path. The editor setting may carry
// arguments ("code --wait"); it is split on spaces, not given to a shell.
func runEditor(path string, s *streams) error {
	editor := os.Getenv("VISUAL")
	if editor == "" {
		editor = os.Getenv("EDITOR")
	}
	if editor == "" {
		editor = defaultEditor
	}
	words := strings.Fields(editor)
	c := exec.Command(words[0], append(words[1:], path)...)
	c.Stdin, c.Stdout, c.Stderr = os.Stdin, s.Out, s.Err
	if err := c.Run(); err != nil {
		return fmt.Errorf("editor %q: %w", editor, err)
	}
	return nil
}

func exactArgs(n int, names string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return usagef("%s wants %s, got %d argument(s)", cmd.CommandPath(), names, len(args))
		}
		return nil
	}
}

func minArgs(n int, names string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) < n {
			return usagef("%s wants at least %d %s", cmd.CommandPath(), n, names)
		}
		return nil
	}
}
