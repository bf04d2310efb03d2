package firewall

import (
	"errors"
	"fmt"
	"os/exec"
	"strings"
)

// Choice is what auto mode found: the backend that does this host's
// filtering, and why.
type Choice struct {
	Backend string // "nftables" or "iptables"; "" when Refused
	Reason  string
	// Ambiguous: more than one firewall holds rules, or none does, so the
	// pick may not be the one that filters (knockd --check warns).
	Ambiguous bool
	// Refused: a firewall manager owns the rules (firewalld, ufw,
	// OpenWrt's fw4); adding ours beside it would not open the door or
	// would fight it. The error says what to do instead.
	Refused error
}

// ErrManaged is a firewall manager's refusal in auto mode (Choice.Refused).
var ErrManaged = errors.New("auto backend refused")

// iptablesTables are the tables iptables-nft makes in nftables: rules in
// them are iptables rules, whichever tool lists them.
var iptablesTables = map[string]bool{
	"ip filter": true, "ip6 filter": true, "ip nat": true, "ip6 nat": true, "ip mangle": true, "ip6 mangle": true,
	"ip raw": true, "ip6 raw": true, "ip security": true, "ip6 security": true, "arp filter": true, "bridge filter": true,
}

// Detect looks at what filters this host's input, for auto mode:
//   - firewalld, ufw or OpenWrt's fw4 in charge: refused, with the way to
//     open a door there;
//   - rules (or a policy other than ACCEPT) in an iptables filter table's
//     INPUT chain, legacy or nft-backed: iptables;
//   - nftables tables of their own (not iptables-nft's, not ours) and no
//     iptables rules: nftables;
//   - neither, or both: the first that applies, marked Ambiguous.
//
// It needs the privilege to list rules (root, or CAP_NET_ADMIN); without
// it the error says so.
func Detect(run Runner) (Choice, error) {
	if out, _, err := run.Run("firewall-cmd", "--state"); err == nil && strings.TrimSpace(out) == "running" {
		return Choice{Refused: fmt.Errorf("%w: firewalld manages this host's firewall, and rules added beside it do not open a door: "+
			"open one with firewall-cmd (a door's start_command: firewall-cmd --add-rich-rule='rule family=ipv4 source address=%%IP%% port port=22 protocol=tcp accept' --timeout=30), "+
			"or pass --backend nftables or --backend iptables if you know better", ErrManaged)}, nil
	}
	if out, _, err := run.Run("ufw", "status"); err == nil && strings.Contains(out, "Status: active") {
		return Choice{Refused: fmt.Errorf("%w: ufw manages this host's firewall: open a door with ufw (start_command: ufw insert 1 allow from %%IP%% to any port 22 proto tcp, "+
			"stop_command: ufw delete allow from %%IP%% to any port 22 proto tcp), or pass --backend iptables if you know better", ErrManaged)}, nil
	}
	tables, nftErr := listTables(run)
	if errors.Is(nftErr, errNoPrivilege) {
		return Choice{}, nftErr
	}
	if tables["inet fw4"] {
		return Choice{Refused: fmt.Errorf("%w: OpenWrt's fw4 manages this host's firewall: open a door through the sets the OpenWrt package ships "+
			"(start_command = nft add element inet fw4 knockd_ssh4 { %%IP%% timeout 30s }; for Open_Ports and SPA stanzas, Firewall = fw4), "+
			"or pass --backend nftables if you know better", ErrManaged)}, nil
	}
	ipt, why, err := iptablesFilters(run)
	if err != nil {
		return Choice{}, err
	}
	var own []string
	for t := range tables {
		if !iptablesTables[t] && t != "inet "+Table {
			own = append(own, t)
		}
	}
	switch {
	case ipt && len(own) > 0:
		return Choice{Backend: "iptables", Ambiguous: true, Reason: why + ", and nftables has tables of its own too (" + strings.Join(own, ", ") + ")"}, nil
	case ipt:
		return Choice{Backend: "iptables", Reason: why}, nil
	case len(own) > 0:
		return Choice{Backend: "nftables", Reason: "nftables has tables of its own (" + strings.Join(own, ", ") + ") and iptables no rules"}, nil
	case nftErr == nil:
		return Choice{Backend: "nftables", Ambiguous: true, Reason: "no firewall holds rules: nothing filters input yet"}, nil
	default:
		return Choice{Backend: "iptables", Ambiguous: true, Reason: "no firewall holds rules, and nft is not usable (" + nftErr.Error() + ")"}, nil
	}
}

var errNoPrivilege = errors.New("listing the firewall's rules needs root (or CAP_NET_ADMIN)")

// listTables returns nftables' tables as "family name".
func listTables(run Runner) (map[string]bool, error) {
	out, stderr, err := run.Run("nft", "list", "tables")
	if err != nil {
		if strings.Contains(stderr, "Operation not permitted") || strings.Contains(stderr, "Permission denied") {
			return nil, fmt.Errorf("%w: nft list tables: %s", errNoPrivilege, strings.TrimSpace(stderr))
		}
		return nil, commandError("nft", []string{"list", "tables"}, stderr, err)
	}
	tables := map[string]bool{}
	for _, line := range strings.Split(out, "\n") {
		if t, ok := strings.CutPrefix(strings.TrimSpace(line), "table "); ok {
			tables[t] = true
		}
	}
	return tables, nil
}

// iptablesFilters reports whether an iptables filter INPUT chain (IPv4 or
// IPv6, nft-backed or legacy) holds a rule or a policy other than ACCEPT.
func iptablesFilters(run Runner) (bool, string, error) {
	for _, cmd := range []string{"iptables", "ip6tables", "iptables-legacy", "ip6tables-legacy"} {
		out, stderr, err := run.Run(cmd, "-w", "-S", "INPUT")
		if err != nil {
			if errors.Is(err, exec.ErrNotFound) {
				continue
			}
			if strings.Contains(stderr, "Permission denied") || strings.Contains(stderr, "you must be root") {
				return false, "", fmt.Errorf("%w: %s -S INPUT: %s", errNoPrivilege, cmd, strings.TrimSpace(stderr))
			}
			continue // this flavour has no filter table here
		}
		for _, line := range strings.Split(out, "\n") {
			line = strings.TrimSpace(line)
			if line == "" || line == "-P INPUT ACCEPT" {
				continue
			}
			return true, cmd + "'s filter table has INPUT rules (" + line + ")", nil
		}
	}
	return false, "", nil
}
