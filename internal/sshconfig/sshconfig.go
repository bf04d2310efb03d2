package sshconfig

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"

	"github.com/knocktools/knock/profiles"
)

// ProxyCommand is the ProxyCommand running exe (with --config cfg unless
// cfg is "") for profile name.
func ProxyCommand(exe, cfg, name string) (string, error) {
	paths := []string{exe}
	if cfg != "" {
		paths = append(paths, "--config", cfg)
	}
	words := make([]string, 0, len(paths)+5)
	for _, w := range paths {
		if strings.ContainsFunc(w, unicode.IsControl) {
			return "", fmt.Errorf("%q holds a control character, which an ssh ProxyCommand cannot carry: move it to a path without one", w)
		}
		words = append(words, strings.ReplaceAll(shellQuote(w), "%", "%%"))
	}
	words = append(words, "proxy", "--profile", name, "%h", "%p")
	return strings.Join(words, " "), nil
}

// checkValues checks again the profile values that reach ssh, where they
// are written.
func checkValues(name string, p profiles.Profile) error {
	if err := profiles.ValidateHost(p.Host); err != nil {
		return fmt.Errorf("profile %q: host %q: %w", name, p.Host, err)
	}
	if err := profiles.ValidateUser(p.User); err != nil {
		return fmt.Errorf("profile %q: user %q: %w", name, p.User, err)
	}
	return nil
}

// Host renders profile name's Host block for ssh_config. The values were
// validated when the profile was loaded; they are checked again here.
func Host(name string, p profiles.Profile, proxy string) (string, error) {
	if err := profiles.ValidateName(name, nil); err != nil {
		return "", err
	}
	if err := checkValues(name, p); err != nil {
		return "", err
	}
	if strings.ContainsFunc(proxy, unicode.IsControl) {
		return "", fmt.Errorf("profile %q: the ProxyCommand holds a control character", name)
	}
	var b strings.Builder
	// HostName expands '%' tokens; an IPv6 zone is the only '%' a valid
	// host holds.
	fmt.Fprintf(&b, "Host %s\n    HostName %s\n    Port %d\n", name, strings.ReplaceAll(p.Host, "%", "%%"), p.ServicePort())
	if p.User != "" {
		fmt.Fprintf(&b, "    User %s\n", p.User)
	}
	fmt.Fprintf(&b, "    ProxyCommand %s\n", proxy)
	return b.String(), nil
}

// CommandLine is knock ssh's argument list for ssh: our options first,
// with their values in the arguments after them (so a value can never be
// read as an option), the destination, then the user's own arguments.
// The host and user are checked again: a host that ssh could read as an
// option must never reach its command line.
func CommandLine(name string, p profiles.Profile, proxy string, extra []string) ([]string, error) {
	if err := checkValues(name, p); err != nil {
		return nil, err
	}
	args := []string{"-o", "ProxyCommand=" + proxy, "-p", strconv.Itoa(int(p.ServicePort()))}
	if p.User != "" {
		args = append(args, "-l", p.User)
	}
	return append(append(args, p.Host), extra...), nil
}
