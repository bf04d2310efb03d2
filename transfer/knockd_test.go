package transfer

import (
	"github.com/knocktools/knock/profiles"
	"strings"
	"testing"

	"github.com/knocktools/knock"
	"github.com/knocktools/knock/knockdconf"
)

func TestDoorFlags(t *testing.T) {
	tests := []struct {
		seq              []string
		want             string
		uniform, withTCP bool
	}{
		{[]string{"1", "2"}, "syn,!fin,!rst,!psh,!ack,!urg", true, true},
		{[]string{"1:tcp:fin", "2:udp", "3:tcp:fin"}, "fin,!syn,!rst,!psh,!ack,!urg", true, true},
		{[]string{"1:tcp:syn+urg", "2:tcp:syn"}, "syn,!fin,!rst,!psh,!ack", false, true},
		{[]string{"1:udp"}, "", true, false},
		// ece and cwr are not knockd flags: the door ignores them.
		{[]string{"1:tcp:syn+ece"}, "syn,!fin,!rst,!psh,!ack,!urg", true, true},
	}
	for _, tt := range tests {
		seq, err := knock.ParseSequence(tt.seq, knock.Defaults{})
		if err != nil {
			t.Fatal(err)
		}
		m, uniform, anyTCP := DoorFlags(seq)
		got := m.String()
		if got != tt.want || uniform != tt.uniform || anyTCP != tt.withTCP {
			t.Errorf("%v: %q uniform=%v tcp=%v, want %q %v %v", tt.seq, got, uniform, anyTCP, tt.want, tt.uniform, tt.withTCP)
		}
		// Every TCP knock of the sequence passes the door's test.
		for _, k := range seq {
			if k.Proto == knock.TCP && !m.Matches(k.EffectiveFlags()) {
				t.Errorf("%v: knock %v does not pass %s", tt.seq, k, m)
			}
		}
	}
}

func TestPairCloseDoors(t *testing.T) {
	tests := []struct {
		name, conf string
		want       string // "open>close" pairs, space-separated
	}{
		{"classic -A/-D", `[openSSH]
sequence = 7000,8000,9000
command = /sbin/iptables -A INPUT -s %IP% -p tcp --dport 22 -j ACCEPT
[closeSSH]
sequence = 9000,8000,7000
command = /sbin/iptables -D INPUT -s %IP% -p tcp --dport 22 -j ACCEPT
`, "openSSH>closeSSH"},
		{"close first in the file, -I with a position, both families", `[close]
sequence = 2
start_command = /usr/sbin/iptables -D INPUT -s %IP% -p tcp --dport 22 -j ACCEPT
start_command_6 = /usr/sbin/ip6tables -D INPUT -s %IP% -p tcp --dport 22 -j ACCEPT
[open]
sequence = 1
start_command = /usr/sbin/iptables -I INPUT 1 -s %IP% -p tcp --dport 22 -j ACCEPT
start_command_6 = /usr/sbin/ip6tables -I INPUT 1 -s %IP% -p tcp --dport 22 -j ACCEPT
`, "open>close"},
		{"another rule", `[open]
sequence = 1
command = iptables -A INPUT -s %IP% -p tcp --dport 22 -j ACCEPT
[close]
sequence = 2
command = iptables -D INPUT -s %IP% -p tcp --dport 443 -j ACCEPT
`, ""},
		{"another table", `[open]
sequence = 1
command = iptables -t nat -A PREROUTING -s %IP% -j ACCEPT
[close]
sequence = 2
command = iptables -D PREROUTING -s %IP% -j ACCEPT
`, ""},
		{"IPv6 not undone", `[open]
sequence = 1
start_command = iptables -A INPUT -s %IP% -j ACCEPT
start_command_6 = ip6tables -A INPUT -s %IP% -j ACCEPT
[close]
sequence = 2
start_command = iptables -D INPUT -s %IP% -j ACCEPT
`, ""},
		{"a door with its own stop command is still paired", `[open]
sequence = 1
start_command = iptables -A INPUT -s %IP% -j ACCEPT
cmd_timeout = 3600
stop_command = iptables -D INPUT -s %IP% -j ACCEPT
[close]
sequence = 2
command = iptables -D INPUT -s %IP% -j ACCEPT
`, "open>close"},
		{"knockd fw, ufw, firewall-cmd, compound", `[fw]
sequence = 1
command = /usr/sbin/knockd fw open --src %IP% --port 22
[fwclose]
sequence = 2
command = /usr/sbin/knockd fw close --src %IP% --port 22
[ufw]
sequence = 3
command = ufw allow from %IP% to any port 22
[ufwclose]
sequence = 4
command = ufw delete allow from %IP% to any port 22
[fwd]
sequence = 5
command = firewall-cmd --add-rich-rule='rule family="ipv4" source address="%IP%" service name="ssh" accept'
[fwdclose]
sequence = 6
command = firewall-cmd --remove-rich-rule='rule family="ipv4" source address="%IP%" service name="ssh" accept'
[two]
sequence = 7
command = iptables -A INPUT -s %IP% -p tcp --dport 22 -j ACCEPT && logger opened %IP%
[twoclose]
sequence = 8
command = logger closing; iptables -D INPUT -s %IP% -p tcp --dport 22 -j ACCEPT
`, "fw>fwclose ufw>ufwclose fwd>fwdclose two>twoclose"},
		{"two opens, one close: the first wins", `[a]
sequence = 1
command = iptables -A INPUT -s %IP% -j ACCEPT
[b]
sequence = 2
command = iptables -I INPUT -s %IP% -j ACCEPT
[c]
sequence = 3
command = iptables -D INPUT -s %IP% -j ACCEPT
`, "a>c"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := knockdconf.Parse("k.conf", []byte(tt.conf))
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, p := range PairCloseDoors(c.Doors) {
				got = append(got, p.Open.Name+">"+p.Close.Name)
			}
			if strings.Join(got, " ") != tt.want {
				t.Fatalf("pairs %q, want %q", got, tt.want)
			}
		})
	}
}

