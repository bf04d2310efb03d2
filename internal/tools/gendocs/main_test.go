package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/knocktools/knock/internal/knockdcmd"
	"github.com/knocktools/knock/knockdconf"
)

// Every knockd.conf directive is in each document made from the table:
// knockd --help and knockd.conf(5) (README's block has its own test in
// knockdconf); the main pages have the sections cobra does not write.
func TestGeneratedDocs(t *testing.T) {
	dir := t.TempDir()
	if err := write(dir, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	read := func(name string) string {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return string(data)
	}
	var help bytes.Buffer
	if code := knockdcmd.Run([]string{"--help"}, &help, &help); code != 0 {
		t.Fatalf("knockd --help: exit %d", code)
	}
	page := read("knockd.conf.5")
	for _, d := range knockdconf.Directives() {
		if !strings.Contains(help.String(), "    "+d.Name) {
			t.Errorf("knockd --help lacks %s", d.Name)
		}
		if !strings.Contains(page, ".B "+strings.ReplaceAll(d.Name, "-", `\-`)) {
			t.Errorf("knockd.conf(5) lacks %s", d.Name)
		}
	}
	for page, sections := range map[string][]string{
		"knock.1":       {"ENVIRONMENT", "FILES", "EXIT STATUS", "EXAMPLES", "KNOCK_SOURCE_PORT"},
		"knockd.1":      {"ENVIRONMENT", "FILES", "EXIT STATUS", "EXAMPLES"},
		"knockd.conf.5": {"OPTIONS", "DOORS", "FILES", "EXAMPLES", "SEE ALSO"},
	} {
		text := read(page)
		for _, s := range sections {
			if !strings.Contains(text, s) {
				t.Errorf("%s lacks %s", page, s)
			}
		}
	}
}
