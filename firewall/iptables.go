package firewall

import (
	"fmt"
	"strings"
)

// IPTables manages rules with iptables (IPv4) and ip6tables (IPv6), legacy
// or nft-based alike: a rule is checked with -C before it is inserted at
// the top of the chain with -I, and deleted with -D until none is left.
type IPTables struct{ Run Runner }

func (b *IPTables) Name() string { return "iptables" }

func (b *IPTables) command(r Rule) string {
	if r.Src.Is6() {
		return "ip6tables"
	}
	return "iptables"
}

// spec is the rule's match and target, the same for -C, -I and -D.
func (b *IPTables) spec(r Rule) []string {
	return []string{"-s", r.Src.String(), "-p", r.Proto, "-m", r.Proto, "--dport", itoa(r.Port),
		"-m", "comment", "--comment", r.Comment, "-j", "ACCEPT"}
}

// missing tells "no such rule" from real errors: iptables says so on
// standard error with exit status 1.
func missing(stderr string) bool {
	return strings.Contains(stderr, "does a matching rule exist") || strings.Contains(stderr, "Bad rule")
}

func (b *IPTables) Open(r Rule) (bool, error) {
	cmd := b.command(r)
	check := append([]string{"-w", "-C", r.Chain}, b.spec(r)...)
	_, stderr, err := b.Run.Run(cmd, check...)
	if err == nil {
		return false, nil
	}
	if !missing(stderr) {
		return false, commandError(cmd, check, stderr, err)
	}
	insert := append([]string{"-w", "-I", r.Chain}, b.spec(r)...)
	if _, stderr, err := b.Run.Run(cmd, insert...); err != nil {
		return false, commandError(cmd, insert, stderr, err)
	}
	return true, nil
}

// maxCopies bounds how many copies of one rule Close deletes: a delete
// that keeps reporting success without removing anything must not loop
// for ever, nor be taken for a closed door.
const maxCopies = 1000

// Close deletes the rule with -D until iptables finds none (it compares
// the parsed rule, so the address's spelling does not matter).
func (b *IPTables) Close(r Rule) (int, error) {
	cmd := b.command(r)
	del := append([]string{"-w", "-D", r.Chain}, b.spec(r)...)
	for n := 0; ; n++ {
		if n == maxCopies {
			return n, fmt.Errorf("%s: the rule for %s is still in chain %s after %d deletes", cmd, r.Src, r.Chain, n)
		}
		_, stderr, err := b.Run.Run(cmd, del...)
		if err == nil {
			continue
		}
		if missing(stderr) {
			return n, nil
		}
		return n, commandError(cmd, del, stderr, err)
	}
}

func (b *IPTables) List(chain, comment string) ([]string, error) {
	var out []string
	for _, cmd := range []string{"iptables", "ip6tables"} {
		args := []string{"-w", "-S", chain}
		stdout, stderr, err := b.Run.Run(cmd, args...)
		if err != nil {
			return nil, commandError(cmd, args, stderr, err)
		}
		for _, line := range strings.Split(stdout, "\n") {
			if hasComment(line, comment) || hasComment(line, EstablishedComment(comment)) {
				out = append(out, cmd+" "+line)
			}
		}
	}
	return out, nil
}

// establishedSpec is the established rule's match and target.
func establishedSpec(r Rule) []string {
	return []string{"-m", "conntrack", "--ctstate", "RELATED,ESTABLISHED", "-m", "comment", "--comment", EstablishedComment(r.Comment), "-j", "ACCEPT"}
}

// Established inserts the established rule at the top of the chain
// unless it is there.
func (b *IPTables) Established(r Rule) (bool, error) {
	cmd := b.command(r)
	check := append([]string{"-w", "-C", r.Chain}, establishedSpec(r)...)
	_, stderr, err := b.Run.Run(cmd, check...)
	if err == nil {
		return false, nil
	}
	if !missing(stderr) {
		return false, commandError(cmd, check, stderr, err)
	}
	insert := append([]string{"-w", "-I", r.Chain}, establishedSpec(r)...)
	if _, stderr, err := b.Run.Run(cmd, insert...); err != nil {
		return false, commandError(cmd, insert, stderr, err)
	}
	return true, nil
}

// hasComment reports whether an iptables -S line carries comment.
func hasComment(line, comment string) bool {
	return strings.Contains(line, "--comment "+comment+" ") || strings.HasSuffix(line, "--comment "+comment) ||
		strings.Contains(line, `--comment "`+comment+`"`)
}
