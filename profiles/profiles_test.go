package profiles

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

const handWritten = `# my knock hosts
profiles:
  ssh-prod:
    host: prod.example.com
    sequence: ["7000", "8000:udp", "9000:tcp:fin"]
    delay: 100ms
    user: admin
  # the lab box
  lab:
    host: 10.77.0.2
    sequence: [7001, 7002]
`

func TestParseHandWrittenFile(t *testing.T) {
	f, err := Parse("config.yaml", []byte(handWritten))
	if err != nil {
		t.Fatal(err)
	}
	p, ok := f.Resolve("ssh-prod")
	if !ok {
		t.Fatal("ssh-prod missing")
	}
	if p.Host != "prod.example.com" || strings.Join(p.Sequence, " ") != "7000 8000:udp 9000:tcp:fin" ||
		p.Delay != Duration(100*time.Millisecond) || p.User != "admin" {
		t.Errorf("ssh-prod = %+v", p)
	}
	seq, err := p.KnockSequence(false)
	if err != nil || seq.String() != "7000 8000:udp 9000:tcp:fin" {
		t.Errorf("sequence %v, %v", seq, err)
	}
	if got := strings.Join(f.Names(), ","); got != "lab,ssh-prod" {
		t.Errorf("names %s", got)
	}
}

func TestParseErrorsNameFileLineAndToken(t *testing.T) {
	tests := []struct {
		name, yaml, want string
	}{
		{"unknown key", "profiles:\n  a:\n    host: h\n    hots: x\n    sequence: [1]\n",
			`cfg.yaml:4: profile "a": unknown key "hots"`},
		{"bad port", "profiles:\n  a:\n    host: h\n    sequence: [\"7000\", \"70000\"]\n",
			`cfg.yaml:4: profile "a": sequence item 2 "70000": port 70000 out of range 1-65535`},
		{"bad proto", "profiles:\n  a:\n    host: h\n    sequence: [\"7000:icmpx\"]\n",
			`unknown protocol "icmpx"`},
		{"bad delay", "profiles:\n  a:\n    host: h\n    sequence: [1]\n    delay: soon\n",
			`cfg.yaml:5: profile "a": delay: "soon" is neither`},
		{"bad family", "profiles:\n  a:\n    host: h\n    sequence: [1]\n    family: 5\n",
			`family 5: want 4 or 6`},
		{"bad ttl", "profiles:\n  a:\n    host: h\n    sequence: [1]\n    ttl: 300\n",
			`cfg.yaml:5: profile "a": ttl: 300 out of range 1-255`},
		{"bad method", "profiles:\n  a:\n    host: h\n    sequence: [1]\n    method: pigeon\n",
			`method: unknown method "pigeon"`},
		{"no host", "profiles:\n  a:\n    sequence: [1]\n", `profile "a": host: missing`},
		{"sequence not a list", "profiles:\n  a:\n    host: h\n    sequence: {port: 7000}\n", `cfg.yaml:4: profile "a": sequence: want a list`},
		{"unknown top key", "profile:\n  a: {}\n", `cfg.yaml:1: unknown top-level key "profile"`},
		{"bad name", "profiles:\n  \"has space\":\n    host: h\n    sequence: [1]\n", `cfg.yaml:2: invalid profile name "has space"`},
		{"duplicate", "profiles:\n  a: {host: h, sequence: [1]}\n  a: {host: h, sequence: [2]}\n", `cfg.yaml:3: profile "a" defined twice (first at line 2)`},
		{"corrupt", "profiles:\n  a:\n    host: h\n    user: a: b\n", `cfg.yaml:4: not valid YAML: mapping values are not allowed`},
		{"tabs", "profiles:\n\ta: 1\n", `cfg.yaml:2: not valid YAML`},
		{"two documents", "profiles:\n  a:\n    host: h\n    sequence: [1]\n---\nprofiles:\n  b:\n    host: h\n    sequence: [2]\n", `cfg.yaml:5: a second YAML document: knock reads one document per file`},
		{"broken second document", "profiles:\n  a:\n    host: h\n    sequence: [1]\n---\n  x: [\n", `cfg.yaml:6: not valid YAML`},
		{"top not a map", "- a\n- b\n", `cfg.yaml:1: want a mapping`},
		{"bad defaults", "defaults:\n  ttl: 0\n", `cfg.yaml:2: defaults: ttl: 0 out of range`},
		// Values that would reach ssh, ssh_config or a shell: the error names
		// the line of the field itself.
		{"user with a newline", "profiles:\n  a:\n    host: h\n    sequence: [1]\n    user: \"root\\n    ProxyCommand sh -c 'touch /tmp/x'\"\n",
			`cfg.yaml:5: profile "a": user "root\n    ProxyCommand sh -c 'touch /tmp/x'": a newline at byte 5`},
		{"user with a carriage return", "profiles:\n  a:\n    host: h\n    sequence: [1]\n    user: \"root\\r\"\n",
			`cfg.yaml:5: profile "a": user "root\r": a carriage return at byte 5`},
		{"user as an option", "profiles:\n  a:\n    host: h\n    sequence: [1]\n    user: -oProxyCommand=x\n",
			`cfg.yaml:5: profile "a": user "-oProxyCommand=x": starts with '-'`},
		{"host as an option", "profiles:\n  a:\n    sequence: [1]\n    host: -oProxyCommand=touch\n",
			`cfg.yaml:4: profile "a": host "-oProxyCommand=touch": starts with '-'`},
		{"host as -F", "profiles:\n  a:\n    host: -F/path\n    sequence: [1]\n", `cfg.yaml:3: profile "a": host "-F/path": starts with '-'`},
		{"host with a carriage return", "profiles:\n  a:\n    host: \"h\\r\"\n    sequence: [1]\n", `cfg.yaml:3: profile "a": host "h\r": a carriage return at byte 2`},
		{"host with a newline", "profiles:\n  a:\n    host: \"h\\n  ProxyCommand x\"\n    sequence: [1]\n", `a newline at byte 2`},
		{"host with a space", "profiles:\n  a:\n    host: \"h x\"\n    sequence: [1]\n", `host "h x": a space at byte 2`},
		{"host with a quote", "profiles:\n  a:\n    host: h\"x\n    sequence: [1]\n", `label "h\"x"`},
		{"host with a percent", "profiles:\n  a:\n    host: h%x\n    sequence: [1]\n", `'%' in label`},
		{"host with a port", "profiles:\n  a:\n    host: \"h:22\"\n    sequence: [1]\n", `not an IP address`},
		{"host in brackets", "profiles:\n  a:\n    host: \"[::1]\"\n    sequence: [1]\n", `without brackets`},
		{"host zone with a newline", "profiles:\n  a:\n    host: \"fe80::1%a\\nb\"\n    sequence: [1]\n", `a newline`},
		{"description with an escape", "profiles:\n  a:\n    host: h\n    sequence: [1]\n    description: \"\\e[2J\"\n",
			`cfg.yaml:5: profile "a": description: control character U+001B at byte 1`},
		{"hostile defaults", "defaults:\n  delay: 1\n  user: \"a b\"\n", `cfg.yaml:3: defaults: user "a b": a space at byte 2`},
		{"hostile user from defaults", "defaults:\n  user: \"a\\tb\"\nprofiles:\n  a: {host: h, sequence: [1]}\n", `cfg.yaml:2: defaults: user`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("cfg.yaml", []byte(tt.yaml))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestDefaultsApply(t *testing.T) {
	f, err := Parse("c", []byte("defaults:\n  delay: 200\n  user: ops\n  method: connect\nprofiles:\n  a: {host: h, sequence: [1]}\n  b: {host: h, sequence: [1], user: root}\n"))
	if err != nil {
		t.Fatal(err)
	}
	a, _ := f.Resolve("a")
	b, _ := f.Resolve("b")
	if a.Delay != Duration(200*time.Millisecond) || a.User != "ops" || a.Method != "connect" || b.User != "root" {
		t.Fatalf("a = %+v, b = %+v", a, b)
	}
	// Defaults may carry the sequence or host that profiles then leave out.
	if _, err := Parse("c", []byte("defaults:\n  sequence: [1, 2]\nprofiles:\n  a: {host: h}\n")); err != nil {
		t.Fatal(err)
	}
}

func TestEmptyAndMissingFiles(t *testing.T) {
	for _, s := range []string{"", "~\n", "# nothing yet\n", "profiles:\n"} {
		f, err := Parse("c", []byte(s))
		if err != nil || len(f.Names()) != 0 {
			t.Errorf("Parse(%q) = %v, %v", s, f, err)
		}
	}
	st := &Store{Path: filepath.Join(t.TempDir(), "none", "config.yaml")}
	f, err := st.Load()
	if err != nil || len(f.Profiles) != 0 {
		t.Fatalf("missing file: %v, %v", f, err)
	}
}

func TestUpdateKeepsCommentsAndOrder(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, []byte(handWritten), 0o600); err != nil {
		t.Fatal(err)
	}
	st := &Store{Path: path}
	err := st.Update(func(f *File) error {
		return f.Put("new", Profile{Host: "10.77.0.3", Sequence: []string{"1", "2:udp"}, Delay: Duration(time.Second)})
	})
	if err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	text := string(data)
	for _, want := range []string{"# my knock hosts", "# the lab box", `sequence: ["7000", "8000:udp", "9000:tcp:fin"]`,
		"  new:\n    host: 10.77.0.3\n    sequence: [\"1\", \"2:udp\"]\n    delay: 1s\n"} {
		if !strings.Contains(text, want) {
			t.Errorf("file lost %q:\n%s", want, text)
		}
	}
	if strings.Index(text, "ssh-prod:") > strings.Index(text, "lab:") || strings.Index(text, "lab:") > strings.Index(text, "new:") {
		t.Errorf("order changed:\n%s", text)
	}
	// What was written reads back the same.
	f, err := st.Load()
	if err != nil {
		t.Fatal(err)
	}
	if p := f.Profiles["new"]; p.Host != "10.77.0.3" || p.Delay != Duration(time.Second) || len(p.Sequence) != 2 {
		t.Errorf("round trip: %+v", p)
	}
}

func TestPutRemoveRename(t *testing.T) {
	st := &Store{Path: filepath.Join(t.TempDir(), "knock", "config.yaml")}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(st.Update(func(f *File) error { return f.Put("a", Profile{Host: "h", Sequence: []string{"1"}}) }))
	must(st.Update(func(f *File) error { return f.Put("b", Profile{Host: "h2", Sequence: []string{"2"}}) }))
	must(st.Update(func(f *File) error { return f.Rename("a", "c") }))
	must(st.Update(func(f *File) error { return f.Remove("b") }))
	f, err := st.Load()
	must(err)
	if got := strings.Join(f.Names(), ","); got != "c" {
		t.Fatalf("names = %s", got)
	}
	if err := st.Update(func(f *File) error { return f.Remove("zzz") }); err == nil || !strings.Contains(err.Error(), `no profile "zzz"`) {
		t.Errorf("remove missing: %v", err)
	}
	must(st.Update(func(f *File) error { return f.Put("d", Profile{Host: "h", Sequence: []string{"1"}}) }))
	if err := st.Update(func(f *File) error { return f.Rename("c", "d") }); err == nil {
		t.Error("rename onto an existing profile accepted")
	}
	info, err := os.Stat(st.Path)
	must(err)
	if perm := info.Mode().Perm(); perm != 0o600 {
		t.Errorf("file mode %04o, want 0600", perm)
	}
}

func TestFailedUpdateLeavesFileUntouched(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, []byte(handWritten), 0o600); err != nil {
		t.Fatal(err)
	}
	st := &Store{Path: path}
	for _, bad := range []Profile{
		{Host: "h", Sequence: []string{"70000"}},
		{Host: "h", Sequence: []string{"7000:icmpx"}},
		{Host: "", Sequence: []string{"1"}},
		{Host: "h", Sequence: []string{"1"}, TTL: 999},
	} {
		err := st.Update(func(f *File) error { return f.Put("x", bad) })
		if err == nil {
			t.Errorf("Put(%+v) accepted", bad)
		}
	}
	if err := st.Update(func(f *File) error { return f.Put("has space", Profile{Host: "h", Sequence: []string{"1"}}) }); err == nil {
		t.Error("bad name accepted")
	}
	data, _ := os.ReadFile(path)
	if string(data) != handWritten {
		t.Errorf("file changed:\n%s", data)
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".tmp") {
			t.Errorf("temporary file left behind: %s", e.Name())
		}
	}
}

