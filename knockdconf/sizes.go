package knockdconf

import (
	"fmt"
	"strconv"
	"strings"
)

// What a router admin sizes: the capture ring per interface, the knocker
// table and the Go runtime's memory limit. The bounds are what RingSize,
// MaxKnockers and MemoryLimit and their flags accept.
const (
	MinRing        = 64 << 10
	MaxRing        = 1 << 30
	MinKnockers    = 64
	MaxKnockers    = 1 << 24
	MinMemoryLimit = 4 << 20
	MaxMemoryLimit = 1 << 40
)

// ParseSize reads a byte count such as 8M, 512K, 1G or 1048576 between lo
// and hi.
func ParseSize(s string, lo, hi int64) (int64, error) {
	t := strings.ToUpper(strings.TrimSpace(s))
	mult := int64(1)
	switch {
	case strings.HasSuffix(t, "K"):
		mult, t = 1<<10, t[:len(t)-1]
	case strings.HasSuffix(t, "M"):
		mult, t = 1<<20, t[:len(t)-1]
	case strings.HasSuffix(t, "G"):
		mult, t = 1<<30, t[:len(t)-1]
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n <= 0 || n > hi/mult {
		if err == nil && n > 0 {
			return 0, fmt.Errorf("%s: want %s to %s", s, FormatSize(lo), FormatSize(hi))
		}
		return 0, fmt.Errorf("%q is not a size such as 8M or 512K", s)
	}
	if n*mult < lo {
		return 0, fmt.Errorf("%s: want %s to %s", s, FormatSize(lo), FormatSize(hi))
	}
	return n * mult, nil
}

// ParseRing reads a ring size (RingSize, --ring-size).
func ParseRing(s string) (int, error) {
	n, err := ParseSize(s, MinRing, MaxRing)
	return int(n), err
}

// NoMemoryLimit is MemoryLimit = off.
const NoMemoryLimit = -1

// ParseMemoryLimit reads a memory limit (MemoryLimit, --memory-limit):
// a size, or "off" (NoMemoryLimit).
func ParseMemoryLimit(s string) (int64, error) {
	if strings.EqualFold(strings.TrimSpace(s), "off") {
		return NoMemoryLimit, nil
	}
	return ParseSize(s, MinMemoryLimit, MaxMemoryLimit)
}

// ParseKnockers reads a knocker table cap (MaxKnockers, --max-knockers).
func ParseKnockers(s string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		return 0, fmt.Errorf("%q is not a number of knockers", s)
	}
	if n < MinKnockers || n > MaxKnockers {
		return 0, fmt.Errorf("%d: want %d to %d knockers", n, MinKnockers, MaxKnockers)
	}
	return n, nil
}

// The door commands that may run at once: knockd runs each as root, and a
// leaked sequence completed from many spoofed sources must not fork
// hundreds of them.
const (
	DefaultMaxCommands     = 32
	DefaultMaxDoorCommands = 8
	MaxCommandLimit        = 4096
)

// ParseCommands reads a cap on running commands (MaxCommands,
// MaxDoorCommands, --max-commands).
func ParseCommands(s string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n < 1 || n > MaxCommandLimit {
		return 0, fmt.Errorf("%q: want 1 to %d commands", s, MaxCommandLimit)
	}
	return n, nil
}

// FormatSize writes a byte count as the sizes above are written, in the
// largest unit that divides it (an approximate count: see FormatApprox).
func FormatSize(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return strconv.FormatInt(n>>30, 10) + "G"
	case n >= 1<<20 && n%(1<<20) == 0:
		return strconv.FormatInt(n>>20, 10) + "M"
	case n >= 1<<10 && n%(1<<10) == 0:
		return strconv.FormatInt(n>>10, 10) + "K"
	}
	return strconv.FormatInt(n, 10)
}

// FormatApprox writes a byte count for people: 2.4 MiB, 512 KiB.
func FormatApprox(n int64) string {
	switch {
	case n >= 1<<30:
		return strconv.FormatFloat(float64(n)/(1<<30), 'f', 1, 64) + " GiB"
	case n >= 1<<20:
		return strconv.FormatFloat(float64(n)/(1<<20), 'f', 1, 64) + " MiB"
	case n >= 1<<10:
		return strconv.FormatFloat(float64(n)/(1<<10), 'f', 0, 64) + " KiB"
	}
	return strconv.FormatInt(n, 10) + " B"
}
