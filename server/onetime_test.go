package server

import (
	"os"
	"path/filepath"
	"testing"
)

func TestOneTimeSequences(t *testing.T) {
	path := filepath.Join(t.TempDir(), "seqs")
	content := "# my sequences\n 1000,2000,3000\n\n not a sequence\n 4000:udp,5000\n 6000\n"
	os.WriteFile(path, []byte(content), 0o640)
	seq, ok, err := LoadOneTime(path)
	if err != nil || !ok || seq.KnockdString() != "1000:tcp,2000:tcp,3000:tcp" {
		t.Fatalf("load: %v %v %v", seq, ok, err)
	}
	steps := []string{"4000:udp,5000:tcp", "6000:tcp", ""}
	for _, want := range steps {
		next, ok, err := UseOneTime(path)
		if err != nil {
			t.Fatal(err)
		}
		if got := next.KnockdString(); got != want || ok != (want != "") {
			t.Fatalf("next = %q %v, want %q", got, ok, want)
		}
	}
	b, _ := os.ReadFile(path)
	if want := "# my sequences\n#1000,2000,3000\n\n not a sequence\n#4000:udp,5000\n#6000\n"; string(b) != want {
		t.Fatalf("file:\n%s\nwant:\n%s", b, want)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o640 {
		t.Fatalf("mode changed to %v", fi.Mode())
	}
	if _, ok, _ := UseOneTime(path); ok {
		t.Fatal("used up file still gives sequences")
	}
}

func FuzzOneTime(f *testing.F) {
	f.Add([]byte(" 1,2\n#3\n 4:udp"))
	f.Fuzz(func(t *testing.T, data []byte) {
		seq, off, ok := nextOneTime(data)
		if ok && (len(seq) == 0 || off >= len(data)) {
			t.Fatalf("bad result %v %d", seq, off)
		}
	})
}