func TestConcurrentUpdatesLoseNothing(t *testing.T) {
	st := &Store{Path: filepath.Join(t.TempDir(), "config.yaml")}
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := &Store{Path: st.Path}
			errs <- s.Update(func(f *File) error {
				return f.Put(fmt.Sprintf("p%02d", i), Profile{Host: "h", Sequence: []string{"1"}})
			})
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	f, err := st.Load()
	if err != nil {
		t.Fatal(err)
	}
	if n := len(f.Names()); n != 20 {
		t.Fatalf("%d profiles after 20 concurrent adds", n)
	}
}

func TestModeWarning(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, []byte(handWritten), 0o644); err != nil {
		t.Fatal(err)
	}
	var warned []string
	st := &Store{Path: path, Warn: func(s string) { warned = append(warned, s) }}
	if _, err := st.Load(); err != nil {
		t.Fatal(err)
	}
	if len(warned) != 1 || !strings.Contains(warned[0], "mode 0644") || !strings.Contains(warned[0], "chmod 600") {
		t.Fatalf("warnings: %q", warned)
	}
	warned = nil
	os.Chmod(path, 0o600)
	st.Load()
	if len(warned) != 0 {
		t.Fatalf("warned about mode 0600: %q", warned)
	}
}

func TestProfileShowEditRoundTrip(t *testing.T) {
	p := Profile{Host: "h", Sequence: []string{"1", "2:udp"}, Delay: Duration(1500 * time.Millisecond), Port: 2222, Description: "x: y"}
	data, err := MarshalProfile("web", p)
	if err != nil {
		t.Fatal(err)
	}
	name, back, err := ParseProfile("edit.yaml", data)
	if err != nil || name != "web" || back.Host != p.Host || back.Delay != p.Delay || back.Port != 2222 || back.Description != "x: y" {
		t.Fatalf("%s\n-> %q %+v %v", data, name, back, err)
	}
}

