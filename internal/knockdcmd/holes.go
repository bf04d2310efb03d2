package knockdcmd

import (
	"fmt"
	"strings"

	"github.com/knocktools/knock/firewall"
	"github.com/knocktools/knock/knockdconf"
)

// builtinNeed says what needs the built-in firewall: the doors with
// Open_Ports and the SPA stanzas without CMD_CYCLE_OPEN; "" for nothing.
func builtinNeed(cfg *knockdconf.Config, spac *spaConfig) string {
	var need []string
	for _, d := range cfg.Doors {
		if len(d.OpenPorts) > 0 {
			need = append(need, "door "+d.Name+"'s Open_Ports")
		}
	}
	if spac != nil {
		for i, s := range spac.access.Stanzas {
			if s.CmdCycleOpen == "" {
				need = append(need, fmt.Sprintf("SPA stanza #%d (no CMD_CYCLE_OPEN)", i+1))
			}
		}
	}
	if len(need) > 3 {
		need = append(need[:3], fmt.Sprintf("%d more", len(need)-3))
	}
	return strings.Join(need, ", ")
}

// builtinBackend is the built-in firewall's backend by name: the
// --firewall flag, else knockd.conf's Firewall, else what fwknopd.conf's
// FIREWALL_EXE names, else auto.
func builtinBackend(flag string, cfg *knockdconf.Config, spac *spaConfig) string {
	if flag != "" {
		return flag
	}
	if cfg.Firewall != "" {
		return cfg.Firewall
	}
	if spac != nil {
		switch exe := spac.server.Firewall["FIREWALL_EXE"]; {
		case strings.Contains(exe, "iptables"):
			return "iptables"
		case strings.Contains(exe, "nft"):
			return "nftables"
		}
	}
	return "auto"
}

// builtinFirewall is the built-in firewall, when something needs it (nil
// otherwise); an error names what needs it and how to choose one.
func builtinFirewall(flag string, cfg *knockdconf.Config, spac *spaConfig, run firewall.Runner) (firewall.Holes, error) {
	need := builtinNeed(cfg, spac)
	if need == "" {
		return nil, nil
	}
	name := builtinBackend(flag, cfg, spac)
	h, err := firewall.NewHoles(name, run)
	if err != nil {
		return nil, fmt.Errorf("%s: the built-in firewall (%s): %w; choose one with Firewall = nftables, fw4 or iptables in [options] (or --firewall)", need, name, err)
	}
	return h, nil
}

// builtinCheck is --check's account of the built-in firewall: a line
// saying which and for what ("" when nothing needs it), and warnings when
// auto cannot decide clearly here.
func builtinCheck(flag string, cfg *knockdconf.Config, spac *spaConfig, run firewall.Runner) (string, []string) {
	need := builtinNeed(cfg, spac)
	if need == "" {
		return "", nil
	}
	name := builtinBackend(flag, cfg, spac)
	if name != "auto" {
		return fmt.Sprintf("built-in firewall: %s, for %s", name, need), nil
	}
	line := fmt.Sprintf("built-in firewall: auto, for %s", need)
	backend, why := autoDoubt(run)
	switch {
	case why == "":
		return line + " (" + backend + " here)", nil
	case backend != "":
		line += " (would be " + backend + ")"
	}
	return line, []string{"the built-in firewall is auto, and " + why + "; set Firewall in [options] (or --firewall)"}
}
