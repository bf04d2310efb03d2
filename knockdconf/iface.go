package knockdconf

import (
	"fmt"
	"slices"
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