func TestValidateName(t *testing.T) {
	for _, ok := range []string{"ssh-prod", "a", "web_1", "prod.eu"} {
		if err := ValidateName(ok, []string{"profile"}); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "has space", "-x", "a/b", "profile", "PROFILE"} {
		if err := ValidateName(bad, []string{"profile"}); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(handWritten))
	f.Add([]byte("defaults:\n  delay: 1\nprofiles:\n  a: {host: h, sequence: [1]}\n"))
	f.Add([]byte("profiles: [1, 2]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := Parse("fuzz.yaml", data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.yaml") {
				t.Fatalf("error without the file name: %v", err)
			}
			return
		}
		// A file that parses can be written and read back the same.
		out, err := file.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		back, err := Parse("fuzz.yaml", out)
		if err != nil {
			t.Fatalf("re-read: %v\n%s", err, out)
		}
		if len(back.Profiles) != len(file.Profiles) {
			t.Fatalf("profiles %d -> %d", len(file.Profiles), len(back.Profiles))
		}
	})
}

// FuzzParseProfile is "profile edit": whatever comes back from the editor
// gives an error that names the file, or a profile that "profile show"
// prints and reads back the same.
func FuzzParseProfile(f *testing.F) {
	f.Add([]byte("web:\n  host: h\n  sequence: [\"1\", \"2:udp\"]\n  delay: 1500ms\n  port: 2222\n"))
	f.Add([]byte("a: {host: h, sequence: [7000:tcp:fin], wait: 3s, family: 6}\n"))
	f.Add([]byte("a: 1\nb: 2\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		name, p, err := ParseProfile("edit.yaml", data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "edit.yaml") {
				t.Fatalf("error without the file name: %v", err)
			}
			return
		}
		out, err := MarshalProfile(name, p)
		if err != nil {
			t.Fatal(err)
		}
		name2, back, err := ParseProfile("edit.yaml", out)
		if err != nil || name2 != name || fmt.Sprint(back) != fmt.Sprint(p) {
			t.Fatalf("%q %+v\nshown as\n%s\nread back as %q %+v, %v", name, p, out, name2, back, err)
		}
	})
}

