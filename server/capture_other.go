//go:build !linux

package server

import "errors"

// OpenLive is not available here yet: live capture is built for Linux
// (AF_PACKET); elsewhere knockd can still check configs and replay files.
func OpenLive(string, int) (Source, error) {
	return nil, errors.New("live capture is only built for Linux; use --replay FILE")
}
