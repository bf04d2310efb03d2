package profiles

import (
	"fmt"
	"math"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/knocktools/knock"
	"github.com/knocktools/knock/server/config"
)

// sixFlags are the flags knockd's TCPFlags can test.
const sixFlags = knock.FIN | knock.SYN | knock.RST | knock.PSH | knock.ACK | knock.URG

// DoorFlags is the TCPFlags test that accepts exactly the TCP knocks of seq:
// the flags every knock sets must be set, the flags none sets must be
// clear. It is exact when all TCP knocks carry the same flags (a plain SYN
// door gets "syn,!fin,!rst,!psh,!ack,!urg"). uniform reports that case.
func DoorFlags(seq knock.Sequence) (m knock.FlagMatch, uniform, anyTCP bool) {
	all, some := sixFlags, knock.TCPFlags(0)
	var first knock.TCPFlags
	uniform = true
	for _, k := range seq {
		if k.Proto != knock.TCP {
			continue
		}
		f := k.EffectiveFlags() & sixFlags
		if !anyTCP {
			first = f
		}
		anyTCP = true
		uniform = uniform && f == first
		all &= f
		some |= f
	}
	if !anyTCP {
		return knock.FlagMatch{}, true, false
	}
	return knock.FlagMatch{Set: all, Clear: sixFlags &^ some}, uniform, true
}

