//go:build unix

package filepolicy

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestIntegrity(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "knockd.conf")
	os.WriteFile(file, nil, 0o600)
	if w := Integrity(file); len(w) != 0 {
		t.Fatalf("a 0600 file in a private directory: %q", w)
	}
	// A directory others can write, without the sticky bit: anyone can
	// swap the file.
	shared := filepath.Join(dir, "shared")
	os.Mkdir(shared, 0o700)
	os.Chmod(shared, 0o777)
	inShared := filepath.Join(shared, "knockd.conf")
	os.WriteFile(inShared, nil, 0o600)
	if w := Integrity(inShared); len(w) != 1 || !strings.Contains(w[0], "is in "+shared+" (mode 0777), which others can write") {
		t.Fatalf("in a shared directory: %q", w)
	}
	// With the sticky bit (as /tmp), others cannot replace our file.
	os.Chmod(shared, 0o777|os.ModeSticky)
	if w := Integrity(inShared); len(w) != 0 {
		t.Fatalf("in a sticky directory: %q", w)
	}
	os.Chmod(shared, 0o700)
	if os.Geteuid() != 0 {
		return // ownership by another user needs root to arrange
	}
	// A symbolic link someone else owns leads wherever they like.
	link := filepath.Join(dir, "link.conf")
	os.Symlink(file, link)
	os.Lchown(link, 4242, 4242)
	if w := Integrity(link); len(w) != 1 || !strings.Contains(w[0], "is a symbolic link owned by uid 4242") {
		t.Fatalf("a link of someone else's: %q", w)
	}
	// A directory someone else owns.
	theirs := filepath.Join(dir, "theirs")
	os.Mkdir(theirs, 0o755)
	os.Chown(theirs, 4242, 4242)
	inTheirs := filepath.Join(theirs, "seqs")
	os.WriteFile(inTheirs, nil, 0o600)
	if w := Integrity(inTheirs); len(w) != 1 || !strings.Contains(w[0], "which uid 4242 owns") {
		t.Fatalf("in someone else's directory: %q", w)
	}
}

func TestSecrecy(t *testing.T) {
	path := filepath.Join(t.TempDir(), "secret")
	os.WriteFile(path, []byte("JBSWY3DP"), 0o600)
	if err := Secrecy(path); err != nil {
		t.Fatal(err)
	}
	os.Chmod(path, 0o640)
	if err := Secrecy(path); err == nil || !strings.Contains(err.Error(), "readable by others (mode 0640)") {
		t.Fatalf("err %v", err)
	}
}
