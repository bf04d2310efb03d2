//go:build !unix

package knockdcmd

import (
	"errors"
	"os"
)

// daemonize has no equivalent here: run knockd in the foreground under the
// system's service manager instead.
func daemonize() error {
	return errors.New("-d: no daemon mode on this system; run knockd in the foreground under a service manager")
}

// statsSignal is nil: there is no SIGUSR1 here (use --stats).
func statsSignal() os.Signal { return nil }
