package knockcmd

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/knocktools/knock/client"
	"github.com/knocktools/knock/internal/sshconfig"
	"github.com/knocktools/knock/profiles"
)

// selectProfile picks the profile for a connection to host: the one named
// by --profile, else the one called host, else the one whose host is host.
func selectProfile(f *profiles.File, name, host string) (string, profiles.Profile, error) {
	n, p, _, err := selectProfileNote(f, name, host, "pick one with --profile")
	return n, p, err
}

// selectProfileNote is selectProfile, and when several profiles have
// host as their host, a note saying which one it took and how to choose
// (choose).
func selectProfileNote(f *profiles.File, name, host, choose string) (string, profiles.Profile, string, error) {
	if name != "" {
		p, err := f.Get(name)
		return name, p, "", err
	}
	if p, ok := f.Resolve(host); ok {
		return host, p, "", nil
	}
	var matches []string
	for _, n := range f.Names() {
		if p, _ := f.Resolve(n); strings.EqualFold(p.Host, host) {
			matches = append(matches, n)
		}
	}
	if len(matches) > 0 {
		p, _ := f.Resolve(matches[0])
		note := ""
		if len(matches) > 1 {
			note = fmt.Sprintf("profiles %s have host %s; using %s, the first by name (%s)", strings.Join(matches, ", "), host, matches[0], choose)
		}
		return matches[0], p, note, nil
	}
	known := f.Names()
	if len(known) == 0 {
		return "", profiles.Profile{}, "", fmt.Errorf("no profile for %q: %s holds no profiles", host, f.Path)
	}
	return "", profiles.Profile{}, "", fmt.Errorf("no profile is called %q or has it as host in %s (profiles: %s); %s", host, f.Path, strings.Join(known, ", "), choose)
}

// knockProfile sends a profile's knock to host, reporting hits on stderr
// with -v (stdout belongs to the connection). It returns the address it
// knocked: the connection that follows goes there, not to a fresh lookup
// of the name, which may give another address or family whose door is
// still shut.
func (a *app) knockProfile(ctx context.Context, cmd *cobra.Command, name string, p profiles.Profile, host string, verbose bool) (netip.Addr, error) {
	var report func(client.Hit)
	if verbose {
		report = func(h client.Hit) { fmt.Fprintln(a.streams.Err, "knock: hitting "+target(h)) }
	}
	if p.SPA != nil {
		if verbose {
			report = spaReport(func(line string) { fmt.Fprintln(a.streams.Err, "knock: "+line) })
		}
		return a.spaSend(ctx, name, p, host, false, report)
	}
	l, err := layersOf(cmd, name, &p)
	if err != nil {
		return netip.Addr{}, err
	}
	host, seq, o, err := resolveKnock(l, host, nil)
	if err != nil {
		return netip.Addr{}, err
	}
	k := &client.Knocker{Report: report}
	return k.KnockHost(ctx, host, seq, o)
}

func newProxyCmd(a *app) *cobra.Command {
	var (
		profile string
		verbose bool
	)
	cmd := &cobra.Command{
		Use:   "proxy [--profile NAME] HOST PORT",
		Short: "Knock, wait for the door, then carry the connection (ssh's ProxyCommand)",
		Long: `Knock the profile's sequence, connect to HOST:PORT once the door opens, and
copy standard input and output to and from it: for ssh's

    ProxyCommand knock proxy %h %p

The profile is the one named by --profile, else the one called HOST, else the
one whose host is HOST. The connection is retried with short attempts for the
profile's wait (default 10s), knocking once more halfway. Nothing but the
connection goes to standard output; progress (-v) and errors go to standard
error.`,
		Args:              exactArgs(2, "HOST PORT"),
		ValidArgsFunction: a.completeProfiles(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			host := args[0]
			port, err := strconv.ParseUint(args[1], 10, 16)
			if err != nil || port == 0 {
				return usagef("port %q out of range 1-65535", args[1])
			}
			f, err := a.load()
			if err != nil {
				return err
			}
			name, p, note, err := selectProfileNote(f, profile, host, "choose with --profile")
			if err != nil {
				return err
			}
			if note != "" {
				fmt.Fprintf(a.streams.Err, "knock: %s\n", note)
			}
			knocked, err := a.knockProfile(cmd.Context(), cmd, name, p, p.Host, verbose)
			if err != nil {
				return fmt.Errorf("profile %q: %w", name, err)
			}
			// The door opened for the address knocked: connect to it. Only
			// a HOST that is neither the profile's host nor its name (a
			// door that guards another machine) is dialled as given.
			addr := netip.AddrPortFrom(knocked, uint16(port)).String()
			if !strings.EqualFold(host, p.Host) && host != name && !sameAddr(host, knocked) {
				addr = net.JoinHostPort(host, strconv.Itoa(int(port)))
			}
			wait := p.WaitTime()
			if verbose {
				fmt.Fprintf(a.streams.Err, "knock: knocked %s (%s) at %s; waiting up to %v for %s\n", p.Host, knockWhat(p), knocked, wait, addr)
			}
			conn, res, err := client.WaitOpen(cmd.Context(), nil, addr, wait, func() {
				if verbose {
					fmt.Fprintln(a.streams.Err, "knock: knocking again")
				}
				// The same address again, not the name: a second lookup
				// may give another.
				if _, err := a.knockProfile(cmd.Context(), cmd, name, p, knocked.String(), verbose); err != nil {
					fmt.Fprintf(a.streams.Err, "knock: knocking again: %v\n", err)
				}
			})
			if err != nil {
				return fmt.Errorf("profile %q: knocked %s with %s, but %w", name, p.Host, knockWhat(p), err)
			}
			if verbose {
				fmt.Fprintf(a.streams.Err, "knock: %s open after %v (%d attempts)\n", addr, res.Took.Round(time.Millisecond), res.Attempts)
			}
			return client.Pipe(conn, a.streams.In, a.streams.Out)
		},
	}
	cmd.Flags().StringVar(&profile, "profile", "", "the profile to knock")
	cmd.Flags().BoolVarP(&verbose, "verbose", "v", false, "report progress on standard error")
	_ = cmd.RegisterFlagCompletionFunc("profile", a.completeProfiles(-1))
	return cmd
}

