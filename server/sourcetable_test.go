package server

import (
	"math/rand/v2"
	"net/netip"
	"testing"
)

// checkTable runs ops against a sourceTable of size for records and a Go
// map, and fails at the first difference. Each op is a byte: the low bits
// pick one of a few addresses (so probe runs collide and wrap), the top bit
// says put or delete.
func checkTable(t *testing.T, records int, ops []byte) {
	t.Helper()
	addrs := []netip.Addr{
		netip.MustParseAddr("10.77.0.1"), netip.MustParseAddr("::ffff:10.77.0.1"), // told apart
		netip.MustParseAddr("fd77::1"), netip.MustParseAddr("10.77.0.2"),
	}
	for len(addrs) < 24 {
		b := [16]byte{0xfd, 0x77}
		b[15] = byte(len(addrs))
		addrs = append(addrs, netip.AddrFrom16(b))
	}
	tab := newSourceTable(records)
	ref := map[netip.Addr]uint32{}
	for n, op := range ops {
		a := addrs[int(op&0x7f)%len(addrs)]
		k := keyOf(a)
		_, in := ref[a]
		switch {
		case op&0x80 == 0 && !in && len(ref) < records:
			tab.put(k, uint32(n))
			ref[a] = uint32(n)
		case op&0x80 != 0:
			tab.del(k)
			delete(ref, a)
		}
		if tab.n != len(ref) {
			t.Fatalf("op %d: table holds %d, want %d", n, tab.n, len(ref))
		}
		for _, b := range addrs {
			got, ok := tab.get(keyOf(b))
			want, in := ref[b]
			if ok != in || got != want {
				t.Fatalf("op %d: get(%v) = %d, %v; want %d, %v", n, b, got, ok, want, in)
			}
		}
	}
}

func TestSourceTableMatchesMap(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, records := range []int{1, 3, 8, 12, 24} {
		ops := make([]byte, 20_000)
		for i := range ops {
			ops[i] = byte(r.Uint32())
		}
		checkTable(t, records, ops)
	}
}

// TestSourceTableChurn is a flood's pattern on a full table: the oldest
// out, a new source in, many times the table over; every live source stays
// findable and the table never grows.
func TestSourceTableChurn(t *testing.T) {
	const records = 1000
	tab := newSourceTable(records)
	size := len(tab.slots)
	key := func(i int) addrKey { return keyOf(netip.AddrFrom4([4]byte{10, 77, byte(i >> 8), byte(i)})) }
	for i := range 50 * records {
		if i >= records {
			tab.del(key(i - records))
		}
		tab.put(key(i), uint32(i%records))
		if i%997 == 0 {
			for j := max(0, i-records+1); j <= i; j++ {
				if got, ok := tab.get(key(j)); !ok || got != uint32(j%records) {
					t.Fatalf("after %d: %d lost", i, j)
				}
			}
		}
	}
	if tab.n != records || len(tab.slots) != size {
		t.Fatalf("holds %d in %d slots; want %d in %d", tab.n, len(tab.slots), records, size)
	}
}

func FuzzSourceTable(f *testing.F) {
	f.Add(uint8(4), []byte{0, 1, 2, 3, 0x80, 0x81, 4, 5})
	f.Add(uint8(8), []byte{0, 64, 128, 1, 65, 0x80, 0xc0, 2})
	f.Fuzz(func(t *testing.T, records uint8, ops []byte) {
		checkTable(t, 1+int(records%24), ops[:min(len(ops), 256)])
	})
}
