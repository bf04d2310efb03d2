package knockcmd

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/knocktools/knock/knockdconf"
	"github.com/knocktools/knock/profiles"
)

// profile export and import: knockd.conf doors and Knock on Ports files.

func newProfileExportCmd(a *app) *cobra.Command {
	var asKnockd, asKOP, asFwknopd bool
	cmd := &cobra.Command{
		Use:   "export (NAME --knockd | NAME --fwknopd | [NAME...] --knockonports)",
		Short: "Print a profile's knockd.conf door, or profiles as a Knock on Ports file",
		Long: `--knockd prints the knockd.conf door (and close door) that a profile's knock
opens. --knockonports prints the named profiles (all by default) as a file
the Knock on Ports Android app imports (its v1 format).`,
		ValidArgsFunction: a.completeProfiles(-1),
		RunE: func(cmd *cobra.Command, args []string) error {
			switch n := btoi(asKnockd) + btoi(asKOP) + btoi(asFwknopd); {
			case n != 1:
				return usagef("say which format: --knockd, --fwknopd or --knockonports")
			case asFwknopd && len(args) != 1:
				return usagef("profile export --fwknopd wants one NAME, got %d", len(args))
			case asFwknopd:
				p, err := a.profile(args[0])
				if err != nil {
					return err
				}
				stanza, err := profiles.ExportFwknopd(args[0], p)
				if err != nil {
					return err
				}
				_, err = fmt.Fprint(a.streams.Out, stanza)
				return err
			case asKnockd && len(args) != 1:
				return usagef("profile export --knockd wants one NAME, got %d", len(args))
			case asKnockd:
				p, err := a.profile(args[0])
				if err != nil {
					return err
				}
				door, err := profiles.ExportKnockd(args[0], p)
				if err != nil {
					return err
				}
				_, err = fmt.Fprint(a.streams.Out, door)
				return err
			}
			f, err := a.load()
			if err != nil {
				return err
			}
			if len(args) == 0 {
				args = f.Names()
			}
			var list []profiles.NamedProfile
			for _, name := range args {
				p, err := f.Get(name)
				if err != nil {
					return err
				}
				list = append(list, profiles.NamedProfile{Name: name, Profile: p})
			}
			out, err := profiles.ExportKnockOnPorts(list)
			if err != nil {
				return err
			}
			_, err = a.streams.Out.Write(out)
			return err
		},
	}
	cmd.Flags().BoolVar(&asKnockd, "knockd", false, "as a knockd.conf door")
	cmd.Flags().BoolVar(&asKOP, "knockonports", false, "as a Knock on Ports (Android app) export file")
	cmd.Flags().BoolVar(&asFwknopd, "fwknopd", false, "an SPA profile as a stanza of fwknopd's access.conf (it holds the keys)")
	return cmd
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func newProfileImportCmd(a *app) *cobra.Command {
	var (
		file, kopFile, rcFile, host string
		force                       bool
	)
	cmd := &cobra.Command{
		Use:   "import (--knockd FILE --host HOST | --knockonports FILE | --fwknoprc FILE)",
		Short: "Make profiles of a knockd.conf's doors, a Knock on Ports export or a ~/.fwknoprc",
		Long: `--knockd reads a knockd.conf and saves one profile per door, named after the
door, knocking HOST with the door's sequence and the TCP flags its TCPFlags
requires. Doors that use One_Time_Sequences are skipped with a warning. A door
whose commands undo another's (iptables -D of the rule another door adds with
-A or -I, knockd fw close against open, ufw delete allow against allow,
firewall-cmd --remove-* against --add-*) becomes that profile's
close_sequence, and each pair made is named.

--knockonports reads the export of the Knock on Ports Android app (its v1
file, or the legacy array) and saves one profile per sequence, UDP payloads
included. A sequence with an ICMP step, which knock cannot send, is refused
with its name and step while the others are imported (the exit status is
then 1); names that are not valid profile names are made valid and
reported.

--fwknoprc reads fwknop's client settings and saves one SPA profile per
stanza (SPA_SERVER is the host; [default] applies to every stanza). A
stanza that cannot be mapped (GnuPG, local NAT, spoofed sources, modes
other than cbc and legacy) is refused with its file and line, the others
are saved; the directives that change nothing here are named.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			switch {
			case btoi(file != "")+btoi(kopFile != "")+btoi(rcFile != "") > 1:
				return usagef("profile import reads one file: --knockd, --knockonports or --fwknoprc")
			case rcFile != "":
				if host != "" {
					return usagef("--host is for --knockd: a fwknoprc stanza names its SPA_SERVER")
				}
				return a.importFwknoprc(cmd, rcFile, force)
			case kopFile != "":
				if host != "" {
					return usagef("--host is for --knockd: a Knock on Ports sequence names its own host")
				}
				return a.importKnockOnPorts(cmd, kopFile, force)
			case file == "" || host == "":
				return usagef("profile import needs --knockd FILE and --host HOST, or --knockonports FILE")
			}
			return a.importKnockd(cmd, file, host, force)
		},
	}
	cmd.Flags().StringVar(&file, "knockd", "", "knockd.conf to read")
	cmd.Flags().StringVar(&host, "host", "", "host the profiles knock (with --knockd)")
	cmd.Flags().StringVar(&kopFile, "knockonports", "", "Knock on Ports export file to read")
	cmd.Flags().StringVar(&rcFile, "fwknoprc", "", "fwknop client settings to read (~/.fwknoprc)")
	cmd.Flags().BoolVar(&force, "force", false, "replace profiles of the same names")
	return cmd
}

func (a *app) importKnockd(cmd *cobra.Command, file, host string, force bool) error {
	if err := profiles.ValidateHost(host); err != nil {
		return usagef("--host %q: %v", host, err)
	}
	conf, err := knockdconf.Load(file)
	if err != nil {
		return err
	}
	reserved := reservedNames(cmd)
	closeOf := map[*knockdconf.Door]*knockdconf.Door{}
	closing := map[*knockdconf.Door]bool{}
	for _, pair := range profiles.PairCloseDoors(conf.Doors) {
		closeOf[pair.Open], closing[pair.Close] = pair.Close, true
	}
	var imported, paired []string
	err = a.store().Update(func(f *profiles.File) error {
		for _, d := range conf.Doors {
			if closing[d] {
				continue // part of the profile of the door it closes
			}
			p, err := profiles.ImportKnockd(d, host, file)
			if err != nil {
				fmt.Fprintf(a.fileMessages(), "knock: warning: %s:%d: skipped: %v\n", file, d.Line, err)
				continue
			}
			if cl := closeOf[d]; cl != nil {
				p.CloseSequence = profiles.CloseSequenceOf(d, cl)
				if err := p.Validate(false); err != nil {
					return fmt.Errorf("%s:%d: door [%s]: %w", file, cl.Line, cl.Name, err)
				}
				paired = append(paired, fmt.Sprintf("[%s] (line %d) closes [%s] (line %d)", cl.Name, cl.Line, d.Name, d.Line))
			}
			name := profiles.ImportName(d.Name)
			if err := profiles.ValidateName(name, reserved); err != nil {
				return fmt.Errorf("%s:%d: door [%s]: %w", file, d.Line, d.Name, err)
			}
			if _, exists := f.Profiles[name]; exists && !force {
				return fmt.Errorf("%s:%d: door [%s]: profile %q already exists (replace with --force)", file, d.Line, d.Name, name)
			}
			if err := f.Put(name, p); err != nil {
				return err
			}
			imported = append(imported, name)
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, pr := range paired {
		fmt.Fprintf(a.fileMessages(), "paired as a close sequence: %s\n", pr)
	}
	fmt.Fprintf(a.fileMessages(), "imported %d profile(s): %s\n", len(imported), strings.Join(imported, ", "))
	return nil
}

// importItem is one profile an import would save.
type importItem struct {
	what    string // where it comes from, for messages ("FILE: sequence 2 \"x\"")
	orig    string // its name there
	name    string // the profile name it gets
	profile profiles.Profile
	err     error    // set: it cannot be imported
	notes   []string // said once it is saved
}

// saveImports saves the items that can be saved, reporting each one that
// cannot, and fails when any could not. unit names the items in that
// error ("sequence", "stanza").
func (a *app) saveImports(items []importItem, force bool, unit string) error {
	var imported []string
	failed := 0
	err := a.store().Update(func(f *profiles.File) error {
		for _, it := range items {
			if it.err != nil {
				if it.what == "" { // the error says where
					fmt.Fprintf(a.fileMessages(), "knock: %v; not imported\n", it.err)
				} else {
					fmt.Fprintf(a.fileMessages(), "knock: %s: not imported: %v\n", it.what, it.err)
				}
				failed++
				continue
			}
			if it.name != it.orig {
				fmt.Fprintf(a.fileMessages(), "knock: %s: saved as profile %q (a profile name has letters, digits, '-', '_' and '.', and is no subcommand)\n", it.what, it.name)
			}
			if _, exists := f.Profiles[it.name]; exists && !force {
				fmt.Fprintf(a.fileMessages(), "knock: %s: not imported: profile %q already exists (replace with --force)\n", it.what, it.name)
				failed++
				continue
			}
			if err := f.Put(it.name, it.profile); err != nil {
				fmt.Fprintf(a.fileMessages(), "knock: %s: not imported: %v\n", it.what, err)
				failed++
				continue
			}
			for _, n := range it.notes {
				fmt.Fprintf(a.fileMessages(), "knock: %s\n", n)
			}
			imported = append(imported, it.name)
		}
		return nil
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(a.fileMessages(), "imported %d profile(s): %s\n", len(imported), strings.Join(imported, ", "))
	if failed > 0 {
		return errors.New(strconv.Itoa(failed) + " " + unit + "(s) not imported (see above)")
	}
	return nil
}

// importKnockOnPorts saves a profile per sequence of a Knock on Ports
// export. A sequence that cannot be imported is reported and the rest
// are saved; the command then fails.
func (a *app) importKnockOnPorts(cmd *cobra.Command, file string, force bool) error {
	data, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	seqs, err := profiles.ParseKnockOnPorts(file, data)
	if err != nil {
		return err
	}
	reserved := reservedNames(cmd)
	taken := map[string]bool{}
	items := make([]importItem, 0, len(seqs))
	for _, s := range seqs {
		it := importItem{what: fmt.Sprintf("%s: sequence %d %q", file, s.Index, s.Name), orig: s.Name, profile: s.Profile, err: s.Err}
		if s.Err == nil {
			it.name = kopProfileName(s, reserved, taken)
			taken[it.name] = true
			for _, w := range s.Warnings {
				it.notes = append(it.notes, "warning: "+it.what+": "+w)
			}
		}
		items = append(items, it)
	}
	return a.saveImports(items, force, "sequence")
}

// kopProfileName makes a valid profile name, unused by this import, of a
// sequence's name.
func kopProfileName(s profiles.KnockOnPortsSequence, reserved []string, taken map[string]bool) string {
	base := profiles.ImportName(s.Name)
	if base == "" {
		base = "knockonports-" + strconv.Itoa(s.Index)
	}
	if profiles.ValidateName(base, reserved) != nil {
		base += "-kop"
	}
	name := base
	for n := 2; taken[name]; n++ {
		name = base + "-" + strconv.Itoa(n)
	}
	return name
}

// importFwknoprc saves an SPA profile per stanza of a ~/.fwknoprc; a
// stanza that cannot be one is reported and the others are saved.
func (a *app) importFwknoprc(cmd *cobra.Command, file string, force bool) error {
	data, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	stanzas, err := profiles.ParseFwknoprc(file, data)
	if err != nil {
		return err
	}
	reserved := reservedNames(cmd)
	items := make([]importItem, 0, len(stanzas))
	for _, st := range stanzas {
		it := importItem{what: fmt.Sprintf("%s:%d: [%s]", file, st.Line, st.Name), orig: st.Name, profile: st.Profile, err: st.Err}
		if st.Err != nil {
			it.what = "" // the error names file, line and stanza
		} else {
			if it.name = profiles.ImportName(st.Name); profiles.ValidateName(it.name, reserved) != nil {
				it.name += "-spa"
			}
			if len(st.Ignored) > 0 {
				it.notes = append(it.notes, fmt.Sprintf("%s: [%s]: ignored: %s", file, st.Name, strings.Join(st.Ignored, ", ")))
			}
			if !st.Profile.SPA.HasHMAC() {
				it.notes = append(it.notes, fmt.Sprintf("warning: profile %q has no HMAC key: its packets are not authenticated", it.name))
			}
		}
		items = append(items, it)
	}
	return a.saveImports(items, force, "stanza")
}
