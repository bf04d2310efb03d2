package knockdconf

import (
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// Every knockd.conf that the documentation shows parses: README's blocks
// tagged ```knockd.conf, those of docs/*.md, and the sample files the
// packages ship. A "#" after a value is part of the value in knockd.conf
// (as in knockd 0.8), so an example that means it as a comment is caught
// too.
func TestDocumentedConfigsParse(t *testing.T) {
	docs, _ := filepath.Glob("../docs/*.md")
	blocks := 0
	for _, doc := range append([]string{"../README.md"}, docs...) {
		data, err := os.ReadFile(doc)
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(string(data), "\n")
		for i := 0; i < len(lines); i++ {
			if strings.TrimSpace(lines[i]) != "```knockd.conf" {
				continue
			}
			start := i + 1
			for i++; i < len(lines) && strings.TrimSpace(lines[i]) != "```"; i++ {
			}
			blocks++
			where := filepath.Base(doc) + ":" + strconv.Itoa(start)
			text := strings.Join(lines[start:i], "\n") + "\n"
			if _, err := Parse(where, []byte(text)); err != nil {
				t.Errorf("the knockd.conf block at %s does not parse: %v", where, err)
			}
			for j, l := range lines[start:i] {
				if k, v, ok := strings.Cut(l, "="); ok && !strings.HasPrefix(strings.TrimSpace(k), "#") && strings.Contains(v, " #") {
					t.Errorf("%s:%d: %q: a # after a value is part of the value, not a comment", filepath.Base(doc), start+j+1, strings.TrimSpace(l))
				}
			}
		}
	}
	if blocks < 3 {
		t.Fatalf("found %d knockd.conf blocks in the documentation; tag them ```knockd.conf", blocks)
	}
	for _, sample := range []string{"../etc/knockd.conf", "../etc/openwrt/knockd.conf"} {
		data, err := os.ReadFile(sample)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Parse(sample, data); err != nil {
			t.Errorf("sample %s: %v", sample, err)
		}
	}
}

var updateDocs = flag.Bool("update", false, "rewrite README's generated knockd.conf reference")

// README's knockd.conf reference is the table's (-update rewrites it),
// and every directive is in it.
func TestReadmeReference(t *testing.T) {
	const begin, end = "<!-- knockdconf reference: begin -->\n", "<!-- knockdconf reference: end -->\n"
	data, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	s := string(data)
	i, j := strings.Index(s, begin), strings.Index(s, end)
	if i < 0 || j < i {
		t.Fatalf("README.md lacks the markers %q and %q", begin, end)
	}
	want := s[:i+len(begin)] + "\n" + ReferenceMarkdown() + "\n" + s[j:]
	if *updateDocs {
		if err := os.WriteFile("../README.md", []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if want != s {
		t.Errorf("README.md's knockd.conf reference is not the table's: run go test ./knockdconf -run TestReadmeReference -update")
	}
	for _, d := range Directives() {
		if !strings.Contains(s[i:j], "| `"+d.Name) {
			t.Errorf("README's reference lacks %s", d.Name)
		}
	}
}