// ExportKnockd renders the knockd.conf door that opens for this profile's
// sequence and lets the knocker reach the profile's port (default 22) for
// ten seconds, with iptables / ip6tables commands.
func ExportKnockd(name string, p Profile) (string, error) {
	if p.SPA != nil {
		return "", fmt.Errorf("profile %q is an SPA profile: its server is fwknopd (profile export --fwknopd)", name)
	}
	if p.TimeBased() {
		return exportTimeBased(name, p)
	}
	seq, err := p.KnockSequence(false)
	if err != nil {
		return "", fmt.Errorf("profile %q: %w", name, err)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# knock profile %q (host %s)\n", name, p.Host)
	if len(p.CloseSequence) == 0 {
		writeDoor(&b, name, p, seq)
		writeCommands(&b, p.ServicePort())
		return b.String(), nil
	}
	c, _ := p.Closing()
	closeSeq, err := c.KnockSequence(false)
	if err != nil {
		return "", fmt.Errorf("profile %q: close_sequence: %w", name, err)
	}
	b.WriteString("# Opened by the first door until the second closes it (knock NAME --close,\n")
	b.WriteString("# or knock ssh when ssh exits); established connections stay up.\n")
	writeDoor(&b, name, p, seq)
	writeOpenClose(&b, p.ServicePort(), "-I")
	writeDoor(&b, name+"-close", p, closeSeq)
	writeOpenClose(&b, p.ServicePort(), "-D")
	return b.String(), nil
}

// writeDoor writes a door's header, sequence, timeout and TCPFlags.
func writeDoor(b *strings.Builder, name string, p Profile, seq knock.Sequence) {
	fmt.Fprintf(b, "[%s]\n", name)
	for _, k := range seq {
		if k.HasPayload {
			b.WriteString("\t# knockd does not look at UDP payloads: any datagram to these ports counts\n")
			break
		}
	}
	fmt.Fprintf(b, "\tsequence        = %s\n", seq.KnockdString())
	fmt.Fprintf(b, "\tseq_timeout     = %d\n", seqTimeout(p, len(seq)))
	if m, uniform, anyTCP := DoorFlags(seq); anyTCP {
		if !uniform {
			b.WriteString("\t# the knocks carry different TCP flags: the door accepts each of them\n")
		}
		if m.Set != 0 || m.Clear != 0 {
			fmt.Fprintf(b, "\ttcpflags        = %s\n", m)
		}
	}
	if p.AllowRepeats {
		b.WriteString("\tallow_repeats   = yes\n")
	}
}

// writeOpenClose writes the commands that insert (-I) or delete (-D) the
// rule letting the knocker reach port. The insert checks first (-C), so
// that a knock repeated while the door is open (knock proxy knocks again
// halfway through its wait) adds no second copy that the close would
// leave behind.
func writeOpenClose(b *strings.Builder, port uint16, op string) {
	rule := acceptRule(port)
	for _, fw := range []struct{ key, prog string }{{"start_command  ", "iptables"}, {"start_command_6", "ip6tables"}} {
		cmd := fmt.Sprintf("/usr/sbin/%s %s %s", fw.prog, op, rule)
		if op == "-I" {
			// The check's "Bad rule" on every open is no news: quiet.
			cmd = keepEstablished(fw.prog) + fmt.Sprintf("/usr/sbin/%s -C %s 2>/dev/null || %s", fw.prog, rule, cmd)
		}
		fmt.Fprintf(b, "\t%s = %s\n", fw.key, cmd)
	}
}

// seqTimeout is the Seq_Timeout of a door for the profile's knocks:
// knockd times a sequence from its first knock, so it leaves the delays
// between the knocks and five seconds for the network and the client.
func seqTimeout(p Profile, knocks int) int {
	return 5 + int(math.Ceil(time.Duration(p.Delay).Seconds()*float64(knocks-1)))
}

// acceptRule is the iptables rule a door's commands add and delete: the
// knocker may reach port.
func acceptRule(port uint16) string {
	return fmt.Sprintf("INPUT -s %%IP%% -p tcp --dport %d -j ACCEPT", port)
}

// keepEstablished is the start of a door's start command that makes sure,
// once, that the firewall keeps established connections: the door's
// close removes the knocker's rule, and without it the ssh session the
// door let in would die with it.
func keepEstablished(prog string) string {
	rule := "INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT"
	return fmt.Sprintf("/usr/sbin/%s -C %s 2>/dev/null || /usr/sbin/%s -I %s; ", prog, rule, prog, rule)
}

// writeCommands writes a door's commands opening port for ten seconds.
func writeCommands(b *strings.Builder, port uint16) {
	rule := acceptRule(port)
	fmt.Fprintf(b, "\tstart_command   = %s/usr/sbin/iptables -I %s\n", keepEstablished("iptables"), rule)
	fmt.Fprintf(b, "\tstart_command_6 = %s/usr/sbin/ip6tables -I %s\n", keepEstablished("ip6tables"), rule)
	fmt.Fprintf(b, "\tcmd_timeout     = 10\n")
	fmt.Fprintf(b, "\tstop_command    = /usr/sbin/iptables -D %s\n", rule)
	fmt.Fprintf(b, "\tstop_command_6  = /usr/sbin/ip6tables -D %s\n", rule)
}

// exportTimeBased renders the door of a time-based profile: the same
// secret and parameters, for our knockd (knockd 0.8 has no such door).
func exportTimeBased(name string, p Profile) (string, error) {
	ts, err := p.TimeSequence()
	if err != nil {
		return "", fmt.Errorf("profile %q: %w", name, err)
	}
	timeout := seqTimeout(p, ts.Length)
	var closeSeq knock.Sequence
	if len(p.CloseSequence) > 0 {
		c, _ := p.Closing()
		if closeSeq, err = c.KnockSequence(false); err != nil {
			return "", fmt.Errorf("profile %q: close_sequence: %w", name, err)
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# knock profile %q (host %s): a time-based door for this project's knockd.\n", name, p.Host)
	fmt.Fprintf(&b, "# The secret opens the door: keep this file readable by root only, or put the\n")
	fmt.Fprintf(&b, "# secret in a file of mode 0600 and write sequence_secret = file:PATH.\n")
	fmt.Fprintf(&b, "[%s]\n", name)
	fmt.Fprintf(&b, "\tsequence_secret   = %s\n", knock.EncodeSecret(ts.Secret))
	fmt.Fprintf(&b, "\tsequence_length   = %d\n", ts.Length)
	fmt.Fprintf(&b, "\tsequence_ports    = %d-%d\n", ts.PortMin, ts.PortMax)
	fmt.Fprintf(&b, "\tsequence_period   = %d\n", int(ts.Period.Seconds()))
	fmt.Fprintf(&b, "\tsequence_protocol = %s\n", ts.Protocol)
	fmt.Fprintf(&b, "\tseq_timeout       = %d\n", timeout)
	if closeSeq == nil {
		writeCommands(&b, p.ServicePort())
		return b.String(), nil
	}
	writeOpenClose(&b, p.ServicePort(), "-I")
	writeDoor(&b, name+"-close", p, closeSeq)
	writeOpenClose(&b, p.ServicePort(), "-D")
	return b.String(), nil
}

var badNameChars = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`[^A-Za-z0-9_.-]+`) })

