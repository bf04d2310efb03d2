package atomicfile

import (
	"os"
	"path/filepath"
	"testing"
)

func TestWriteReplacesWithMode(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f")
	os.WriteFile(path, []byte("old"), 0o644)
	if err := Write(path, []byte("new"), 0o600); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	fi, _ := os.Stat(path)
	if string(b) != "new" || fi.Mode().Perm() != 0o600 {
		t.Fatalf("content %q mode %v", b, fi.Mode())
	}
	if entries, _ := os.ReadDir(filepath.Dir(path)); len(entries) != 1 {
		t.Fatalf("left behind: %v", entries)
	}
}

func TestWriteFollowsSymlink(t *testing.T) {
	dir := t.TempDir()
	real := filepath.Join(dir, "real.yaml")
	link := filepath.Join(dir, "link.yaml")
	os.WriteFile(real, []byte("old"), 0o600)
	if err := os.Symlink(real, link); err != nil {
		t.Skip(err)
	}
	if err := Write(link, []byte("new"), 0o600); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Lstat(link); fi.Mode()&os.ModeSymlink == 0 {
		t.Error("symlink replaced by a file")
	}
	if b, _ := os.ReadFile(real); string(b) != "new" {
		t.Errorf("target holds %q", b)
	}
}

// WriteNoFollow, for files root writes (a PID file), refuses a symbolic
// link planted at the path and leaves its target alone; a file that
// exists keeps its mode.
func TestWriteNoFollow(t *testing.T) {
	dir := t.TempDir()
	victim := filepath.Join(dir, "shadow")
	os.WriteFile(victim, []byte("secret"), 0o600)
	link := filepath.Join(dir, "knockd.pid")
	if err := os.Symlink(victim, link); err != nil {
		t.Skip(err)
	}
	if err := WriteNoFollow(link, []byte("1\n"), 0o644); err == nil {
		t.Fatal("wrote through a symbolic link")
	}
	b, _ := os.ReadFile(victim)
	fi, _ := os.Stat(victim)
	if string(b) != "secret" || fi.Mode().Perm() != 0o600 {
		t.Fatalf("victim now %q, mode %v", b, fi.Mode())
	}
	plain := filepath.Join(dir, "plain.pid")
	os.WriteFile(plain, []byte("old"), 0o640)
	if err := WriteNoFollow(plain, []byte("2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	b, _ = os.ReadFile(plain)
	fi, _ = os.Stat(plain)
	if string(b) != "2\n" || fi.Mode().Perm() != 0o640 {
		t.Fatalf("plain file now %q, mode %v", b, fi.Mode())
	}
	if f, err := OpenNoFollow(link, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640); err == nil {
		f.Close()
		t.Fatal("opened through a symbolic link")
	}
}
