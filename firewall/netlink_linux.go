package firewall

import (
	"cmp"
	"errors"
	"fmt"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/google/nftables"
	"github.com/google/nftables/binaryutil"
	"github.com/google/nftables/expr"
	"github.com/google/nftables/userdata"
	"golang.org/x/sys/unix"
)

// Netlink opens holes as elements of two nftables sets with a timeout,
// over netlink (github.com/google/nftables: no nft binary at run time),
// in the table knockd fw's nftables backend uses, inet knockd, chain
// input (hook input, priority filter-10, policy accept):
//
//	ct state established,related accept comment "knockd-established"
//	ip saddr . meta l4proto . th dport @holes4 accept comment "knockd-holes"
//	ip6 saddr . meta l4proto . th dport @holes6 accept comment "knockd-holes"
//
// A hole is the element address . protocol . port, with its own timeout:
// the kernel removes it when the timeout runs out, whatever becomes of
// knockd. As with knockd fw, close the guarded port in this same chain
// (nft add rule inet knockd input tcp dport 22 drop): another table's
// drop is not undone by an accept here.
//
// On OpenWrt (NewHoles("fw4")) the sets live in fw4's own table instead,
// knockd_holes4 and knockd_holes6, made by the OpenWrt package's includes
// with the rules of fw4's input_wan chain that accept their members:
// knockd adds and removes elements only.
type Netlink struct {
	// NetNS, when not 0, is a file descriptor of the network namespace
	// to work in (tests); 0: knockd's own.
	NetNS int
	// Table and Set4, Set6 name where the holes go (default inet
	// knockd's holes4 and holes6); External: the table, its sets and
	// rules are someone else's (fw4's), not made here.
	Table, Set4, Set6 string
	External          bool

	mu      sync.Mutex
	ready   bool // the table, chain, sets and rules were there last time
	comment string
}

func newNetlink(n *Netlink) (Holes, error) { return n, nil }

func (n *Netlink) Name() string {
	if n.External {
		return "fw4"
	}
	return "nftables"
}

func (n *Netlink) conn() (*nftables.Conn, error) {
	if n.NetNS != 0 {
		return nftables.New(nftables.WithNetNSFd(n.NetNS))
	}
	return nftables.New()
}

// table is the table of the holes.
func (n *Netlink) table() *nftables.Table {
	return &nftables.Table{Name: cmp.Or(n.Table, Table), Family: nftables.TableFamilyINet}
}

// holeSet is the set of the holes of a family (a new value each time:
// the library writes into the ones it is given).
func (n *Netlink) holeSet(v6 bool) *nftables.Set {
	if v6 {
		return &nftables.Set{Table: n.table(), Name: cmp.Or(n.Set6, Holes6), HasTimeout: true, Concatenation: true,
			KeyType: nftables.MustConcatSetType(nftables.TypeIP6Addr, nftables.TypeInetProto, nftables.TypeInetService)}
	}
	return &nftables.Set{Table: n.table(), Name: cmp.Or(n.Set4, Holes4), HasTimeout: true, Concatenation: true,
		KeyType: nftables.MustConcatSetType(nftables.TypeIPAddr, nftables.TypeInetProto, nftables.TypeInetService)}
}

// chain is our base chain of that name.
func (n *Netlink) chain(name string) *nftables.Chain {
	return &nftables.Chain{Name: name, Table: n.table(), Type: nftables.ChainTypeFilter, Hooknum: nftables.ChainHookInput,
		Priority: nftables.ChainPriorityRef(*nftables.ChainPriorityFilter - 10), Policy: ptr(nftables.ChainPolicyAccept)}
}

func ptr[T any](v T) *T { return &v }

// key is a hole's set key: the address, then the protocol and the port,
// each field padded to 4 bytes as the kernel's registers hold them.
func key(r Rule) []byte {
	proto := byte(unix.IPPROTO_TCP)
	if r.Proto == "udp" {
		proto = unix.IPPROTO_UDP
	}
	k := append([]byte{}, r.Src.AsSlice()...)
	k = append(k, proto, 0, 0, 0)
	return append(k, binaryutil.BigEndian.PutUint16(r.Port)[0], binaryutil.BigEndian.PutUint16(r.Port)[1], 0, 0)
}

func (n *Netlink) OpenFor(r Rule, d time.Duration) error {
	r = r.defaults("input")
	if err := r.Validate(); err != nil {
		return err
	}
	if d < time.Second {
		d = time.Second
	}
	err := n.add(r, d)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	if err != nil { // the table went away (nft flush ruleset): again, once
		n.mu.Lock()
		n.ready = false
		n.mu.Unlock()
		err = n.add(r, d)
	}
	return err
}

func (n *Netlink) add(r Rule, d time.Duration) error {
	if err := n.ensure(r.Chain, r.Comment); err != nil {
		return err
	}
	// An element already there keeps its old timeout: delete it first,
	// so that a second knock gets the whole timeout.
	if err := n.remove(r); err != nil {
		return err
	}
	c, s, err := n.connSet(r)
	if err != nil {
		return err
	}
	if err := c.SetAddElements(s, []nftables.SetElement{{Key: key(r), Timeout: d}}); err != nil {
		return err
	}
	if err := c.Flush(); err != nil {
		if n.External && errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("nftables: set inet %s %s is missing: the OpenWrt package's fw4 includes (/usr/share/nftables.d) make it; run fw4 reload", s.Table.Name, s.Name)
		}
		return fmt.Errorf("nftables: adding %s %s/%d to set inet %s %s: %w", r.Src, r.Proto, r.Port, s.Table.Name, s.Name, err)
	}
	return nil
}