// ImportName turns a knockd door name into a profile name.
func ImportName(door string) string {
	return strings.Trim(badNameChars().ReplaceAllString(door, "-"), "-_.")
}

// ImportKnockd makes a profile of a knockd door, to be knocked at host. A
// door with TCPFlags gets the flags it requires; a door that uses
// One_Time_Sequences cannot become a fixed profile and is refused.
func ImportKnockd(d *config.Door, host, file string) (Profile, error) {
	if d.OneTimeFile != "" {
		return Profile{}, fmt.Errorf("door [%s] uses One_Time_Sequences, which a saved profile cannot follow", d.Name)
	}
	if d.Time != nil {
		return Profile{}, fmt.Errorf("door [%s] uses Sequence_Secret, which profiles cannot hold yet", d.Name)
	}
	p := Profile{Host: host, Description: fmt.Sprintf("imported from %s [%s]", filepath.Base(file), d.Name), AllowRepeats: d.AllowRepeats}
	for _, k := range d.Sequence {
		p.Sequence = append(p.Sequence, k.String())
	}
	if set := d.Flags.Set; set != 0 && set != knock.SYN {
		p.Flags = set.String()
	}
	return p, p.Validate(false)
}

// CloseDoor pairs an imported door with the door that undoes it.
type CloseDoor struct {
	Open, Close *config.Door
}

// PairCloseDoors finds, for each door, a later or earlier door whose
// commands undo its commands (iptables -A/-I against -D of the same rule,
// "knockd fw open" against "close", "ufw allow" against "ufw delete
// allow", firewall-cmd --add-* against --remove-*), as a knockd.conf with
// an openSSH and a closeSSH door has them. Each door is in one pair at
// most; the first match in file order wins.
func PairCloseDoors(doors []*config.Door) []CloseDoor {
	var pairs []CloseDoor
	used := map[*config.Door]bool{}
	for _, open := range doors {
		if used[open] || !plainDoor(open) {
			continue
		}
		for _, cl := range doors {
			if cl == open || used[cl] || !plainDoor(cl) || !doorUndoes(open, cl) {
				continue
			}
			pairs = append(pairs, CloseDoor{Open: open, Close: cl})
			used[open], used[cl] = true, true
			break
		}
	}
	return pairs
}

// plainDoor is a door with a fixed sequence and a start command.
func plainDoor(d *config.Door) bool {
	return d.OneTimeFile == "" && d.Time == nil && len(d.Sequence) > 0 && strings.TrimSpace(d.StartCommand) != ""
}

// doorUndoes reports whether door cl's commands undo door open's, for
// both address families.
func doorUndoes(open, cl *config.Door) bool {
	if !commandUndoes(open.StartCommand, cl.StartCommand) {
		return false
	}
	if open.StartCommand6 != nil && strings.TrimSpace(*open.StartCommand6) != "" {
		return commandUndoes(*open.StartCommand6, cl.Start(true))
	}
	return true
}

