//go:build !linux

package firewall

import "errors"

func newNetlink() (Holes, error) {
	return nil, errors.New("nftables over netlink is Linux's: use the iptables firewall or door commands")
}
