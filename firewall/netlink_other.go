//go:build !linux

package firewall

import "errors"

// Netlink is the nftables backend of Linux.
type Netlink struct {
	NetNS             int
	Table, Set4, Set6 string
	External          bool
}

func newNetlink(*Netlink) (Holes, error) {
	return nil, errors.New("nftables over netlink is Linux's: use the iptables firewall or door commands")
}
