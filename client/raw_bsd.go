//go:build darwin || dragonfly || freebsd || netbsd || openbsd

package client

import "net"

// discardInbound does nothing on the BSDs and macOS: their raw sockets are
// never handed TCP segments, so there is nothing to discard.
func discardInbound(net.PacketConn) {}
