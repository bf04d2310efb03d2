//go:build linux

package server

import (
	"strconv"
	"testing"
	"time"

	"github.com/knocktools/knock"
	"github.com/knocktools/knock/internal/lab"
)

// With the default ring, and the kernel filter of a large config, a
// knockd that stalls for a second while knocks
// come in at 50 a second loses none of them: at that pace each packet
// gets a ring block of its own, and the default ring has 256.
func TestRingRidesOutAStall(t *testing.T) {
	lab.Require(t, "knock")
	l := lab.New(t)
	var src Source
	inNetns(t, l.Server.NS, func() {
		var err error
		if src, err = OpenLive(l.Server.If, DefaultRing); err != nil {
			t.Error(err)
		}
	})
	if src == nil {
		t.FailNow()
	}
	defer src.Close()
	if _, ok := src.(*liveSource); !ok {
		// qemu-user (archtest's mips run) offers no TPACKET ring: knockd
		// reads a plain socket there, whose buffer is RingSize bytes.
		t.Skipf("no capture ring on this system (%T): nothing to test", src)
	}
	const knocks = 50
	ports := make([]uint16, knocks)
	args := []string{"-u", "-d", "20", l.Server.Addr4.String()}
	for i := range ports {
		ports[i] = uint16(7001 + i)
		args = append(args, strconv.Itoa(int(ports[i])))
	}
	// The ports of 200 three-knock doors besides: the kernel takes the
	// filter of a large config (it used to pass everything past 200).
	var many []uint16
	for i := range uint16(600) {
		many = append(many, 20000+7*i)
	}
	if err := src.(portFilter).SetPorts(many, ports); err != nil {
		t.Fatalf("the kernel refused the filter of a large config: %v", err)
	}
	// knockd does not read while the knocks come in, for a second.
	l.Client.Run(lab.DebianKnock, args...)
	guard := time.AfterFunc(30*time.Second, func() { src.Close() })
	defer guard.Stop()
	dec := NewDecoder(src.LinkType())
	seen := map[uint16]bool{}
	var h Packet
	for len(seen) < knocks {
		data, ci, err := src.ReadPacketData()
		if err != nil {
			t.Fatalf("%d of %d knocks came through the stall (%v): the ring lost the rest", len(seen), knocks, err)
		}
		if dec.Decode(data, ci, &h) && h.Proto == knock.UDP && h.Port >= 7001 && h.Port < 7001+knocks {
			seen[h.Port] = true
		}
	}
}