// A bare "---" at the end of a file holds no second document: nothing
// would be lost, so the file is read.
func TestParseTrailingDocumentMarker(t *testing.T) {
	f, err := Parse("cfg.yaml", []byte("---\nprofiles:\n  a:\n    host: h\n    sequence: [1]\n---\n"))
	if err != nil || len(f.Profiles) != 1 {
		t.Fatalf("%v %v", f, err)
	}
}

// A hand-written sequence may be a string, as on the command line.
func TestSequenceAsString(t *testing.T) {
	for _, tc := range []struct{ yaml, want string }{
		{`"7000,8000:udp,9000:tcp:fin"`, "7000 8000:udp 9000:tcp:fin"},
		{`7000, 8000`, "7000 8000"},
		{`7000`, "7000"},
		{`[7000, "8000:udp"]`, "7000 8000:udp"},
	} {
		f, err := Parse("cfg.yaml", []byte("profiles:\n  a:\n    host: 10.77.0.2\n    sequence: "+tc.yaml+"\n    close_sequence: \"9000,8000\"\n"))
		if err != nil {
			t.Fatalf("%s: %v", tc.yaml, err)
		}
		if got := strings.Join(f.Profiles["a"].Sequence, " "); got != tc.want || strings.Join(f.Profiles["a"].CloseSequence, " ") != "9000 8000" {
			t.Errorf("sequence: %s read as %q, want %q", tc.yaml, got, tc.want)
		}
	}
	if _, err := Parse("cfg.yaml", []byte("profiles:\n  a:\n    host: h\n    sequence: \"7000,70000\"\n")); err == nil || !strings.Contains(err.Error(), "cfg.yaml:4") {
		t.Fatalf("a bad port in a string sequence: %v", err)
	}
}
