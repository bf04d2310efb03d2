package firewall

import (
	"fmt"
	"time"
)

// Holes opens holes for a while, with no shell and no command of the
// firewall's: knockd's built-in actions (SPA stanzas without
// CMD_CYCLE_OPEN, doors with Open_Ports). Each hole comes with the
// established rule of its family, as knockd fw open's, so that closing
// it cuts no session it let in.
type Holes interface {
	Name() string
	// OpenFor opens r for d: with nftables a set element the kernel
	// removes after d; with iptables a rule the caller closes.
	OpenFor(r Rule, d time.Duration) error
	// Close closes r now; a hole already gone (the kernel's timeout) is
	// no error.
	Close(r Rule) error
}

// The nftables sets of the holes, by family (in table inet knockd).
const (
	Holes4 = "holes4"
	Holes6 = "holes6"
)

// The OpenWrt package's sets in fw4's table, for NewHoles("fw4").
const (
	FW4Holes4 = "knockd_holes4"
	FW4Holes6 = "knockd_holes6"
)

// NewHoles returns the built-in actions' backend: "nftables" (set
// elements with a kernel timeout, over netlink: no nft binary), "fw4"
// (the same in OpenWrt's fw4 table, in the sets the OpenWrt package's
// includes make), "iptables" (rules, through the iptables commands), or
// "auto": what Detect finds filtering this host's input.
func NewHoles(name string, run Runner) (Holes, error) {
	switch name {
	case "nftables":
		return newNetlink(&Netlink{})
	case "fw4":
		return newNetlink(&Netlink{Table: "fw4", Set4: FW4Holes4, Set6: FW4Holes6, External: true})
	case "iptables":
		return commandHoles{&IPTables{Run: run}}, nil
	case "auto", "":
		name, err := detected(run)
		if err != nil {
			return nil, err
		}
		return NewHoles(name, run)
	}
	return nil, fmt.Errorf("%w: firewall %q (want auto, nftables, fw4 or iptables)", ErrInvalid, name)
}

// commandHoles are holes made by a Backend's commands: rules that stay
// until Close.
type commandHoles struct{ b Backend }

func (c commandHoles) Name() string { return c.b.Name() }

func (c commandHoles) OpenFor(r Rule, _ time.Duration) error {
	r = r.defaults(DefaultChain)
	if err := r.Validate(); err != nil {
		return err
	}
	if _, err := c.b.Established(r); err != nil {
		return err
	}
	_, err := c.b.Open(r)
	return err
}

func (c commandHoles) Close(r Rule) error {
	_, err := c.b.Close(r.defaults(DefaultChain))
	return err
}

// defaults fills in the chain and the comment when they are not set.
func (r Rule) defaults(chain string) Rule {
	if r.Chain == "" {
		r.Chain = chain
	}
	if r.Comment == "" {
		r.Comment = DefaultComment
	}
	return r
}
