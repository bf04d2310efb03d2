package server

import (
	"encoding/json"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/knocktools/knock"
)

// Status tells a door's openings (with when the stop command is due),
// knockers in progress (the furthest along named when verbose), and the
// firewall holes knockd fw reported in the door commands' output.
func TestStatus(t *testing.T) {
	srv := newTestServer(t, "[ssh]\nsequence = 7001,7002,7003\ncmd_timeout = 3600\n"+
		"command = echo 'knockd fw: nftables: tcp/22 for %IP%: open (rule added)'\nstop_command = true\n"+
		"[web]\nsequence = 8001,8002\ncommand = true\n", nil)
	t.Cleanup(func() { srv.Actions.Shutdown(t.Context()) })
	knock3 := func(src string, ports ...uint16) {
		for _, p := range ports {
			h := Packet{Src: netip.MustParseAddr(src), Dst: me, Proto: knock.TCP, Port: p, Flags: knock.SYN, Time: time.Now()}
			srv.Handle(&h)
		}
	}
	knock3("10.77.0.1", 7001, 7002, 7003) // opens ssh
	knock3("10.77.0.3", 7001, 7002)       // in progress at ssh, stage 2
	knock3("10.77.0.4", 7001)             // stage 1
	knock3("10.77.0.5", 8001, 8002)       // opens web, which has no stop command
	var st Status
	deadline := time.Now().Add(5 * time.Second)
	for {
		st = srv.Status(true)
		if len(st.Holes) == 1 && !st.Doors[0].Open[0].ClosesAt.IsZero() || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	ssh, web := st.Doors[0], st.Doors[1]
	if len(ssh.Open) != 1 || ssh.Open[0].Source != netip.MustParseAddr("10.77.0.1") || ssh.Open[0].NoStop ||
		time.Until(ssh.Open[0].ClosesAt) < 59*time.Minute || st.Pending != 1 {
		t.Errorf("ssh's openings %+v, pending %d", ssh.Open, st.Pending)
	}
	if ssh.Knockers != 2 || len(ssh.Top) != 2 || ssh.Top[0].Source != netip.MustParseAddr("10.77.0.3") || ssh.Top[0].Stage != 2 || ssh.Top[0].Of != 3 {
		t.Errorf("ssh's knockers %d, top %+v", ssh.Knockers, ssh.Top)
	}
	if len(web.Open) != 1 || !web.Open[0].NoStop || web.Knockers != 0 {
		t.Errorf("web %+v", web)
	}
	if len(st.Holes) != 1 || st.Holes[0] != (Hole{Door: "ssh", Backend: "nftables", Proto: "tcp", Port: 22, Source: netip.MustParseAddr("10.77.0.1"), OpenedAt: st.Holes[0].OpenedAt}) {
		t.Errorf("holes %+v", st.Holes)
	}
	if st.Counters.Opened != 2 || st.Config != "test.conf" || st.Loaded.IsZero() {
		t.Errorf("counters %+v, config %q loaded %v", st.Counters, st.Config, st.Loaded)
	}
	if quiet := srv.Status(false); quiet.Doors[0].Top != nil {
		t.Errorf("a status that is not verbose names knockers: %+v", quiet.Doors[0].Top)
	}
	out, err := json.Marshal(st)
	if err != nil || !strings.Contains(string(out), `"closes_at":`) || !strings.Contains(string(out), `"no_stop_command":true`) || strings.Contains(string(out), `"0001-01-01`) {
		t.Errorf("JSON %s: %v", out, err)
	}

	// A closed hole is forgotten; a flood of openings without a stop
	// command keeps the last maxOpenings.
	srv.Actions.noteOutput("ssh", "knockd fw: nftables: tcp/22 for 10.77.0.1: closed (1 rule(s) removed)", time.Now())
	for i := range maxOpenings + 10 {
		srv.Actions.mu.Lock()
		srv.Actions.opened("web", netip.AddrFrom4([4]byte{10, 77, 1, byte(i)}), false)
		srv.Actions.mu.Unlock()
	}
	st = srv.Status(false)
	if len(st.Holes) != 0 || len(st.Doors[1].Open) != maxOpenings {
		t.Errorf("holes %+v, web's openings %d", st.Holes, len(st.Doors[1].Open))
	}
}