// proxyCommand is the ProxyCommand that runs this very binary, with the
// profile file that selected the profile, for profile name. ssh expands
// '%' tokens in it and hands it to a shell, and ssh_config ends it at the
// end of the line: each word is quoted for the shell, its '%' doubled,
// and a control character in a path is refused.
func (a *app) proxyCommand(name string) (string, error) {
	if err := profiles.ValidateName(name, nil); err != nil {
		return "", err
	}
	exe, err := os.Executable()
	if err != nil {
		return "", err
	}
	if resolved, err := filepath.EvalSymlinks(exe); err == nil {
		exe = resolved
	}
	cfg := ""
	if a.configFlag != "" || os.Getenv("KNOCK_CONFIG") != "" {
		if cfg, err = filepath.Abs(a.path()); err != nil {
			return "", err
		}
	}
	return sshconfig.ProxyCommand(exe, cfg, name)
}

// closeTimeout bounds the close knock after ssh: it runs when the user
// is done (or pressed Ctrl-C), so it must not hang.
const closeTimeout = 30 * time.Second

func newSSHCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "ssh [-v] [--no-close] PROFILE [SSH-ARGS...]",
		Short: "Run ssh to a profile's host through knock proxy",
		Long: `Run the system's ssh to the profile's host, with a ProxyCommand that knocks,
waits for the door and carries the connection, plus the profile's port and
user; the remaining arguments go to ssh unchanged, after the destination
(OpenSSH reads options there too). The exit status is ssh's.

When the profile has a close_sequence, it is knocked after ssh exits,
whatever ssh's exit status (also when ssh could not connect); --no-close
skips it. Our own options come before the profile: -v reports the close
knock on standard error, --config names the profile file.`,
		Example:            "  knock ssh ssh-prod\n  knock ssh ssh-prod -L 8080:localhost:80 uptime\n  knock ssh -v --no-close ssh-prod",
		DisableFlagParsing: true,
		ValidArgsFunction:  a.completeProfiles(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			// Flags are not parsed here so ssh's own reach ssh; only ours
			// may come before the profile.
			var verbose, noClose bool
			for len(args) > 0 && strings.HasPrefix(args[0], "-") {
				switch {
				case args[0] == "-h" || args[0] == "--help":
					return cmd.Help()
				case args[0] == "-v" || args[0] == "--verbose":
					verbose, args = true, args[1:]
				case args[0] == "--no-close":
					noClose, args = true, args[1:]
				case args[0] == "--config" && len(args) > 1:
					a.configFlag, args = args[1], args[2:]
				case strings.HasPrefix(args[0], "--config="):
					a.configFlag, args = strings.TrimPrefix(args[0], "--config="), args[1:]
				default:
					return usagef("knock ssh: %q before the profile: give ssh's options after it (knock ssh PROFILE %s)", args[0], args[0])
				}
			}
			if len(args) == 0 {
				return usagef("knock ssh wants a PROFILE")
			}
			name := args[0]
			p, err := a.profile(name)
			if err != nil {
				return err
			}
			proxy, err := a.proxyCommand(name)
			if err != nil {
				return err
			}
			sshArgs, err := sshconfig.CommandLine(name, p, proxy, args[1:])
			if err != nil {
				return err
			}
			ssh, err := exec.LookPath("ssh")
			if err != nil {
				return fmt.Errorf("ssh not found on PATH: %w", err)
			}
			c := exec.Command(ssh, sshArgs...)
			c.Stdin, c.Stdout, c.Stderr = a.streams.In, a.streams.Out, a.streams.Err
			runErr := c.Run()
			var exit *exec.ExitError
			status := 0
			switch {
			case errors.As(runErr, &exit):
				status = exit.ExitCode()
			case runErr != nil:
				status = -1
			}
			if len(p.CloseSequence) > 0 && !noClose {
				// The exit status stays ssh's; a failed close is said.
				if err := a.closeAfterSSH(cmd, name, p, status, verbose); err != nil {
					fmt.Fprintf(a.streams.Err, "knock: profile %q: close sequence not sent, the door may stay open: %v\n", name, err)
				}
			} else if verbose && len(p.CloseSequence) > 0 {
				fmt.Fprintf(a.streams.Err, "knock: --no-close: leaving profile %q's door open\n", name)
			}
			if status < 0 {
				return runErr
			}
			if status != 0 {
				return exitStatus(status)
			}
			return nil
		},
	}
	return cmd
}

