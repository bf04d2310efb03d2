package knockdconf

import (
	"strings"
	"testing"
)

func TestParseSizes(t *testing.T) {
	for _, tc := range []struct {
		in   string
		lo   int64
		hi   int64
		want int64
		err  string
	}{
		{"8M", MinRing, MaxRing, 8 << 20, ""},
		{" 512k ", MinRing, MaxRing, 512 << 10, ""},
		{"1G", MinRing, MaxRing, 1 << 30, ""},
		{"65536", MinRing, MaxRing, 64 << 10, ""},
		{"1K", MinRing, MaxRing, 0, "want 64K to 1G"},
		{"2G", MinRing, MaxRing, 0, "want 64K to 1G"},
		{"9223372036854775807G", MinRing, MaxRing, 0, "want 64K to 1G"},
		{"99999999999999999999", MinRing, MaxRing, 0, "not a size"},
		{"-1M", MinRing, MaxRing, 0, "not a size"},
		{"0", MinRing, MaxRing, 0, "not a size"},
		{"8MB", MinRing, MaxRing, 0, "not a size"},
		{"", MinRing, MaxRing, 0, "not a size"},
		{"12M", MinMemoryLimit, MaxMemoryLimit, 12 << 20, ""},
	} {
		got, err := ParseSize(tc.in, tc.lo, tc.hi)
		if tc.err == "" && (err != nil || got != tc.want) {
			t.Errorf("ParseSize(%q) = %d, %v, want %d", tc.in, got, err, tc.want)
		}
		if tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("ParseSize(%q) error %v, want %q", tc.in, err, tc.err)
		}
	}
	if n, err := ParseMemoryLimit("Off"); n != NoMemoryLimit || err != nil {
		t.Errorf("ParseMemoryLimit(Off) = %d, %v", n, err)
	}
	for in, want := range map[string]string{"63": "want 64 to", "16777217": "want 64 to", "1e3": "not a number", "": "not a number"} {
		if _, err := ParseKnockers(in); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseKnockers(%q) error %v, want %q", in, err, want)
		}
	}
	if n, err := ParseKnockers("4096"); n != 4096 || err != nil {
		t.Errorf("ParseKnockers(4096) = %d, %v", n, err)
	}
	for n, want := range map[int64]string{8 << 20: "8M", 1536 << 10: "1536K", 1 << 30: "1G", 1000: "1000"} {
		if got := FormatSize(n); got != want {
			t.Errorf("FormatSize(%d) = %q, want %q", n, got, want)
		}
	}
	for n, want := range map[int64]string{2490368: "2.4 MiB", 622592: "608 KiB", 100: "100 B"} {
		if got := FormatApprox(n); got != want {
			t.Errorf("FormatApprox(%d) = %q, want %q", n, got, want)
		}
	}
}

func FuzzParseSize(f *testing.F) {
	for _, s := range []string{"8M", "512K", "1G", "65536", "-1", "9223372036854775807K"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := ParseSize(s, MinRing, MaxRing)
		if err == nil && (n < MinRing || n > MaxRing) {
			t.Fatalf("ParseSize(%q) = %d, out of bounds", s, n)
		}
	})
}
