package transfer

import (
	"errors"
	"fmt"
	"github.com/knocktools/knock/profiles"
	"math"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/knocktools/knock"
	"github.com/knocktools/knock/knockdconf"
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
func ExportKnockd(name string, p profiles.Profile) (string, error) {
	if p.SPA != nil {
		return "", fmt.Errorf("profile %q is an SPA profile: its server is fwknopd (profile export --fwknopd)", name)
	}
	door := &knockdconf.Door{Name: name}
	var b strings.Builder
	if p.TimeBased() {
		ts, err := p.TimeSequence()
		if err != nil {
			return "", fmt.Errorf("profile %q: %w", name, err)
		}
		door.Time, door.SeqTimeout = &ts, seqTimeout(p, ts.Length)
		fmt.Fprintf(&b, "# knock profile %q (host %s): a time-based door for this project's knockd.\n", name, p.Host)
		b.WriteString("# The secret opens the door: keep this file readable by root only, or put the\n")
		b.WriteString("# secret in a file of mode 0600 and write sequence_secret = file:PATH.\n")
	} else {
		seq, err := p.KnockSequence(false)
		if err != nil {
			return "", fmt.Errorf("profile %q: %w", name, err)
		}
		knockDoor(door, p, seq)
		fmt.Fprintf(&b, "# knock profile %q (host %s)\n", name, p.Host)
	}
	rule := acceptRule(p.ServicePort())
	if len(p.CloseSequence) == 0 {
		// Open for ten seconds.
		door.StartCommand = keepEstablished("iptables") + iptables("iptables", "-I", rule)
		door.StartCommand6 = ptr(keepEstablished("ip6tables") + iptables("ip6tables", "-I", rule))
		door.CmdTimeout = 10 * time.Second
		door.StopCommand = iptables("iptables", "-D", rule)
		door.StopCommand6 = ptr(iptables("ip6tables", "-D", rule))
		b.WriteString(knockdconf.FormatDoor(door, exportStyle))
		return b.String(), nil
	}
	c, _ := p.Closing()
	closeSeq, err := c.KnockSequence(false)
	if err != nil {
		return "", fmt.Errorf("profile %q: close_sequence: %w", name, err)
	}
	if !p.TimeBased() {
		b.WriteString("# Opened by the first door until the second closes it (knock NAME --close,\n")
		b.WriteString("# or knock ssh when ssh exits); established connections stay up.\n")
	}
	// The open checks first (-C), so that a knock repeated while the door
	// is open (knock proxy knocks again halfway through its wait) adds no
	// second copy that the close would leave behind; the check's "Bad
	// rule" on every open is no news: quiet.
	door.StartCommand = keepEstablished("iptables") + checkFirst("iptables", rule)
	door.StartCommand6 = ptr(keepEstablished("ip6tables") + checkFirst("ip6tables", rule))
	closing := &knockdconf.Door{Name: name + "-close",
		StartCommand:  iptables("iptables", "-D", rule),
		StartCommand6: ptr(iptables("ip6tables", "-D", rule)),
	}
	knockDoor(closing, p, closeSeq)
	b.WriteString(knockdconf.FormatDoor(door, exportStyle))
	b.WriteString(knockdconf.FormatDoor(closing, exportStyle))
	return b.String(), nil
}

// exportStyle writes a door as knockd.conf's sample does, with a comment
// where the door cannot be exactly what the profile knocks.
var exportStyle = func() knockdconf.Style {
	s := knockdconf.Sample
	s.Note = func(d *knockdconf.Door, key string) []string {
		switch key {
		case "sequence":
			for _, k := range d.Sequence {
				if k.HasPayload {
					return []string{"knockd does not look at UDP payloads: any datagram to these ports counts"}
				}
			}
		case "tcpflags":
			if _, uniform, _ := DoorFlags(d.Sequence); !uniform {
				return []string{"the knocks carry different TCP flags: the door accepts each of them"}
			}
		}
		return nil
	}
	return s
}()

// knockDoor sets a door's knock from a fixed sequence: the sequence, the
// timeout and the TCPFlags test that accepts its knocks.
func knockDoor(d *knockdconf.Door, p profiles.Profile, seq knock.Sequence) {
	d.Sequence, d.SeqTimeout, d.AllowRepeats = seq, seqTimeout(p, len(seq)), p.AllowRepeats
	if m, _, anyTCP := DoorFlags(seq); anyTCP {
		d.Flags = m
	}
}

// seqTimeout is the Seq_Timeout of a door for the profile's knocks:
// knockd times a sequence from its first knock, so it leaves the delays
// between the knocks and five seconds for the network and the client.
func seqTimeout(p profiles.Profile, knocks int) time.Duration {
	return time.Duration(5+int(math.Ceil(time.Duration(p.Delay).Seconds()*float64(knocks-1)))) * time.Second
}

// acceptRule is the iptables rule a door's commands add and delete: the
// knocker may reach port.
func acceptRule(port uint16) string {
	return fmt.Sprintf("INPUT -s %%IP%% -p tcp --dport %d -j ACCEPT", port)
}

// iptables is the command that checks (-C), inserts (-I) or deletes (-D)
// rule.
func iptables(prog, op, rule string) string {
	return fmt.Sprintf("/usr/sbin/%s %s %s", prog, op, rule)
}

// checkFirst inserts rule unless it is there already.
func checkFirst(prog, rule string) string {
	return iptables(prog, "-C", rule) + " 2>/dev/null || " + iptables(prog, "-I", rule)
}

// keepEstablished is the start of a door's start command that makes sure,
// once, that the firewall keeps established connections: the door's
// close removes the knocker's rule, and without it the ssh session the
// door let in would die with it.
func keepEstablished(prog string) string {
	rule := "INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT"
	return fmt.Sprintf("/usr/sbin/%s -C %s 2>/dev/null || /usr/sbin/%s -I %s; ", prog, rule, prog, rule)
}

func ptr(s string) *string { return &s }

var badNameChars = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`[^A-Za-z0-9_.-]+`) })