func TestCloseSequenceOf(t *testing.T) {
	c, err := knockdconf.Parse("k.conf", []byte("[o]\nsequence = 1,2\ncommand = x\n[c]\nsequence = 3,4:udp\ntcpflags = fin\ncommand = y\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(CloseSequenceOf(c.Doors[0], c.Doors[1]), " "); got != "3:tcp:fin 4:udp" {
		t.Fatalf("close sequence %q", got)
	}
}

func TestExportWithCloseSequence(t *testing.T) {
	p := profiles.Profile{Host: "h", Sequence: []string{"7000", "8000"}, CloseSequence: []string{"8000", "7000:tcp:fin"}, Port: 2222}
	door, err := ExportKnockd("ssh", p)
	if err != nil {
		t.Fatal(err)
	}
	c, err := knockdconf.Parse("export", []byte(door))
	if err != nil {
		t.Fatalf("%v\n%s", err, door)
	}
	if len(c.Doors) != 2 || c.Doors[1].Name != "ssh-close" {
		t.Fatalf("doors %v\n%s", c.Doors, door)
	}
	pairs := PairCloseDoors(c.Doors)
	if len(pairs) != 1 || pairs[0].Open.Name != "ssh" || pairs[0].Close.Name != "ssh-close" {
		t.Fatalf("the exported doors do not pair back: %v\n%s", pairs, door)
	}
	if c.Doors[0].StopCommand != "" || !strings.Contains(c.Doors[0].StartCommand, "-I INPUT") ||
		!strings.Contains(c.Doors[1].StartCommand, "-D INPUT -s %IP% -p tcp --dport 2222") {
		t.Fatalf("commands:\n%s", door)
	}
	// A time-based profile with a close sequence: a time door, then a fixed one.
	p = profiles.Profile{Host: "h", Secret: "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", CloseSequence: []string{"9000"}}
	if door, err = ExportKnockd("t", p); err != nil || !strings.Contains(door, "[t-close]\n\tsequence        = 9000:tcp") {
		t.Fatalf("%v\n%s", err, door)
	}
}
