package profiles

import (
	"testing"

	"github.com/knocktools/knock"
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