// ImportName turns a knockd door name into a profile name.
func ImportName(door string) string {
	return strings.Trim(badNameChars().ReplaceAllString(door, "-"), "-_.")
}

// ImportKnockd makes a profile of a knockd door, to be knocked at host. A
// door with TCPFlags gets the flags it requires; a door that uses
// One_Time_Sequences cannot become a fixed profile and is refused.
func ImportKnockd(d *knockdconf.Door, host, file string) (profiles.Profile, error) {
	if d.OneTimeFile != "" {
		return profiles.Profile{}, errors.New("it uses One_Time_Sequences, which a saved profile cannot follow")
	}
	if d.Time != nil {
		return profiles.Profile{}, errors.New("it uses Sequence_Secret, which profiles cannot hold yet")
	}
	p := profiles.Profile{Host: host, Description: fmt.Sprintf("imported from %s [%s]", filepath.Base(file), d.Name), AllowRepeats: d.AllowRepeats}
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
	Open, Close *knockdconf.Door
}

// PairCloseDoors finds, for each door, a later or earlier door whose
// commands undo its commands (iptables -A/-I against -D of the same rule,
// "knockd fw open" against "close", "ufw allow" against "ufw delete
// allow", firewall-cmd --add-* against --remove-*), as a knockd.conf with
// an openSSH and a closeSSH door has them. Each door is in one pair at
// most; the first match in file order wins.
func PairCloseDoors(doors []*knockdconf.Door) []CloseDoor {
	var pairs []CloseDoor
	used := map[*knockdconf.Door]bool{}
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
func plainDoor(d *knockdconf.Door) bool {
	return d.OneTimeFile == "" && d.Time == nil && len(d.Sequence) > 0 && strings.TrimSpace(d.StartCommand) != ""
}

// doorUndoes reports whether door cl's commands undo door open's, for
// both address families.
func doorUndoes(open, cl *knockdconf.Door) bool {
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
func CloseSequenceOf(open, cl *knockdconf.Door) []string {
	var out []string
	for _, k := range cl.Sequence {
		if k.Proto == knock.TCP && cl.Flags.Set != open.Flags.Set && cl.Flags.Set != 0 {
			k.Flags = cl.Flags.Set
		}
		out = append(out, k.String())
	}
	return out
}
