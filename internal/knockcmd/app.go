package knockcmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/knocktools/knock/client"
	"github.com/knocktools/knock/internal/safetext"
	"github.com/knocktools/knock/profiles"
)

// Exit statuses: 1 for a failure while working, 2 for a command line that
// cannot be understood (the convention of knock 0.8's getopt and of ssh).
const (
	exitOK    = 0
	exitFail  = 1
	exitUsage = 2
)

// streams are the command's standard input, output and error, injected so
// tests run the real command tree with buffers.
type streams struct {
	In       io.Reader
	Out, Err io.Writer
}

// usageError marks an error in the command line itself.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usagef(format string, a ...any) error { return usageError{fmt.Errorf(format, a...)} }

// exitStatus ends the program with a status and no message of its own,
// such as ssh's status for knock ssh.
type exitStatus int

func (e exitStatus) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

// run executes the knock command line and returns the exit status.
func Run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	ctx := newSignalContext(context.Background())
	defer ctx.Stop()
	s := &streams{In: stdin, Out: stdout, Err: stderr}
	cmd, a := newRootOnly(s, nil)
	if needsSubcommands(cmd, args) {
		a.addSubcommands(cmd)
	} else {
		// Nor cobra's completion command, which it would build for
		// nothing ("completion" is one of subcommandWords).
		cmd.CompletionOptions.DisableDefaultCmd = true
	}
	cmd.SetArgs(args)
	err := cmd.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	var status exitStatus
	if errors.As(err, &status) {
		return int(status)
	}
	// An error may quote what a file or an argument held.
	fmt.Fprintf(stderr, "knock: %s\n", safetext.Lines(err.Error()))
	var (
		ue       usageError
		family   *client.FamilyError
		conflict *client.ConflictError
	)
	if errors.As(err, &ue) || errors.As(err, &family) || errors.As(err, &conflict) {
		fmt.Fprintf(stderr, "Run 'knock --help' for usage.\n")
		return exitUsage
	}
	return exitFail
}

// app is what every command shares: the streams and the profile file.
type app struct {
	streams    *streams
	configFlag string // --config
}

// path is the profile file: --config, else $KNOCK_CONFIG, else the default.
func (a *app) path() string {
	if a.configFlag != "" {
		return a.configFlag
	}
	if p := os.Getenv("KNOCK_CONFIG"); p != "" {
		return p
	}
	p, err := profiles.DefaultPath()
	if err != nil {
		return "knock-config.yaml"
	}
	return p
}

func (a *app) store() *profiles.Store {
	return &profiles.Store{
		Path: a.path(),
		Warn: func(msg string) { fmt.Fprintf(a.streams.Err, "knock: warning: %s\n", safetext.Escape(msg)) },
	}
}

// fileMessages is standard error for messages that name what a file
// held (an import's stanzas, doors and sequences): escaped, so no name
// reaches the terminal with its control characters.
func (a *app) fileMessages() io.Writer { return safetext.Writer{W: a.streams.Err} }

// load reads the profile file (an absent file is an empty one).
func (a *app) load() (*profiles.File, error) { return a.store().Load() }

// profile loads the file and returns one profile, defaults applied.
func (a *app) profile(name string) (profiles.Profile, error) {
	f, err := a.load()
	if err != nil {
		return profiles.Profile{}, err
	}
	return f.Get(name)
}

// NewRootCmd returns knock's command tree writing to out and errOut, for
// tools that render it (man pages).
func NewRootCmd(out, errOut io.Writer) *cobra.Command {
	return newRootCmd(&streams{In: strings.NewReader(""), Out: out, Err: errOut}, nil)
}
