//go:build !(linux || darwin || dragonfly || freebsd || netbsd || openbsd)

package client

import "net/netip"

func openRaw(netip.Addr) (rawSocket, netip.Addr, error) { return nil, netip.Addr{}, errNoRawTCP }

// rawTCP says whether this OS can send TCP over raw sockets at all: not
// here, so auto is simply connect (no route lookup through a UDP socket
// first, which Windows under Wine 8 cannot even make).
const rawTCP = false
