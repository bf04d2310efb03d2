package buildinfo

import (
	"strings"
	"testing"
)

func TestString(t *testing.T) {
	defer func(v, c, d string) { version, commit, date = v, c, d }(version, commit, date)
	version, commit, date = "1.2.3", "0123456789abcdef0123", "2026-11-24T10:00:00Z"
	if got, want := String("knock"), "knock 1.2.3 (commit 0123456789ab, built 2026-11-24T10:00:00Z)"; got != want {
		t.Errorf("String = %q, want %q", got, want)
	}
	commit = "none"
	if got := String("knockd"); strings.Contains(got, "none") || !strings.HasPrefix(got, "knockd 1.2.3") {
		t.Errorf("String with commit none = %q", got)
	}
	version = ""
	if got := Version(); got == "" {
		t.Error("empty version")
	}
}
