package server

import "testing"

func TestRingGeometry(t *testing.T) {
	for _, tc := range []struct{ ring, block, blocks int }{
		{DefaultRing, 4096, 256},
		{256 << 10, 4096, 64},
		{8 << 20, 32 << 10, 256},
		{1 << 30, 512 << 10, 2048},
	} {
		block, blocks := RingGeometry(tc.ring)
		if block != tc.block || blocks != tc.blocks {
			t.Errorf("RingGeometry(%d) = %d x %d, want %d x %d", tc.ring, block, blocks, tc.block, tc.blocks)
		}
	}
	// The default ring rides out a stalled knockd for a second at 50
	// knocks a second, however the packets fall into blocks.
	if n := RingPackets(DefaultRing); n < 50 {
		t.Fatalf("the default ring holds %d packets at a knocker's pace", n)
	}
}
