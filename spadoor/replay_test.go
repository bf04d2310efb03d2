package spadoor

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func entry(digest string, at time.Time) Entry {
	return Entry{Digest: digest, Proto: 17, Src: client, SrcPort: 40305, Dst: server, DstPort: 62201, Created: at}
}

// The cache keeps a digest as long as a replay could pass the age check,
// and never more than its bound; it survives a restart in fwknopd's
// digest.cache format, which it also reads as fwknopd writes it.
func TestCache(t *testing.T) {
	path := filepath.Join(t.TempDir(), "digest.cache")
	c := &Cache{MaxAge: 120 * time.Second, MaxEntries: 3, Path: path}
	c.Add(entry("7XgadOyqv0tF5xG8uhg2iIrheeNKglCWKmxQDgYP1dY", now))
	c.Add(entry("AAAAdOyqv0tF5xG8uhg2iIrheeNKglCWKmxQDgYP1dY", now.Add(time.Minute)))
	if !c.Seen("7XgadOyqv0tF5xG8uhg2iIrheeNKglCWKmxQDgYP1dY") || c.Seen("nope") || c.Err != nil {
		t.Fatalf("seen, err %v", c.Err)
	}
	// 241 s after the first: it can no longer pass the age check.
	c.Add(entry("BBBBdOyqv0tF5xG8uhg2iIrheeNKglCWKmxQDgYP1dY", now.Add(241*time.Second)))
	if c.Seen("7XgadOyqv0tF5xG8uhg2iIrheeNKglCWKmxQDgYP1dY") || c.Len() != 2 {
		t.Fatalf("an expired digest kept: %d", c.Len())
	}
	for _, d := range []string{"CCCC", "DDDD"} {
		c.Add(entry(d+"dOyqv0tF5xG8uhg2iIrheeNKglCWKmxQDgYP1dY", now.Add(242*time.Second)))
	}
	if c.Len() != 3 || c.Seen("AAAAdOyqv0tF5xG8uhg2iIrheeNKglCWKmxQDgYP1dY") {
		t.Fatalf("past the bound: %d", c.Len())
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("cache file %v %v", fi, err)
	}
	again := &Cache{MaxAge: 120 * time.Second}
	if err := again.Load(path, now.Add(242*time.Second)); err != nil || again.Len() != 3 || !again.Seen("DDDDdOyqv0tF5xG8uhg2iIrheeNKglCWKmxQDgYP1dY") {
		t.Fatalf("reloaded %d, %v", again.Len(), err)
	}

	// fwknopd's own file, IPv4 as fwknopd writes it.
	fw := filepath.Join(t.TempDir(), "fwknopd.cache")
	os.WriteFile(fw, []byte("# comment\n7XgadOyqv0tF5xG8uhg2iIrheeNKglCWKmxQDgYP1dY 17 127.0.0.1 40305 127.0.0.1 62201 1313283481\n"), 0o600)
	aging := &Cache{} // aging off: kept whatever its age
	if err := aging.Load(fw, now); err != nil || !aging.Seen("7XgadOyqv0tF5xG8uhg2iIrheeNKglCWKmxQDgYP1dY") {
		t.Fatalf("fwknopd's cache: %v", err)
	}
	os.WriteFile(fw, []byte("7XgadOyqv0tF5xG8uhg2iIrheeNKglCWKmxQDgYP1dY 17 127.0.0.1\n"), 0o600)
	if err := aging.Load(fw, now); err == nil || !strings.Contains(err.Error(), "fwknopd.cache:1: want: digest proto") {
		t.Fatalf("a bad line: %v", err)
	}
	if err := (&Cache{}).Load(filepath.Join(t.TempDir(), "none"), now); err != nil {
		t.Fatalf("a missing file is an empty cache: %v", err)
	}
}

func FuzzCacheLoad(f *testing.F) {
	f.Add([]byte("7XgadOyqv0tF5xG8uhg2iIrheeNKglCWKmxQDgYP1dY 17 127.0.0.1 40305 fd77::2 62201 1313283481\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(t.TempDir(), "c")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		c := &Cache{MaxEntries: 4, Path: path}
		if err := c.Load(path, now); err != nil {
			return
		}
		if c.Len() > 4 {
			t.Fatalf("%d entries past the bound", c.Len())
		}
		if err := c.Save(); err != nil {
			t.Fatal(err)
		}
		back := &Cache{MaxEntries: 4}
		if err := back.Load(path, now); err != nil || back.Len() != c.Len() {
			t.Fatalf("saved cache reads back %d of %d: %v", back.Len(), c.Len(), err)
		}
	})
}
