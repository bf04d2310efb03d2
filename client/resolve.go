package client

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
)

// Resolver is the part of *net.Resolver that Resolve needs.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

var defaultResolver Resolver = net.DefaultResolver

// Resolve turns host into one address, once, so every knock of a sequence
// goes to the same machine. family 4 or 6 restricts the lookup as knock's
// -4 and -6 do; 0 takes the first address the resolver gives, which is
// ordered by RFC 6724 as getaddrinfo orders it for knock 0.8 and ssh.
// A literal address may be written in brackets ("[fd77::2]").
func Resolve(ctx context.Context, r Resolver, host string, family int) (netip.Addr, error) {
	addrs, err := ResolveAll(ctx, r, host, family)
	if err != nil {
		return netip.Addr{}, err
	}
	return addrs[0], nil
}

// ResolveAll returns every address of host in the family asked (any with
// 0), in the resolver's order; at least one, or an error.
func ResolveAll(ctx context.Context, r Resolver, host string, family int) ([]netip.Addr, error) {
	name := strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if name == "" {
		return nil, fmt.Errorf("empty host name")
	}
	if a, err := netip.ParseAddr(name); err == nil {
		a = a.Unmap()
		if family == 4 && !a.Is4() || family == 6 && a.Is4() {
			return nil, &FamilyError{Host: host, Want: family}
		}
		return []netip.Addr{a}, nil
	}
	network := "ip"
	switch family {
	case 4:
		network = "ip4"
	case 6:
		network = "ip6"
	}
	found, err := r.LookupNetIP(ctx, network, name)
	if err != nil {
		return nil, fmt.Errorf("resolve %q: %w", host, err)
	}
	var addrs []netip.Addr
	for _, a := range found {
		a = a.Unmap()
		if (family == 0 || (family == 4) == a.Is4()) && !slices.Contains(addrs, a) {
			addrs = append(addrs, a)
		}
	}
	if len(addrs) == 0 {
		return nil, fmt.Errorf("resolve %q: no IPv%d address", host, family)
	}
	return addrs, nil
}

// FamilyError is a host given as an address of the other family than the
// one asked for: a conflict of the command line (or of what stands in for
// it), not a failure to knock.
type FamilyError struct {
	Host string
	Want int    // 4 or 6
	From string // what asked for the family ("KNOCK_FAMILY=6"); "" for -4 or -6
}

func (e *FamilyError) Error() string {
	from := e.From
	if from == "" {
		from = "-" + strconv.Itoa(e.Want)
	}
	return fmt.Sprintf("host %s is an IPv%d address, but %s asks for IPv%d", e.Host, 10-e.Want, from, e.Want)
}

// ConflictError is an option that cannot go with the sequence (--method
// connect with custom TCP flags): a usage error, not a failure to knock.
type ConflictError struct{ Err error }

func (e *ConflictError) Error() string { return e.Err.Error() }
func (e *ConflictError) Unwrap() error { return e.Err }
