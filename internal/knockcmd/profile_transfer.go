package knockcmd

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/knocktools/knock/profiles"
	"github.com/knocktools/knock/transfer"
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
			case asFwknopd || asKnockd:
				format, export := "--knockd", transfer.ExportKnockd
				if asFwknopd {
					format, export = "--fwknopd", transfer.ExportFwknopd
				}
				if len(args) != 1 {
					return usagef("profile export %s wants one NAME, got %d", format, len(args))
				}
				p, err := a.profile(args[0])
				if err != nil {
					return err
				}
				text, err := export(args[0], p)
				if err != nil {
					return err
				}
				_, err = fmt.Fprint(a.streams.Out, text)
				return err
			}
			f, err := a.load()
			if err != nil {
				return err
			}
			if len(args) == 0 {
				args = f.Names()
			}
			var list []transfer.NamedProfile
			for _, name := range args {
				p, err := f.Get(name)
				if err != nil {
					return err
				}
				list = append(list, transfer.NamedProfile{Name: name, Profile: p})
			}
			out, err := transfer.ExportKnockOnPorts(list)
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
		o                           transfer.Options
	)
	cmd := &cobra.Command{
		Use:   "import (--knockd FILE --host HOST | --knockonports FILE | --fwknoprc FILE)",
		Short: "Make profiles of a knockd.conf's doors, a Knock on Ports export or a ~/.fwknoprc",
		Long: `--knockd reads a knockd.conf and saves one profile per door, named after the
door, knocking HOST with the door's sequence and the TCP flags its TCPFlags
requires. A door whose commands undo another's (iptables -D of the rule
another door adds with -A or -I, knockd fw close against open, ufw delete
allow against allow, firewall-cmd --remove-* against --add-*) becomes that
profile's close_sequence, and each pair made is named. Doors that use
One_Time_Sequences or Sequence_Secret cannot be profiles.

--knockonports reads the export of the Knock on Ports Android app (its v1
file, or the legacy array) and saves one profile per sequence, UDP payloads
included (a sequence with an ICMP step, which knock cannot send, cannot);
names that are not valid profile names are made valid and reported.

--fwknoprc reads fwknop's client settings and saves one SPA profile per
stanza (SPA_SERVER is the host; [default] applies to every stanza). A
stanza that cannot be mapped (GnuPG, local NAT, spoofed sources, modes
other than cbc and legacy) cannot be a profile; the directives that change
nothing here are named.

Every import saves what maps and names each item it skips, with its file,
line and why (a profile of the same name is kept unless --force). It exits
1 only when nothing was imported; with --strict, when anything was skipped,
and then it saves nothing.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var (
				items []transfer.Item
				unit  string
				err   error
			)
			o.Reserved = reservedNames(cmd)
			switch {
			case btoi(file != "")+btoi(kopFile != "")+btoi(rcFile != "") > 1:
				return usagef("profile import reads one file: --knockd, --knockonports or --fwknoprc")
			case rcFile != "" && host != "":
				return usagef("--host is for --knockd: a fwknoprc stanza names its SPA_SERVER")
			case kopFile != "" && host != "":
				return usagef("--host is for --knockd: a Knock on Ports sequence names its own host")
			case rcFile != "":
				unit = "stanza"
				items, err = readItems(rcFile, o.Reserved, transfer.FromFwknoprc)
			case kopFile != "":
				unit = "sequence"
				items, err = readItems(kopFile, o.Reserved, transfer.FromKnockOnPorts)
			case file == "" || host == "":
				return usagef("profile import needs --knockd FILE and --host HOST, --knockonports FILE or --fwknoprc FILE")
			default:
				unit = "door"
				if err = profiles.ValidateHost(host); err != nil {
					return usagef("--host %q: %v", host, err)
				}
				items, err = transfer.FromKnockd(file, host, o.Reserved)
			}
			if err != nil {
				return err
			}
			return a.saveImports(items, o, unit)
		},
	}
	cmd.Flags().StringVar(&file, "knockd", "", "knockd.conf to read")
	cmd.Flags().StringVar(&host, "host", "", "host the profiles knock (with --knockd)")
	cmd.Flags().StringVar(&kopFile, "knockonports", "", "Knock on Ports export file to read")
	cmd.Flags().StringVar(&rcFile, "fwknoprc", "", "fwknop client settings to read (~/.fwknoprc)")
	cmd.Flags().BoolVar(&o.Force, "force", false, "replace profiles of the same names")
	cmd.Flags().BoolVar(&o.Strict, "strict", false, "all or nothing: save no profile when any item cannot be imported")
	return cmd
}

// readItems reads file and makes its items.
func readItems(file string, reserved []string, from func(string, []byte, []string) ([]transfer.Item, error)) ([]transfer.Item, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	return from(file, data, reserved)
}

// saveImports saves the items under transfer.Apply's policy and says
// what it did, each line escaped (names come from the file).
func (a *app) saveImports(items []transfer.Item, o transfer.Options, unit string) error {
	var report transfer.Report
	err := a.store().Update(func(f *profiles.File) (err error) {
		report, err = transfer.Apply(f, items, o, unit)
		return err
	})
	for _, l := range report.Lines {
		fmt.Fprintf(a.fileMessages(), "knock: %s\n", l)
	}
	if err != nil {
		return err
	}
	fmt.Fprintln(a.fileMessages(), report.Summary())
	return nil
}
