package knockdcmd

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/knocktools/knock/firewall"
	"github.com/knocktools/knock/knockdconf"
)

// fwOptions are the flags of knockd fw open|close|list.
type fwOptions struct {
	src, proto, chain, comment, backend string
	port                                int
	dryRun, noEstablished               bool
}

func newFWCmd(stdout io.Writer) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "fw",
		Short: "Open and close firewall holes for knockers, idempotently (nftables or iptables)",
		Long: `Open and close the holes a door's commands make, without piling up rules:

    start_command = /usr/sbin/knockd fw open  --src %IP% --port 22
    stop_command  = /usr/sbin/knockd fw close --src %IP% --port 22

open adds an accept rule unless it is already there; close removes every
copy and succeeds when there is none. The rules carry a comment (default
"knockd") that marks them as ours; nothing else in the ruleset is touched.
IPv6 sources go to ip6tables or ip6 rules.

open also makes sure one rule accepts established and related connections
(comment "knockd-established"), added once, shared by every door, left in
place by close and shown by list: without it, closing the door would cut
the ssh session it let in. --no-established leaves it out (when the
firewall already keeps established connections).

With nftables the rules live in a table of their own, inet knockd, chain
input (hook input, priority filter-10, policy accept), at its top. nftables
runs every base chain, so close the guarded port in that same chain (e.g.
nft add rule inet knockd input tcp dport 22 drop); with iptables, rules go at
the top of the chain (default INPUT), before the rule that drops the port.`,
	}
	cmd.AddCommand(fwRuleCmd("open", stdout), fwRuleCmd("close", stdout), fwListCmd(stdout))
	return cmd
}

func (o *fwOptions) flags(cmd *cobra.Command, rule bool) {
	f := cmd.Flags()
	if rule {
		f.StringVar(&o.src, "src", "", "the knocker's address (%IP% in a door command)")
		f.IntVar(&o.port, "port", 0, "the port to open or close")
		f.StringVar(&o.proto, "proto", "tcp", "tcp or udp")
		f.BoolVar(&o.dryRun, "dry-run", false, "print the commands instead of running them")
	}
	f.StringVar(&o.chain, "chain", "", "chain (default INPUT for iptables, input for nftables)")
	f.StringVar(&o.comment, "comment", firewall.DefaultComment, "the comment that marks our rules")
	f.StringVar(&o.backend, "backend", "auto", "auto (the firewall that filters this host's input: iptables when its INPUT chain has rules, else nftables when it has tables of its own; refused under firewalld, ufw and fw4), nftables or iptables")
}

func (o *fwOptions) open(stdout io.Writer) (firewall.Backend, error) {
	var run firewall.Runner = firewall.Exec{}
	if o.dryRun {
		run = &dryRunner{w: stdout, deleted: map[string]bool{}}
	}
	b, err := firewall.New(o.backend, run, firewall.Exec{})
	if err != nil {
		return nil, err
	}
	if o.chain == "" {
		o.chain = firewall.DefaultChain
		if b.Name() == "nftables" {
			o.chain = "input"
		}
	}
	return b, nil
}

func fwRuleCmd(verb string, stdout io.Writer) *cobra.Command {
	o := &fwOptions{}
	cmd := &cobra.Command{
		Use:   verb + " --src IP --port N [--proto tcp|udp] [--chain C] [--comment TEXT] [--backend B] [--dry-run]",
		Short: map[string]string{"open": "Accept a knocker on a port (once, however often it knocks)", "close": "Remove every rule of ours for a knocker and port"}[verb],
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			src, err := firewall.ParseSource(o.src)
			if err != nil {
				return err
			}
			if o.port < 1 || o.port > 65535 {
				return fmt.Errorf("%w: port %d out of range 1-65535", firewall.ErrInvalid, o.port)
			}
			b, err := o.open(stdout)
			if err != nil {
				return err
			}
			r := firewall.Rule{Src: src, Port: uint16(o.port), Proto: strings.ToLower(o.proto), Chain: o.chain, Comment: o.comment}
			if err := r.Validate(); err != nil {
				return err
			}
			// Door commands' output goes to knockd's log: say what was
			// done where.
			what := fmt.Sprintf("knockd fw: %s: %s/%d for %s", b.Name(), r.Proto, r.Port, r.Src)
			if verb == "open" {
				added, err := b.Open(r)
				if err == nil && !o.noEstablished {
					_, err = b.Established(r)
				}
				if err != nil {
					return fmt.Errorf("%s: not opened: %w", what, err)
				}
				fmt.Fprintf(stdout, "%s: open (%s)\n", what, map[bool]string{true: "rule added", false: "rule already there"}[added])
				return nil
			}
			n, err := b.Close(r)
			if err != nil {
				return fmt.Errorf("%s: %w", what, err)
			}
			fmt.Fprintf(stdout, "%s: closed (%d rule(s) removed)\n", what, n)
			return nil
		},
	}
	o.flags(cmd, true)
	if verb == "open" {
		cmd.Flags().BoolVar(&o.noEstablished, "no-established", false, "do not add the rule that keeps established connections (and so the sessions a door let in) through when the door closes")
	}
	return cmd
}

