package config

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// AnyInterface captures on every interface that is up (but loopback).
const AnyInterface = "any"

// ParseInterfaces reads an interface list: names separated by commas
// ("eth0,wg0"), or "any". Each name is one the kernel could have: at most
// 15 bytes, no '/', no white space or commas.
func ParseInterfaces(list ...string) ([]string, error) {
	var out []string
	for _, l := range list {
		for _, name := range strings.Split(l, ",") {
			name = strings.TrimSpace(name)
			switch {
			case name == "":
				return nil, fmt.Errorf("%q: an empty interface name", l)
			case len(name) > 15:
				return nil, fmt.Errorf("interface %q: longer than the 15 bytes an interface name has", name)
			case name == "." || name == ".." || strings.ContainsAny(name, "/: \t\n\r\x00"):
				return nil, fmt.Errorf("interface %q: not an interface name", name)
			}
			if !slices.Contains(out, name) {
				out = append(out, name)
			}
		}
	}
	if slices.Contains(out, AnyInterface) && len(out) > 1 {
		return nil, fmt.Errorf("%q: any already means every interface that is up", strings.Join(out, ","))
	}
	return out, nil
}

// Ring sizes RingSize and --ring-size accept, per interface.
const (
	MinRing = 64 << 10
	MaxRing = 1 << 30
)

// ParseRing reads a ring size such as 8M, 512K or 1048576.
func ParseRing(s string) (int, error) {
	t := strings.ToUpper(strings.TrimSpace(s))
	mult := 1
	switch {
	case strings.HasSuffix(t, "K"):
		mult, t = 1<<10, t[:len(t)-1]
	case strings.HasSuffix(t, "M"):
		mult, t = 1<<20, t[:len(t)-1]
	case strings.HasSuffix(t, "G"):
		mult, t = 1<<30, t[:len(t)-1]
	}
	n, err := strconv.ParseUint(t, 10, 31)
	if err != nil || n == 0 {
		return 0, fmt.Errorf("%q is not a size such as 8M or 512K", s)
	}
	if n*uint64(mult) < MinRing || n*uint64(mult) > MaxRing {
		return 0, fmt.Errorf("%s: want 64K to 1G", s)
	}
	return int(n) * mult, nil
}
