//go:build !(linux || darwin || dragonfly || freebsd || netbsd || openbsd)

package client

import (
	"errors"
	"net/netip"
)

// errNoRawTCP explains why custom flags cannot be sent from this OS:
// Windows refuses TCP over raw sockets since XP SP2.
var errNoRawTCP = errors.New("this operating system does not allow sending TCP over raw sockets; plain SYN knocks work with --method connect, other flags cannot be sent from here")

func openRaw(netip.Addr) (rawSocket, error) { return nil, errNoRawTCP }
