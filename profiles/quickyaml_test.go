package profiles

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// quickSeeds are files quickParse must read (the first ones, as knock
// writes them) or leave to yaml.v3 (the rest).
var quickSeeds = []string{
	"profiles:\n  bench:\n    host: 10.77.91.2\n    sequence: [\"7000\", \"7001\", \"7002\", \"7003\"]\n",
	"profiles:\n  web:\n    host: fd77::2\n    sequence: [\"7000\", \"8000:udp\", \"9000:tcp:fin\"]\n    delay: 250ms\n    flags: syn\n    family: 6\n    method: raw\n    source_port: 4000\n    ttl: 33\n    description: the web box, über\n    port: 2222\n    user: admin\n    wait: 5s\n    close_sequence: [\"9000\", \"8000\"]\n  t2:\n    host: h.example.com\n    sequence: [\"1\"]\n",
	"# my hosts\nprofiles:\n\n  # the router\n  gw:   # comment\n    host: gw.lan # trailing\n    sequence:\n      - 7000\n      - '8000:udp'\n      - \"9000\"\n    wait: 1.5s\ndefaults:\n  delay: 100ms\n  method: connect\n",
	"profiles:\n  a:\n    host: a\n    sequence:\n    - 1\n    - 2\n    user: bob's\n",
	"profiles:\n  a:\n    host: x\n    sequence: []\n    allow_repeats: true\n    spa:\n      key: abc\n      hmac_key: null\n",
	"profiles:\n  u:\n    sequence: [\"ü\", 'x', 7, y]\n    description: a ü b:c\n",
	// For yaml.v3: an anchor, a multi-line scalar, a tab, escapes, octal,
	// a float, a timestamp, an empty value, a flow mapping, a document.
	"profiles:\n  a: &x\n    host: y\n",
	"profiles:\n  a:\n    description: one\n      two\n",
	"profiles:\n\ta:\n",
	"profiles:\n  a:\n    host: \"a\\tb\"\n",
	"profiles:\n  a:\n    port: 0777\n    ttl: 1.5\n    wait: 2001-12-14\n    user:\n",
	"profiles: {a: {host: b}}\n",
	"---\nprofiles:\n",
	"profiles:\r\n  a:\r\n",
}

// FuzzQuickParse holds quickParse to yaml.v3: whatever it reads must be
// YAML that yaml.v3 reads into the same nodes (comments aside).
func FuzzQuickParse(f *testing.F) {
	for _, s := range quickSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		got, ok := quickParse(data)
		if !ok {
			return
		}
		var want yaml.Node
		if err := yaml.Unmarshal(data, &want); err != nil {
			t.Fatalf("quickParse read %q, which yaml.v3 refuses: %v", data, err)
		}
		if d := nodeDiff(got, &want, "doc"); d != "" {
			t.Fatalf("quickParse and yaml.v3 differ on %q:\n%s", data, d)
		}
	})
}

// nodeDiff names the first difference between two node trees, comments
// aside.
func nodeDiff(a, b *yaml.Node, at string) string {
	if a.Kind != b.Kind || a.Style != b.Style || a.Tag != b.Tag || a.Value != b.Value || a.Anchor != b.Anchor ||
		a.Line != b.Line || a.Column != b.Column || (a.Alias == nil) != (b.Alias == nil) || len(a.Content) != len(b.Content) {
		return fmt.Sprintf("%s:\n  quick:  %s\n  yaml.v3: %s", at, nodeString(a), nodeString(b))
	}
	for i := range a.Content {
		if d := nodeDiff(a.Content[i], b.Content[i], fmt.Sprintf("%s/%d", at, i)); d != "" {
			return d
		}
	}
	return ""
}

func nodeString(n *yaml.Node) string {
	return fmt.Sprintf("kind %d style %d tag %q value %q anchor %q at %d:%d, %d children", n.Kind, n.Style, n.Tag, n.Value, n.Anchor, n.Line, n.Column, len(n.Content))
}

// TestQuickParse wants the files knock writes, and simple edits of them,
// read by quickParse, and the others left to yaml.v3; either way Load
// gives what Parse gives.
func TestQuickParse(t *testing.T) {
	for i, s := range quickSeeds {
		_, ok := quickParse([]byte(s))
		if want := i < 6; ok != want {
			t.Errorf("seed %d %q: quickParse ok = %v, want %v", i, s, ok, want)
		}
		if ok {
			got, _ := quickParse([]byte(s))
			var want yaml.Node
			if err := yaml.Unmarshal([]byte(s), &want); err != nil {
				t.Fatal(err)
			}
			if d := nodeDiff(got, &want, "doc"); d != "" {
				t.Errorf("seed %d: %s", i, d)
			}
		}
	}
	if _, ok := quickParse([]byte(strings.Repeat("a: b\n", 3))); !ok {
		t.Error("a flat mapping was left to yaml.v3")
	}
}

// TestLoadReadsLikeParse loads every seed as a knock does (through
// quickParse where it can) and wants what Parse gives; then an edit of a
// file read quickly keeps its comments, as one read by yaml.v3 does.
func TestLoadReadsLikeParse(t *testing.T) {
	for i, s := range quickSeeds {
		path := filepath.Join(t.TempDir(), "config.yaml")
		if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
		got, gotErr := (&Store{Path: path}).Load()
		want, wantErr := Parse(path, []byte(s))
		if fmt.Sprint(gotErr) != fmt.Sprint(wantErr) {
			t.Errorf("seed %d: Load: %v; Parse: %v", i, gotErr, wantErr)
			continue
		}
		if gotErr == nil && (!reflect.DeepEqual(got.Profiles, want.Profiles) || !reflect.DeepEqual(got.Defaults, want.Defaults)) {
			t.Errorf("seed %d: Load gives %+v %+v; Parse %+v %+v", i, got.Profiles, got.Defaults, want.Profiles, want.Defaults)
		}
	}

	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, []byte(quickSeeds[2]), 0o600); err != nil {
		t.Fatal(err)
	}
	s := &Store{Path: path}
	if err := s.Update(func(f *File) error { return f.Put("new", Profile{Host: "h", Sequence: []string{"1"}}) }); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	for _, comment := range []string{"# my hosts", "# the router", "# comment", "# trailing"} {
		if !strings.Contains(string(data), comment) {
			t.Errorf("after an edit the file lost %q:\n%s", comment, data)
		}
	}
}