// closeAfterSSH knocks the profile's close sequence once ssh is done. Its
// context is not the command's: a Ctrl-C meant for the ssh session has
// cancelled that one, and the door must close all the same.
func (a *app) closeAfterSSH(cmd *cobra.Command, name string, p profiles.Profile, status int, verbose bool) error {
	c, err := p.Closing()
	if err != nil {
		return err
	}
	if verbose {
		how := fmt.Sprintf("with status %d", status)
		if status < 0 {
			how = "without starting"
		}
		fmt.Fprintf(a.streams.Err, "knock: ssh exited %s; knocking profile %q's close sequence (%s)\n", how, name, strings.Join(c.Sequence, " "))
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(cmd.Context()), closeTimeout)
	defer cancel()
	_, err = a.knockProfile(ctx, cmd, name, c, c.Host, verbose)
	return err
}

func newSSHConfigCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "ssh-config [PROFILE...]",
		Short: "Print ssh_config Host blocks that knock before connecting",
		Long: `Print a Host block per profile (all of them by default) for ~/.ssh/config or a
file it Includes: HostName, Port, User and a ProxyCommand running this binary.`,
		ValidArgsFunction: a.completeProfiles(-1),
		RunE: func(cmd *cobra.Command, args []string) error {
			f, err := a.load()
			if err != nil {
				return err
			}
			if len(args) == 0 {
				args = f.Names()
			}
			var b strings.Builder
			for i, name := range args {
				p, err := f.Get(name)
				if err != nil {
					return err
				}
				proxy, err := a.proxyCommand(name)
				if err != nil {
					return err
				}
				block, err := sshconfig.Host(name, p, proxy)
				if err != nil {
					return err
				}
				if i > 0 {
					b.WriteString("\n")
				}
				b.WriteString(block)
			}
			_, err = fmt.Fprint(a.streams.Out, b.String())
			return err
		},
	}
}

// knockWhat names what a profile knocks with, for messages: its
// sequence, or its SPA access (never its keys).
func knockWhat(p profiles.Profile) string {
	if p.SPA != nil {
		return "an SPA packet for " + p.SPA.Access
	}
	return strings.Join(p.Sequence, " ")
}

// sameAddr reports whether host is a literal of addr.
func sameAddr(host string, addr netip.Addr) bool {
	a, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(host, "["), "]"))
	return err == nil && a.Unmap() == addr
}

// waitReport knocks nothing itself: after a knock it watches the address
// that was knocked and says whether, and how soon, its port opened.
func (a *app) waitReport(ctx context.Context, knocked netip.Addr, port uint16, wait time.Duration) error {
	addr := netip.AddrPortFrom(knocked, port).String()
	conn, res, err := client.WaitOpen(ctx, nil, addr, wait, nil)
	if err != nil {
		return err
	}
	conn.Close()
	fmt.Fprintf(a.streams.Out, "%s open after %v\n", addr, res.Took.Round(time.Millisecond))
	return nil
}

func newCheckCmd(a *app) *cobra.Command {
	var port uint16
	var wait time.Duration
	cmd := &cobra.Command{
		Use:   "check PROFILE|HOST",
		Short: "Knock a profile and report whether its port opened, and how soon",
		Long: `Knock the profile, then try its port (default 22) until it opens or the wait
(default the profile's, else 10s) runs out. Prints how long the door took;
the exit status is 0 when it opened, 1 when it did not. As knock proxy, it
takes a host too: the profile whose host it is.`,
		Args:              exactArgs(1, "PROFILE"),
		ValidArgsFunction: a.completeProfiles(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			f, err := a.load()
			if err != nil {
				return err
			}
			name, p, note, err := selectProfileNote(f, "", args[0], "name the profile to choose: knock check NAME")
			if err != nil {
				return err
			}
			if note != "" {
				fmt.Fprintf(a.streams.Err, "knock: %s\n", note)
			}
			knocked, err := a.knockProfile(cmd.Context(), cmd, name, p, p.Host, false)
			if err != nil {
				return err
			}
			if port == 0 {
				port = p.ServicePort()
			}
			if wait == 0 {
				wait = p.WaitTime()
			}
			return a.waitReport(cmd.Context(), knocked, port, wait)
		},
	}
	cmd.Flags().Uint16Var(&port, "port", 0, "port to try (default: the profile's, else 22)")
	cmd.Flags().DurationVar(&wait, "wait", 0, "how long to try (default: the profile's, else 10s)")
	return cmd
}
