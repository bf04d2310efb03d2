package spadoor

import (
	"bufio"
	"bytes"
	"fmt"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
	"unsafe"

	"github.com/knocktools/knock/internal/atomicfile"
)

// Cache is a replay cache that is bounded and persistent, unlike
// fwknopd's, which grows for ever: a digest is kept only as long as a
// replay of its packet could pass the age check (twice MaxAge: the
// packet's time may be MaxAge ahead of its arrival, and its replay's
// arrival MaxAge after that), and never more than MaxEntries (the oldest
// go first). With aging off, nothing tells when a replay stops being one:
// then only MaxEntries bounds it, and the caller warns. It reads and
// writes fwknopd's digest.cache format, so a migrating user keeps the
// cache fwknopd made.
type Cache struct {
	MaxAge     time.Duration // 0: aging off
	MaxEntries int           // 0: DefaultMaxEntries
	// Path, when set, is where the cache is kept, rewritten atomically
	// on every Add; a write that fails is Save's error and Add's Err.
	Path string

	mu      sync.Mutex
	entries map[string]Entry
	order   []string // digests, oldest first; may hold ones already gone
	Err     error    // the last failed write
}

// Entry is one digest.cache line: the digest, the packet's protocol (17
// UDP, 6 TCP), source and destination, and when it was taken.
type Entry struct {
	Digest           string
	Proto            uint8
	Src, Dst         netip.Addr
	SrcPort, DstPort uint16
	Created          time.Time
}

// DefaultMaxEntries bounds a cache: 4096 digests (EntryBytes each, under
// 1 MiB in all, within a router's budget). With aging on a digest goes
// after twice MAX_SPA_PACKET_AGE, so the bound holds only the packets
// taken in that time; with aging off it is the last 4096.
const DefaultMaxEntries = 1 << 12

// EntryBytes is what one digest costs at most: its Entry, its digest
// (43 bytes of base64), its map slot and its place in the order.
const EntryBytes = int(unsafe.Sizeof(Entry{})) + 48 + 2*int(unsafe.Sizeof("")) + 16

func (c *Cache) max() int {
	if c.MaxEntries > 0 {
		return c.MaxEntries
	}
	return DefaultMaxEntries
}

// expired reports whether e can no longer be replayed at now.
func (c *Cache) expired(e Entry, now time.Time) bool {
	return c.MaxAge > 0 && now.Sub(e.Created) > 2*c.MaxAge
}

// prune drops what expired and what is past the bound, oldest first.
func (c *Cache) prune(now time.Time) {
	drop := 0
	for _, d := range c.order {
		e, ok := c.entries[d]
		if ok && e.Digest == d && !c.expired(e, now) && len(c.entries) <= c.max() {
			break
		}
		if ok {
			delete(c.entries, d)
		}
		drop++
	}
	c.order = c.order[drop:]
}

// Seen reports whether the digest is in the cache (one past its time is
// dropped at the next Add; until then it is refused as a replay, as
// fwknopd refuses every digest it keeps).
func (c *Cache) Seen(digest string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, ok := c.entries[digest]
	return ok
}

// Add records a packet taken, and writes the cache when it has a Path.
func (c *Cache) Add(e Entry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil {
		c.entries = map[string]Entry{}
	}
	if _, ok := c.entries[e.Digest]; !ok {
		c.order = append(c.order, e.Digest)
	}
	c.entries[e.Digest] = e
	c.prune(e.Created)
	if c.Path != "" {
		c.Err = c.save()
	}
}

// Len is how many digests the cache holds.
func (c *Cache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries)
}

// Load reads a digest.cache (fwknopd's or ours) into the cache, keeping
// what has not expired at now; a missing file is an empty cache. A line
// that is no entry is an error naming it.
func (c *Cache) Load(path string, now time.Time) error {
	data, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil {
		c.entries = map[string]Entry{}
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		e, err := parseEntry(line)
		if err != nil {
			return fmt.Errorf("%s:%d: %v", path, n, err)
		}
		if _, ok := c.entries[e.Digest]; !ok {
			c.order = append(c.order, e.Digest)
		}
		c.entries[e.Digest] = e
	}
	c.prune(now)
	return sc.Err()
}

// parseEntry reads "<digest> <proto> <src_ip> <src_port> <dst_ip> <dst_port> <time>".
func parseEntry(line string) (Entry, error) {
	f := strings.Fields(line)
	if len(f) != 7 {
		return Entry{}, fmt.Errorf("want: digest proto src_ip src_port dst_ip dst_port time")
	}
	var e Entry
	proto, err1 := strconv.ParseUint(f[1], 10, 8)
	sp, err2 := strconv.ParseUint(f[3], 10, 16)
	dp, err3 := strconv.ParseUint(f[5], 10, 16)
	t, err4 := strconv.ParseInt(f[6], 10, 64)
	src, err5 := netip.ParseAddr(f[2])
	dst, err6 := netip.ParseAddr(f[4])
	for _, err := range []error{err1, err2, err3, err4, err5, err6} {
		if err != nil {
			return Entry{}, fmt.Errorf("%q: %v", line, err)
		}
	}
	if len(f[0]) < 20 || !isBase64([]byte(f[0])) {
		return Entry{}, fmt.Errorf("%q: not a digest", f[0])
	}
	e = Entry{Digest: f[0], Proto: uint8(proto), Src: src, SrcPort: uint16(sp), Dst: dst, DstPort: uint16(dp), Created: time.Unix(t, 0)}
	return e, nil
}

// Save writes the cache to its Path.
func (c *Cache) Save() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.save()
}

func (c *Cache) save() error {
	var b strings.Builder
	b.WriteString("# <digest> <proto> <src_ip> <src_port> <dst_ip> <dst_port> <time>\n")
	for _, d := range c.order {
		if e, ok := c.entries[d]; ok {
			fmt.Fprintf(&b, "%s %d %s %d %s %d %d\n", e.Digest, e.Proto, e.Src, e.SrcPort, e.Dst, e.DstPort, e.Created.Unix())
		}
	}
	return atomicfile.WriteNoFollow(c.Path, []byte(b.String()), 0o600)
}
