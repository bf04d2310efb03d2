//go:build !unix

package server

import (
	"errors"
	"io"
)

func openSyslog() (io.Writer, error) {
	return nil, errors.New("syslog is not available on this system")
}
