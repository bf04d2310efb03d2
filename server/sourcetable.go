package server

import (
	"encoding/binary"
	"math/bits"
	"math/rand/v2"
	"net/netip"
)

// sourceTable finds a knocker's record by its address. It is an open
// addressing hash table with linear probing and backward-shift deletion:
// its size is fixed when it is made (a power of two at least twice the
// records it must hold), and a deletion leaves no tombstone behind, so the
// churn of a flood (new sources in, the oldest out) neither lengthens
// lookups nor grows it, as it does Go's maps. Its slots hold no pointers for
// the garbage collector to scan. The hash is seeded per table, so spoofed
// sources cannot be chosen to pile up in one probe run.
type sourceTable struct {
	slots []slot
	mask  uint64
	seed  addrHash
	n     int
}

// slot holds an address as two 64-bit halves of its 16-byte form (IPv4 as
// IPv4-mapped, told apart by v4) and the index of its record.
type slot struct {
	hi, lo uint64
	ref    uint32 // record index + 1; 0 marks an empty slot
	v4     bool
}

// addrKey is an address in slot form. Zones are not part of it: captured
// packets carry none.
type addrKey struct {
	hi, lo uint64
	v4     bool
}

func keyOf(a netip.Addr) addrKey {
	b := a.As16()
	return addrKey{binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:]), a.Is4()}
}

// addr is the address of k (keyOf's inverse).
func (k addrKey) addr() netip.Addr {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], k.hi)
	binary.BigEndian.PutUint64(b[8:], k.lo)
	a := netip.AddrFrom16(b)
	if k.v4 {
		return a.Unmap()
	}
	return a
}

// newSourceTable makes a table for up to records entries.
func newSourceTable(records int) sourceTable {
	size := 16
	for size < 2*records {
		size <<= 1
	}
	return sourceTable{
		slots: make([]slot, size),
		mask:  uint64(size - 1),
		seed:  newAddrHash(),
	}
}

// addrHash hashes addresses with a random seed of its own, so that
// spoofed sources cannot be chosen to collide.
type addrHash [3]uint64

func newAddrHash() addrHash {
	return addrHash{rand.Uint64(), rand.Uint64(), rand.Uint64() | 1}
}

// sum is the 64-bit hash of an address's two halves.
func (s *addrHash) sum(hi, lo uint64) uint64 {
	h, l := bits.Mul64(hi^s[0], lo^s[1])
	h, l = bits.Mul64(h^l, s[2])
	return h ^ l
}

// home is the slot where a probe for the address starts.
func (t *sourceTable) home(hi, lo uint64) uint64 {
	return t.seed.sum(hi, lo) & t.mask
}

// get returns the record index of k.
func (t *sourceTable) get(k addrKey) (uint32, bool) {
	if t.n == 0 {
		return 0, false
	}
	for i := t.home(k.hi, k.lo); ; i = (i + 1) & t.mask {
		s := &t.slots[i]
		if s.ref == 0 {
			return 0, false
		}
		if s.hi == k.hi && s.lo == k.lo && s.v4 == k.v4 {
			return s.ref - 1, true
		}
	}
}

// put adds k, which must not be in the table, with record index idx. The
// caller keeps the table at most half full.
func (t *sourceTable) put(k addrKey, idx uint32) {
	i := t.home(k.hi, k.lo)
	for t.slots[i].ref != 0 {
		i = (i + 1) & t.mask
	}
	t.slots[i] = slot{hi: k.hi, lo: k.lo, ref: idx + 1, v4: k.v4}
	t.n++
}

// del removes k, then closes the gap: every later slot of the probe run
// that may sit earlier moves back (Knuth's algorithm R), so lookups never
// need to step over deleted slots.
func (t *sourceTable) del(k addrKey) {
	if t.n == 0 {
		return
	}
	i := t.home(k.hi, k.lo)
	for {
		s := &t.slots[i]
		if s.ref == 0 {
			return
		}
		if s.hi == k.hi && s.lo == k.lo && s.v4 == k.v4 {
			break
		}
		i = (i + 1) & t.mask
	}
	t.n--
	for {
		t.slots[i] = slot{}
		j := i
		for {
			j = (j + 1) & t.mask
			if t.slots[j].ref == 0 {
				return
			}
			// The entry at j stays if its home lies cyclically in (i, j].
			h := t.home(t.slots[j].hi, t.slots[j].lo)
			if i <= j && i < h && h <= j || i > j && (i < h || h <= j) {
				continue
			}
			break
		}
		t.slots[i] = t.slots[j]
		i = j
	}
}
