package server

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"testing"
	"time"

	"github.com/knocktools/knock"
	"github.com/knocktools/knock/fwknopconf"
	"github.com/knocktools/knock/spa"
	"github.com/knocktools/knock/spadoor"
)

// An SPA packet on the SPA port goes to the verifier, not the doors; a
// dry run (knockd --replay) says what its stanza would run, with fwknopd's
// variables filled in, and the kernel filter lets the SPA port through.
func TestSPAStage(t *testing.T) {
	var out bytes.Buffer
	srv := newTestServer(t, "[d]\nsequence = 7001,7002\n", nil)
	srv.Actions.DryRun = &out
	a, err := fwknopconf.ParseAccess("access.conf", []byte("SOURCE ANY\nKEY a-passphrase-for-tests\nHMAC_KEY an-hmac-key-for-the-tests\n"+
		"REQUIRE_SOURCE_ADDRESS Y\nCMD_CYCLE_OPEN open $SRC $PROTO/$PORT $TIMEOUT from $PKT_SRC to $DST\nCMD_CYCLE_CLOSE close $IP\nCMD_CYCLE_TIMER 9\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	srv.SetSPA(&SPA{Port: 62201, Verifier: &spadoor.Verifier{Stanzas: a.Stanzas, Replays: &spadoor.Cache{}}})
	if _, udp := srv.filterPorts(); len(udp) != 1 || udp[0] != 62201 {
		t.Fatalf("filter's udp ports %v", udp)
	}
	k := spa.Keys{Key: []byte("a-passphrase-for-tests"), HMACKey: []byte("an-hmac-key-for-the-tests"), HMAC: spa.SHA256}
	m := spa.Message{Random: "1234567890123456", User: "alice", Time: time.Now().Unix(), Version: spa.Version, Type: spa.AccessMsg, Access: "10.77.0.5,tcp/22"}
	p, err := spa.Build(m, spa.SHA256, k, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	h := Packet{Src: srcA, Dst: me, Proto: knock.UDP, Port: 62201, SPort: 40000, Data: []byte(p), Time: time.Now()}
	srv.Handle(&h)
	// $PROTO is the protocol's number and $TIMEOUT the packet's time
	// plus the client's timeout (none here), as fwknopd has them.
	want := fmt.Sprintf("spa#1: would run: open 10.77.0.5 6/22 %d from 10.77.0.1 to 10.77.0.2\nspa#1: would run after Cmd_Timeout (9s): close 10.77.0.5\n", m.Time)
	if out.String() != want {
		t.Fatalf("dry run:\n%s\nwant\n%s", out.String(), want)
	}
	if st := srv.Stats(); st.Opened != 1 {
		t.Errorf("opened %d", st.Opened)
	}
	// Its replay is refused, and logged as such.
	out.Reset()
	srv.Handle(&h)
	if out.Len() != 0 {
		t.Errorf("a replay ran: %s", out.String())
	}
}