func fwListCmd(stdout io.Writer) *cobra.Command {
	o := &fwOptions{}
	cmd := &cobra.Command{
		Use:   "list [--backend B] [--chain C] [--comment TEXT]",
		Short: "Show the rules knockd fw manages",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			b, err := o.open(stdout)
			if err != nil {
				return err
			}
			if err := firewall.ValidateNames(o.chain, o.comment); err != nil {
				return err
			}
			rules, err := b.List(o.chain, o.comment)
			for _, r := range rules {
				fmt.Fprintln(stdout, r)
			}
			return err
		},
	}
	o.flags(cmd, false)
	return cmd
}

// dryRunner prints each command instead of running it. A check for an
// existing rule reports none, so the insert that follows is printed too,
// and a delete succeeds once, so close prints it once.
type dryRunner struct {
	w       io.Writer
	deleted map[string]bool
}

func (d *dryRunner) Run(name string, args ...string) (string, string, error) {
	line := name + " " + strings.Join(args, " ")
	notFound := errors.New("exit status 1")
	for _, a := range args {
		switch {
		case a == "-C":
			fmt.Fprintln(d.w, line)
			return "", "Bad rule (does a matching rule exist in that chain?)", notFound
		case a == "-D" && d.deleted[line]:
			return "", "Bad rule (does a matching rule exist in that chain?)", notFound
		case a == "-D":
			d.deleted[line] = true
		}
	}
	fmt.Fprintln(d.w, line)
	return "", "", nil
}

// fwAutoWarnings are --check's warnings for the doors whose commands call
// knockd fw in auto mode, when what auto would pick is not clear-cut:
// several firewalls (or none) hold rules, a firewall manager refuses it,
// or --check lacks the privilege to look. run lists the rules.
func fwAutoWarnings(cfg *knockdconf.Config, run firewall.Runner) []string {
	var doors []string
	for _, d := range cfg.Doors {
		for _, c := range doorCommands(d) {
			if strings.Contains(c.cmd, "knockd fw ") && !strings.Contains(c.cmd, "--backend") {
				doors = append(doors, d.Name)
				break
			}
		}
	}
	if len(doors) == 0 {
		return nil
	}
	_, why := autoDoubt(run)
	if why == "" {
		return nil
	}
	var out []string
	for _, d := range doors {
		out = append(out, fmt.Sprintf("door [%s] calls knockd fw without --backend, and %s; give --backend to be sure", d, why))
	}
	return out
}

// autoDoubt is what firewall auto mode would use on this host, and why
// that is in doubt ("" when it is not): --check cannot look, auto refuses
// the host, or more than one firewall (or none) holds rules. knockd fw's
// auto mode and the built-in firewall's share it.
func autoDoubt(run firewall.Runner) (backend, why string) {
	c, err := firewall.Detect(run)
	switch {
	case err != nil:
		return "", fmt.Sprintf("--check cannot tell which firewall it would use: %v", err)
	case c.Refused != nil:
		return "", fmt.Sprintf("its auto mode refuses this host: %v", c.Refused)
	case c.Ambiguous:
		return c.Backend, fmt.Sprintf("the choice is not clear-cut: it would use %s (%s)", c.Backend, c.Reason)
	}
	return c.Backend, ""
}

// shellWords are what a door command may start with that is no program:
// the shell's builtins and keywords.
var shellWords = map[string]bool{
	"!": true, ":": true, "{": true, "}": true, "(": true, ")": true, "[": true, "[[": true, "break": true, "case": true,
	"cd": true, "command": true, "continue": true, "do": true, "done": true, "echo": true, "elif": true, "else": true,
	"esac": true, "eval": true, "exec": true, "exit": true, "export": true, "false": true, "fi": true, "for": true,
	"if": true, "local": true, "printf": true, "read": true, "return": true, "set": true, "shift": true, "test": true,
	"then": true, "trap": true, "true": true, "umask": true, "unset": true, "wait": true, "while": true,
}

// missingPrograms are --check's warnings for door commands that run a
// program this host does not have (a typo, or a package not installed):
// the first word of each part of each command (split at ; & | and
// newlines), past variable assignments and shell builtins; words the
// shell computes ($VAR, $(...), %IP%) are left alone. lookPath finds a
// program.
func missingPrograms(cfg *knockdconf.Config, lookPath func(string) (string, error)) []string {
	var out []string
	for _, d := range cfg.Doors {
		seen := map[string]bool{}
		for _, c := range doorCommands(d) {
			for _, part := range strings.FieldsFunc(c.cmd, func(r rune) bool { return strings.ContainsRune(";&|\n", r) }) {
				words := strings.Fields(part)
				for len(words) > 0 && strings.Contains(words[0], "=") && !strings.HasPrefix(words[0], "=") {
					words = words[1:] // VAR=value
				}
				if len(words) == 0 || seen[words[0]] {
					continue
				}
				prog := words[0]
				seen[prog] = true
				if shellWords[prog] || strings.ContainsAny(prog, "$`%\"'*?") {
					continue
				}
				if _, err := lookPath(prog); err != nil {
					out = append(out, fmt.Sprintf("door [%s] %s runs %s, which this host does not have (%v)", d.Name, c.name, prog, err))
				}
			}
		}
	}
	return out
}

// doorCommand is one of a door's commands, by its directive.
type doorCommand struct{ name, cmd string }

// doorCommands are the commands a door runs, for IPv4 and IPv6 knockers.
func doorCommands(d *knockdconf.Door) []doorCommand {
	return []doorCommand{{"start_command", d.Start(false)}, {"start_command_6", d.Start(true)},
		{"stop_command", d.Stop(false)}, {"stop_command_6", d.Stop(true)}}
}
