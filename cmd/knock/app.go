package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// Exit statuses: 1 for a failure while working, 2 for a command line that
// cannot be understood (the convention of knock 0.8's getopt and of ssh).
const (
	exitOK    = 0
	exitFail  = 1
	exitUsage = 2
)

// streams are the command's standard output and error, injected so tests
// run the real command tree with buffers.
type streams struct {
	Out, Err io.Writer
}

// usageError marks an error in the command line itself.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usagef(format string, a ...any) error { return usageError{fmt.Errorf(format, a...)} }

// run executes the knock command line and returns the exit status.
func run(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	s := &streams{Out: stdout, Err: stderr}
	cmd := newRootCmd(s, nil)
	cmd.SetArgs(args)
	err := cmd.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	fmt.Fprintf(stderr, "knock: %v\n", err)
	var ue usageError
	if errors.As(err, &ue) {
		fmt.Fprintf(stderr, "Run 'knock --help' for usage.\n")
		return exitUsage
	}
	return exitFail
}
