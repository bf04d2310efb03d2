package firewall

import (
	"cmp"
	"fmt"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
)

// NFT manages rules with the nft command in a table of our own, inet
// knockd, whose chains hook input at priority filter-10 with policy
// accept. Rules are inserted at the top of the chain.
//
// nftables runs every base chain of a hook: an accept here ends the
// packet's trip through this chain only, so a port knocked open here must
// be closed in this chain too (for instance
// "nft add rule inet knockd input tcp dport 22 drop", which carries no
// comment of ours and is never touched), not by another table's policy.
type NFT struct{ Run Runner }

// Table is the nftables table the backend owns.
const Table = "knockd"

func (b *NFT) Name() string { return "nftables" }

func (b *NFT) nft(args ...string) (string, error) {
	stdout, stderr, err := b.Run.Run("nft", args...)
	if err != nil {
		return "", commandError("nft", args, stderr, err)
	}
	return stdout, nil
}

// ensure creates our table and chain (add is a no-op when they exist).
func (b *NFT) ensure(chain string) error {
	if _, err := b.nft("add", "table", "inet", Table); err != nil {
		return err
	}
	_, err := b.nft("add", "chain", "inet", Table, chain,
		"{ type filter hook input priority filter - 10 ; policy accept ; }")
	return err
}

// match is the rule's text as nft takes it (and, addresses aside, lists
// it).
func (b *NFT) match(r Rule) string {
	family := "ip"
	if r.Src.Is6() {
		family = "ip6"
	}
	return family + " saddr " + r.Src.String() + " " + r.Proto + " dport " + itoa(r.Port) + " accept comment \"" + r.Comment + "\""
}

var (
	handleRE = regexp.MustCompile(`^(.*?)\s*# handle (\d+)$`)
	ruleRE   = regexp.MustCompile(`^(ip6?) saddr (\S+) (tcp|udp) dport (\d+) accept comment "([^"]*)"$`)
)

// parseRule reads a rule of ours as nft lists it. Its address is parsed,
// not compared as text: nft prints some addresses otherwise than we write
// them, and a rule matched by text would be added twice and never closed.
func parseRule(line string) (Rule, bool) {
	m := ruleRE.FindStringSubmatch(line)
	if m == nil {
		return Rule{}, false
	}
	src, err := netip.ParseAddr(m[2])
	port, perr := strconv.ParseUint(m[4], 10, 16)
	if err != nil || perr != nil || src.Is6() != (m[1] == "ip6") {
		return Rule{}, false
	}
	return Rule{Src: src, Proto: m[3], Port: uint16(port), Comment: m[5]}, true
}

// same reports whether a listed rule is r (the chain aside).
func same(listed, r Rule) bool {
	return listed.Src == r.Src && listed.Proto == r.Proto && listed.Port == r.Port && listed.Comment == r.Comment
}

// handles lists the chain with handles and returns those of rules equal
// to r.
func (b *NFT) handles(r Rule) ([]int, error) {
	out, err := b.nft("-a", "list", "chain", "inet", Table, r.Chain)
	if err != nil {
		return nil, err
	}
	var hs []int
	for _, line := range strings.Split(out, "\n") {
		m := handleRE.FindStringSubmatch(strings.TrimSpace(line))
		if m == nil {
			continue
		}
		if listed, ok := parseRule(m[1]); !ok || !same(listed, r) {
			continue
		}
		h, _ := strconv.Atoi(m[2])
		hs = append(hs, h)
	}
	return hs, nil
}

func (b *NFT) Open(r Rule) (bool, error) {
	if err := b.ensure(r.Chain); err != nil {
		return false, err
	}
	hs, err := b.handles(r)
	if err != nil || len(hs) > 0 {
		return false, err
	}
	want := b.match(r)
	args := append([]string{"insert", "rule", "inet", Table, r.Chain}, strings.Fields(strings.TrimSuffix(want, " comment \""+r.Comment+"\""))...)
	args = append(args, "comment", `"`+r.Comment+`"`)
	_, err = b.nft(args...)
	return err == nil, err
}

func (b *NFT) Close(r Rule) (int, error) {
	if _, err := b.nft("list", "chain", "inet", Table, r.Chain); err != nil {
		return 0, nil // no table or chain: nothing of ours to remove
	}
	hs, err := b.handles(r)
	if err != nil {
		return 0, err
	}
	for i, h := range hs {
		if _, err := b.nft("delete", "rule", "inet", Table, r.Chain, "handle", strconv.Itoa(h)); err != nil {
			return i, err
		}
	}
	// A door must not stay open behind a close that said it worked.
	if left, err := b.handles(r); err != nil || len(left) > 0 {
		return len(hs), cmp.Or(err, fmt.Errorf("nft: %d rule(s) for %s still in chain %s after deleting them", len(left), r.Src, r.Chain))
	}
	return len(hs), nil
}

// established is the established rule as nft takes and lists it.
func established(comment string) string {
	return "ct state established,related accept comment \"" + EstablishedComment(comment) + "\""
}

// Established inserts the established rule at the top of our chain
// unless it is there.
func (b *NFT) Established(r Rule) (bool, error) {
	if err := b.ensure(r.Chain); err != nil {
		return false, err
	}
	out, err := b.nft("list", "chain", "inet", Table, r.Chain)
	if err != nil {
		return false, err
	}
	want := established(r.Comment)
	for _, line := range strings.Split(out, "\n") {
		if strings.TrimSpace(line) == want {
			return false, nil
		}
	}
	args := append([]string{"insert", "rule", "inet", Table, r.Chain}, strings.Fields(strings.TrimSuffix(want, " comment \""+EstablishedComment(r.Comment)+"\""))...)
	args = append(args, "comment", `"`+EstablishedComment(r.Comment)+`"`)
	_, err = b.nft(args...)
	return err == nil, err
}

func (b *NFT) List(chain, comment string) ([]string, error) {
	out, err := b.nft("list", "chain", "inet", Table, chain)
	if err != nil {
		return nil, nil // nothing created yet
	}
	var rules []string
	for _, line := range strings.Split(out, "\n") {
		if line = strings.TrimSpace(line); strings.HasSuffix(line, `comment "`+comment+`"`) || line == established(comment) ||
			strings.HasSuffix(line, `comment "`+comment+`-holes"`) {
			rules = append(rules, line)
		}
	}
	// The holes the built-in firewall opened (knockd's Open_Ports and SPA
	// doors): the elements of its sets, each with its timeout.
	for _, set := range []string{Holes4, Holes6} {
		out, err := b.nft("list", "set", "inet", Table, set)
		if err != nil {
			continue // not made yet
		}
		_, elems, ok := strings.Cut(strings.Join(strings.Fields(out), " "), "elements = { ")
		if elems, _, _ = strings.Cut(elems, " }"); ok {
			for _, e := range strings.Split(elems, ", ") {
				rules = append(rules, "hole "+e)
			}
		}
	}
	return rules, nil
}

func itoa(p uint16) string { return strconv.Itoa(int(p)) }
