// Package buildinfo holds the version, commit and build date that releases
// stamp into both binaries with -ldflags -X, and falls back to what the Go
// toolchain recorded for builds made with go build or go install.
package buildinfo

import (
	"fmt"
	"runtime/debug"
)

// Set at release time, e.g.
// -X github.com/knocktools/knock/internal/buildinfo.version=1.2.3
var (
	version = ""
	commit  = ""
	date    = ""
)

// Version returns the release version, the module version for go install
// builds, or "dev".
func Version() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

// String is the --version line of program, e.g.
// "knock 1.2.3 (commit 1a2b3c4, built 2026-11-24T10:00:00Z)".
func String(program string) string {
	c, d := commit, date
	if c == "none" { // goreleaser's word when it could not read git (a snapshot without a remote)
		c = ""
	}
	if bi, ok := debug.ReadBuildInfo(); ok && c == "" {
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				c = s.Value
			case "vcs.time":
				if d == "" {
					d = s.Value
				}
			}
		}
	}
	if len(c) > 12 {
		c = c[:12]
	}
	switch {
	case c != "" && d != "":
		return fmt.Sprintf("%s %s (commit %s, built %s)", program, Version(), c, d)
	case c != "":
		return fmt.Sprintf("%s %s (commit %s)", program, Version(), c)
	case d != "":
		return fmt.Sprintf("%s %s (built %s)", program, Version(), d)
	}
	return fmt.Sprintf("%s %s", program, Version())
}