// commandUndoes reports whether shell command b undoes a: each of a's
// parts (split at ';' and '&&') that adds a rule has its inverse in b,
// and a has at least one.
func commandUndoes(a, b string) bool {
	undo := map[string]bool{}
	for _, part := range commandParts(b) {
		if key, ok := ruleKey(part, false); ok {
			undo[key] = true
		}
	}
	found := false
	for _, part := range commandParts(a) {
		key, ok := ruleKey(part, true)
		if !ok || keepsEstablished(part) {
			continue // no rule, or one meant to stay (keepEstablished)
		}
		if !undo[key] {
			return false
		}
		found = true
	}
	return found
}

// keepsEstablished reports whether an iptables command adds a rule for
// established connections, which a door adds once and never removes.
func keepsEstablished(cmd string) bool {
	return strings.Contains(cmd, "ESTABLISHED") && (strings.Contains(cmd, "--ctstate") || strings.Contains(cmd, "--state"))
}

// commandParts splits a shell command at ';', '&&', '||' and newlines.
func commandParts(cmd string) []string {
	cmd = strings.NewReplacer("&&", ";", "||", ";").Replace(cmd)
	return strings.FieldsFunc(cmd, func(r rune) bool { return r == ';' || r == '\n' })
}

// ruleKey reduces a command that adds (add true) or removes a rule to a
// key that both spellings share, or ok false when it is neither.
func ruleKey(cmd string, add bool) (string, bool) {
	w := strings.Fields(cmd)
	if len(w) == 0 {
		return "", false
	}
	prog := filepath.Base(w[0])
	switch {
	case strings.HasPrefix(prog, "iptables") || strings.HasPrefix(prog, "ip6tables"):
		for i := 1; i < len(w)-1; i++ {
			op := w[i]
			rest := w[i+2:]
			switch {
			case add && (op == "-A" || op == "--append"):
			case add && (op == "-I" || op == "--insert"):
				if len(rest) > 0 && isNumber(rest[0]) {
					rest = rest[1:] // the position
				}
			case !add && (op == "-D" || op == "--delete"):
			default:
				continue
			}
			family := "4"
			if strings.HasPrefix(prog, "ip6") {
				family = "6"
			}
			return strings.Join(append([]string{"iptables" + family, strings.Join(w[1:i], " "), w[i+1]}, rest...), " "), true
		}
	case prog == "knockd" && len(w) > 2 && w[1] == "fw":
		if add && w[2] == "open" || !add && w[2] == "close" {
			return "knockd fw " + strings.Join(w[3:], " "), true
		}
	case prog == "ufw":
		if add && len(w) > 1 && (w[1] == "allow" || w[1] == "insert") {
			return "ufw " + strings.Join(w[1:], " "), true
		}
		if !add && len(w) > 2 && w[1] == "delete" {
			return "ufw " + strings.Join(w[2:], " "), true
		}
	case prog == "firewall-cmd":
		key, changed := []string{"firewall-cmd"}, false
		for _, a := range w[1:] {
			if add && strings.HasPrefix(a, "--add-") || !add && strings.HasPrefix(a, "--remove-") {
				a, changed = "--"+strings.SplitN(a, "-", 4)[3], true
			}
			key = append(key, a)
		}
		if changed {
			return strings.Join(key, " "), true
		}
	}
	return "", false
}

func isNumber(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}

// CloseSequenceOf is the close_sequence for a profile imported from
// open, knocking cl: its knocks carry the flags cl's TCPFlags requires
// when they differ from open's.
func CloseSequenceOf(open, cl *config.Door) []string {
	var out []string
	for _, k := range cl.Sequence {
		if k.Proto == knock.TCP && cl.Flags.Set != open.Flags.Set && cl.Flags.Set != 0 {
			k.Flags = cl.Flags.Set
		}
		out = append(out, k.String())
	}
	return out
}
