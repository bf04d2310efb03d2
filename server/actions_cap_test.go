package server

import (
	"context"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/knocktools/knock"
)

// Door commands run as root, so their number is capped: a sequence
// completed from many sources at once starts at most MaxDoorCommands of
// a door's commands and MaxCommands in all; the knocks past the caps are
// not opened and use nothing up (a one-time door keeps its line), stop
// commands wait for a slot and are never dropped.
func TestCommandsAreCapped(t *testing.T) {
	dir := t.TempDir()
	gate, trace, seqs := filepath.Join(dir, "gate"), filepath.Join(dir, "trace"), filepath.Join(dir, "seqs")
	os.WriteFile(seqs, []byte(" 7101\n 7102\n"), 0o600)
	// Each start command waits until the test makes the gate file.
	cmd := "while [ ! -e " + gate + " ]; do sleep 0.01; done; echo open %IP% >> " + trace
	var logged lockedBuffer
	srv := newTestServer(t, "[d]\nsequence = 7001\ncmd_timeout = 0\ncommand = "+cmd+"\nstop_command = echo close %IP% >> "+trace+
		"\n[once]\none_time_sequences = "+seqs+"\ncmd_timeout = 0\ncommand = "+cmd+"\nstop_command = echo close %IP% >> "+trace+"\n", &logged)
	srv.SetLocal([]netip.Addr{me})
	srv.Actions.SetLimits(3, 2)
	knockFrom := func(last byte, port uint16) {
		h := Packet{Src: netip.AddrFrom4([4]byte{10, 77, 0, last}), Dst: me, Proto: knock.TCP, Port: port, Flags: knock.SYN, Time: t0}
		srv.Handle(&h)
	}
	for i := range 5 {
		knockFrom(byte(10+i), 7001) // 2 run, 3 are dropped (MaxDoorCommands)
	}
	knockFrom(20, 7101) // the third slot
	knockFrom(21, 7102) // none left in all (MaxCommands): not opened
	if got := srv.Stats().Opened; got != 3 {
		t.Fatalf("opened %d, want 3:\n%s", got, logged.String())
	}
	log := logged.String()
	if n := strings.Count(log, "sequence complete, but not opened: 2 of this door's commands running, MaxDoorCommands (the knock used nothing up)"); n != 3 {
		t.Fatalf("%d knocks dropped at the door's cap, want 3:\n%s", n, log)
	}
	if !strings.Contains(log, "10.77.0.21: once: sequence complete, but not opened: 3 commands running, MaxCommands") {
		t.Fatalf("the knock past MaxCommands is not logged:\n%s", log)
	}
	// The dropped one-time knock used nothing: 7102 is still the next line.
	if b, _ := os.ReadFile(seqs); string(b) != "#7101\n 7102\n" {
		t.Fatalf("one-time file %q", b)
	}
	if d := srv.tracker.Doors[1]; len(d.Seq) != 1 || d.Seq[0].Port != 7102 {
		t.Fatalf("one-time door moved on to %v", d.Seq)
	}
	// Let the three commands finish: their stop commands all run.
	os.WriteFile(gate, nil, 0o600)
	waitFor(t, "three opens and three closes", func() bool {
		b, _ := os.ReadFile(trace)
		return strings.Count(string(b), "open ") == 3 && strings.Count(string(b), "close ") == 3
	})
	// With the slots free again, the one-time door's next line opens.
	knockFrom(22, 7102)
	if got := srv.Stats().Opened; got != 4 {
		t.Fatalf("opened %d, want 4:\n%s", got, logged.String())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	srv.Actions.Shutdown(ctx)
	if b, _ := os.ReadFile(trace); strings.Count(string(b), "close ") != 4 {
		t.Fatalf("trace after shutdown:\n%s", b)
	}
}
