package knockcmd

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/knocktools/knock/profiles"
	"github.com/knocktools/knock/server/config"
)

func newProfileExportCmd(a *app) *cobra.Command {
	var asKnockd bool
	cmd := &cobra.Command{
		Use:               "export NAME --knockd",
		Short:             "Print the knockd.conf door that a profile's knock opens",
		Args:              exactArgs(1, "NAME"),
		ValidArgsFunction: a.completeProfiles(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !asKnockd {
				return usagef("say which format: --knockd")
			}
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
		},
	}
	cmd.Flags().BoolVar(&asKnockd, "knockd", false, "as a knockd.conf door (the only format)")
	return cmd
}

func newProfileImportCmd(a *app) *cobra.Command {
	var (
		file, host string
		force      bool
	)
	cmd := &cobra.Command{
		Use:   "import --knockd FILE --host HOST",
		Short: "Make one profile per door of a knockd.conf",
		Long: `Read a knockd.conf and save one profile per door, named after the door, knocking
HOST with the door's sequence and the TCP flags its TCPFlags requires. Doors
that use One_Time_Sequences are skipped with a warning. A door whose commands
undo another's (iptables -D of the rule another door adds with -A or -I,
knockd fw close against open, ufw delete allow against allow, firewall-cmd
--remove-* against --add-*) becomes that profile's close_sequence, and each
pair made is named.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if file == "" || host == "" {
				return usagef("profile import needs --knockd FILE and --host HOST")
			}
			if err := profiles.ValidateHost(host); err != nil {
				return usagef("--host %q: %v", host, err)
			}
			conf, err := config.Load(file)
			if err != nil {
				return err
			}
			reserved := reservedNames(cmd)
			closeOf := map[*config.Door]*config.Door{}
			closing := map[*config.Door]bool{}
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
						fmt.Fprintf(a.streams.Err, "knock: warning: %s:%d: skipped: %v\n", file, d.Line, err)
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
				fmt.Fprintf(a.streams.Err, "paired as a close sequence: %s\n", pr)
			}
			fmt.Fprintf(a.streams.Err, "imported %d profile(s): %s\n", len(imported), strings.Join(imported, ", "))
			return nil
		},
	}
	cmd.Flags().StringVar(&file, "knockd", "", "knockd.conf to read")
	cmd.Flags().StringVar(&host, "host", "", "host the profiles knock")
	cmd.Flags().BoolVar(&force, "force", false, "replace profiles of the same names")
	return cmd
}
