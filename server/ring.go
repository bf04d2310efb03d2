package server

import "github.com/knocktools/knock/server/config"

// Capture ring sizes, per interface (see OpenLive). The kernel maps the
// whole ring into knockd when it opens the capture, so the ring counts in
// knockd's resident memory from the start: the default suits a router.
// 1 MiB holds about 7,000 of a flood's small frames (some 140 bytes each
// in the ring), 30 ms of a 250,000-packet-a-second flood, which knockd
// works through faster than it comes in.
const (
	DefaultRing   = 1 << 20
	maxRingBlock  = 512 << 10
	minRingBlocks = 8
	ringFrame     = 4096 // the ring's frame size, which blocks are multiples of
)

// RingGeometry splits a ring of about ringBytes into blocks the kernel
// accepts: whole frames, at most 512 KiB each, and at least 8 of them
// where the ring is big enough, since the kernel drops what comes in while
// knockd holds every block.
func RingGeometry(ringBytes int) (block, blocks int) {
	ringBytes = min(max(ringBytes, config.MinRing), config.MaxRing)
	block = min(maxRingBlock, max(ringFrame, ringBytes/minRingBlocks/ringFrame*ringFrame))
	return block, max(1, ringBytes/block)
}
