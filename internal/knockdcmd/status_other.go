//go:build !linux

package knockdcmd

import (
	"errors"
	"net"
)

// peerUID is not asked here: the socket's mode (0600, root's) keeps
// others from connecting.
func peerUID(*net.UnixConn) (uint32, error) {
	return 0, errors.ErrUnsupported
}