func (n *Netlink) Close(r Rule) error {
	r = r.defaults("input")
	if err := r.Validate(); err != nil {
		return err
	}
	return n.remove(r)
}

// remove deletes r's element; one that is not there (gone with its
// timeout, or never added) is no error.
func (n *Netlink) remove(r Rule) error {
	c, s, err := n.connSet(r)
	if err != nil {
		return err
	}
	if err := c.SetDeleteElements(s, []nftables.SetElement{{Key: key(r)}}); err != nil {
		return err
	}
	if err := c.Flush(); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("nftables: removing %s %s/%d from set inet %s %s: %w", r.Src, r.Proto, r.Port, s.Table.Name, s.Name, err)
	}
	return nil
}

// connSet is a connection and the set of r's family.
func (n *Netlink) connSet(r Rule) (*nftables.Conn, *nftables.Set, error) {
	c, err := n.conn()
	return c, n.holeSet(r.Src.Is6()), err
}

// ensure makes the table, the chain, the sets and the rules, each unless
// it is there.
func (n *Netlink) ensure(chainName, comment string) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.ready && n.comment == comment || n.External {
		return nil
	}
	c, err := n.conn()
	if err != nil {
		return err
	}
	ch, table := n.chain(chainName), n.table()
	c.AddTable(table)
	c.AddChain(ch)
	for _, v6 := range []bool{false, true} {
		if err := c.AddSet(n.holeSet(v6), nil); err != nil {
			return err
		}
	}
	if err := c.Flush(); err != nil {
		return fmt.Errorf("nftables: making table inet %s, chain %s and sets %s, %s: %w", Table, chainName, Holes4, Holes6, err)
	}
	rules, err := c.GetRules(table, ch)
	if err != nil {
		return fmt.Errorf("nftables: listing chain inet %s %s: %w", Table, chainName, err)
	}
	est, holes := EstablishedComment(comment), comment+"-holes"
	if !slices.ContainsFunc(rules, func(r *nftables.Rule) bool { return ruleComment(r) == est }) {
		c.InsertRule(&nftables.Rule{Table: table, Chain: ch, Exprs: establishedExprs(), UserData: userdata.AppendString(nil, userdata.TypeComment, est)})
	}
	for _, v6 := range []bool{false, true} {
		if !slices.ContainsFunc(rules, func(r *nftables.Rule) bool { return ruleComment(r) == holes && looksUp(r, n.holeSet(v6).Name) }) {
			// At the top, as knockd fw's rules: before the drop the
			// admin put in this chain.
			c.InsertRule(&nftables.Rule{Table: table, Chain: ch, Exprs: lookupExprs(v6, n.holeSet(v6).Name), UserData: userdata.AppendString(nil, userdata.TypeComment, holes)})
		}
	}
	if err := c.Flush(); err != nil {
		return fmt.Errorf("nftables: adding the rules of chain inet %s %s: %w", Table, chainName, err)
	}
	n.ready, n.comment = true, comment
	return nil
}

func ruleComment(r *nftables.Rule) string {
	c, _ := userdata.GetString(r.UserData, userdata.TypeComment)
	return c
}

// looksUp reports whether r looks its packets up in the set named.
func looksUp(r *nftables.Rule, set string) bool {
	return slices.ContainsFunc(r.Exprs, func(e expr.Any) bool { l, ok := e.(*expr.Lookup); return ok && l.SetName == set })
}

// establishedExprs: ct state established,related accept.
func establishedExprs() []expr.Any {
	return []expr.Any{
		&expr.Ct{Register: 1, Key: expr.CtKeySTATE},
		&expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: 4,
			Mask: binaryutil.NativeEndian.PutUint32(expr.CtStateBitESTABLISHED | expr.CtStateBitRELATED), Xor: binaryutil.NativeEndian.PutUint32(0)},
		&expr.Cmp{Op: expr.CmpOpNeq, Register: 1, Data: binaryutil.NativeEndian.PutUint32(0)},
		&expr.Verdict{Kind: expr.VerdictAccept},
	}
}

// lookupExprs: ip saddr . meta l4proto . th dport @holes4 accept (ip6 and
// holes6 for IPv6). Each field of the concatenation fills 32-bit
// registers from 8 (NFT_REG32_00) on.
func lookupExprs(v6 bool, set string) []expr.Any {
	nfproto, off, size, next := byte(unix.NFPROTO_IPV4), uint32(12), uint32(4), uint32(9)
	if v6 {
		nfproto, off, size, next = unix.NFPROTO_IPV6, 8, 16, 12
	}
	return []expr.Any{
		&expr.Meta{Key: expr.MetaKeyNFPROTO, Register: 1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{nfproto}},
		&expr.Payload{DestRegister: 8, Base: expr.PayloadBaseNetworkHeader, Offset: off, Len: size},
		&expr.Meta{Key: expr.MetaKeyL4PROTO, Register: next},
		&expr.Payload{DestRegister: next + 1, Base: expr.PayloadBaseTransportHeader, Offset: 2, Len: 2},
		&expr.Lookup{SourceRegister: 8, SetName: set},
		&expr.Verdict{Kind: expr.VerdictAccept},
	}
}
