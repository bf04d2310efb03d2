package server

import "github.com/knocktools/knock/knockdconf"

// Capture ring sizes, per interface (see OpenLive). The kernel maps the
// whole ring into knockd when it opens the capture, so the ring counts in
// knockd's resident memory from the start: the default suits a router.
//
// The ring is made of blocks that the kernel fills with frames and hands
// over whole: when one is full, or blockTimeout after its first frame.
// What a ring holds so depends on the rate. Under a flood blocks fill up,
// and 1 MiB holds about 7,000 small frames (some 140 bytes each in the
// ring), 30 ms of a 250,000-packet-a-second flood, which knockd works
// through faster than it comes in. At a knocker's pace every packet gets
// a block of its own (they come more than blockTimeout apart), so the ring
// holds as many packets as it has blocks: hence many small blocks, at
// least ringBlocks where the ring is big enough (256 in the default 1 MiB:
// five seconds of a stalled knockd at 50 knocks a second), not 8 large
// ones (8 packets).
const (
	DefaultRing  = knockdconf.DefaultRingSize
	maxRingBlock = 512 << 10
	ringBlocks   = 256
	ringFrame    = 4096 // the ring's frame size, which blocks are multiples of
)

// RingGeometry splits a ring of about ringBytes into blocks the kernel
// accepts: whole frames, at most 512 KiB each, and ringBlocks of them
// where the ring is big enough (blocks of one frame below that).
func RingGeometry(ringBytes int) (block, blocks int) {
	ringBytes = min(max(ringBytes, knockdconf.MinRing), knockdconf.MaxRing)
	block = min(maxRingBlock, max(ringFrame, ringBytes/ringBlocks/ringFrame*ringFrame))
	return block, max(1, ringBytes/block)
}

// RingPackets is how many packets a ring of ringBytes holds at worst: at
// a knocker's pace, one a block.
func RingPackets(ringBytes int) int {
	_, blocks := RingGeometry(ringBytes)
	return blocks
}

// ProgramBytes is what knockd itself takes resident besides its rings and
// its knocker table (the Go runtime, the binary's pages, goroutines and
// buffers): idle, it measures about 5.6 MiB on amd64 (make bench's idle
// RSS less its rings), so 8 MiB leaves room for a flood's garbage.
const ProgramBytes = 8 << 20
