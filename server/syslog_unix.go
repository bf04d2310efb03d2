//go:build unix

package server

import (
	"io"
	"log/syslog"
)

// openSyslog logs as knockd 0.8 does: ident "knockd", facility daemon.
func openSyslog() (io.Writer, error) {
	return syslog.New(syslog.LOG_NOTICE|syslog.LOG_DAEMON, "knockd")
}
