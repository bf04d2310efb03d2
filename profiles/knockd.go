package profiles

import (
	"fmt"
	"math"
	"path/filepath"
	"regexp"
	"strings"
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
	if p.TimeBased() {
		return exportTimeBased(name, p)
	}
	seq, err := p.KnockSequence(false)
	if err != nil {
		return "", fmt.Errorf("profile %q: %w", name, err)
	}
	timeout := seqTimeout(p, len(seq))
	var b strings.Builder
	fmt.Fprintf(&b, "# knock profile %q (host %s)\n", name, p.Host)
	fmt.Fprintf(&b, "[%s]\n", name)
	fmt.Fprintf(&b, "\tsequence        = %s\n", seq.KnockdString())
	fmt.Fprintf(&b, "\tseq_timeout     = %d\n", timeout)
	if m, uniform, anyTCP := DoorFlags(seq); anyTCP {
		if !uniform {
			b.WriteString("\t# the knocks carry different TCP flags: the door accepts each of them\n")
		}
		if m.Set != 0 || m.Clear != 0 {
			fmt.Fprintf(&b, "\ttcpflags        = %s\n", m)
		}
	}
	writeCommands(&b, p.ServicePort())
	return b.String(), nil
}

// seqTimeout is the Seq_Timeout of a door for the profile's knocks:
// knockd times a sequence from its first knock, so it leaves the delays
// between the knocks and five seconds for the network and the client.
func seqTimeout(p Profile, knocks int) int {
	return 5 + int(math.Ceil(time.Duration(p.Delay).Seconds()*float64(knocks-1)))
}

// writeCommands writes a door's commands opening port for ten seconds.
func writeCommands(b *strings.Builder, port uint16) {
	rule := fmt.Sprintf("INPUT -s %%IP%% -p tcp --dport %d -j ACCEPT", port)
	fmt.Fprintf(b, "\tstart_command   = /usr/sbin/iptables -I %s\n", rule)
	fmt.Fprintf(b, "\tstart_command_6 = /usr/sbin/ip6tables -I %s\n", rule)
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
	writeCommands(&b, p.ServicePort())
	return b.String(), nil
}

var badNameChars = regexp.MustCompile(`[^A-Za-z0-9_.-]+`)

// ImportName turns a knockd door name into a profile name.
func ImportName(door string) string {
	return strings.Trim(badNameChars.ReplaceAllString(door, "-"), "-_.")
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
	p := Profile{Host: host, Description: fmt.Sprintf("imported from %s [%s]", filepath.Base(file), d.Name)}
	for _, k := range d.Sequence {
		p.Sequence = append(p.Sequence, k.String())
	}
	if set := d.Flags.Set; set != 0 && set != knock.SYN {
		p.Flags = set.String()
	}
	return p, p.Validate(false)
}
