package server

import (
	"strconv"

	"github.com/knocktools/knock/server/config"
)

// Capture ring sizes, per interface (see OpenLive).
const (
	DefaultRing  = 8 << 20
	maxRingBlock = 512 << 10
	ringFrame    = 4096 // the ring's frame size, which blocks are multiples of
)

// RingGeometry splits a ring of about ringBytes into blocks the kernel
// accepts: at most 512 KiB each, whole frames, at least one.
func RingGeometry(ringBytes int) (block, blocks int) {
	ringBytes = min(max(ringBytes, config.MinRing), config.MaxRing)
	block = min(maxRingBlock, ringBytes) / ringFrame * ringFrame
	return block, max(1, ringBytes/block)
}

// FormatSize writes a byte count as RingSize is written, in the largest
// unit that divides it.
func FormatSize(n int) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return strconv.Itoa(n>>30) + "G"
	case n >= 1<<20 && n%(1<<20) == 0:
		return strconv.Itoa(n>>20) + "M"
	case n >= 1<<10 && n%(1<<10) == 0:
		return strconv.Itoa(n>>10) + "K"
	}
	return strconv.Itoa(n)
}
