package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCheck type-checks a small module whose build tags are wrong for
// some systems, and wants exactly those systems refused, naming the file
// and the problem (and the Linux-only package left out of the others
// without an error of its own).
func TestCheck(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"go.mod": "module example.com/m\n\ngo 1.26\n",
		// raw_unix.go declares what everything uses, but not for Windows.
		"raw.go":      "package m\n\nimport \"unicode/utf8\"\n\nfunc Send() error { _ = utf8.UTFMax; return open() }\n",
		"raw_unix.go": "//go:build unix\n\npackage m\n\nfunc open() error { return nil }\n",
		// A Windows-only file with an import it does not use.
		"raw_windows.go": "package m\n\nimport \"strings\"\n\nfunc open() error { return nil }\n",
		// A test file only Linux builds, with a Linux-only name in it
		// (and the standard library's runtime below it).
		"raw_linux_test.go": "package m\n\nimport \"syscall\"\n\nvar _, _ = syscall.SOCK_RAW, Send\n",
		// A package only Linux has files for is left out elsewhere.
		"linuxonly/l_linux.go": "package linuxonly\n",
	}
	for name, text := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		system string
		want   string // "" for no error
	}{
		{"linux/amd64", ""},
		{"windows/amd64", `raw_windows.go:3:8: "strings" imported and not used`},
		{"plan9/amd64", "raw.go:5:45: undefined: open"},
	} {
		t.Run(tc.system, func(t *testing.T) {
			goos, goarch, _ := strings.Cut(tc.system, "/")
			n, err := check(dir, goos, goarch, []string{"./..."})
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("check: %v", err)
			case tc.want == "" && n < 5:
				t.Fatalf("checked %d packages; want ours and the standard library's", n)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("check: %v; want an error with %q", err, tc.want)
			}
		})
	}
}
