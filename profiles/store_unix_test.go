//go:build unix

package profiles

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A profile write never goes through a symbolic link another user planted,
// nor into a directory others can write; a link of our own is fine.
func TestUpdateRefusesPlantedLinks(t *testing.T) {
	if os.Getuid() != 0 {
		if os.Getenv("CI") == "true" {
			t.Fatal("needs root (to own a link as another user) and CI runs as root")
		}
		t.Skip("SKIPPED: needs root to make a link owned by another user (run `sudo make test`)")
	}
	add := func(f *File) error {
		return f.Put("a", Profile{Host: "10.77.0.2", Sequence: []string{"7000"}})
	}
	home := t.TempDir()
	victim := filepath.Join(home, "victim")
	os.WriteFile(victim, []byte("precious\n"), 0o600)

	// A link owned by someone else, in our own directory.
	mine := filepath.Join(home, "cfg")
	os.Mkdir(mine, 0o700)
	planted := filepath.Join(mine, "config.yaml")
	os.Symlink(victim, planted)
	if err := os.Lchown(planted, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	err := (&Store{Path: planted}).Update(add)
	if err == nil || !strings.Contains(err.Error(), "symbolic link owned by uid 65534") {
		t.Fatalf("write through a planted link: %v", err)
	}

	// A shared directory (world-writable, no sticky bit).
	shared := filepath.Join(home, "shared")
	os.Mkdir(shared, 0o777)
	os.Chmod(shared, 0o777)
	err = (&Store{Path: filepath.Join(shared, "config.yaml")}).Update(add)
	if err == nil || !strings.Contains(err.Error(), "which others can write (mode 0777)") {
		t.Fatalf("write in a shared directory: %v", err)
	}
	if b, _ := os.ReadFile(victim); string(b) != "precious\n" {
		t.Fatalf("victim changed: %q", b)
	}

	// Our own link (a dotfile manager's) to a file in our own directory.
	real := filepath.Join(mine, "real.yaml")
	os.WriteFile(real, nil, 0o600)
	ours := filepath.Join(mine, "link.yaml")
	os.Symlink(real, ours)
	if err := (&Store{Path: ours}).Update(add); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Lstat(ours); fi.Mode()&os.ModeSymlink == 0 {
		t.Fatal("our link was replaced by a file")
	}
	if b, _ := os.ReadFile(real); !strings.Contains(string(b), "10.77.0.2") {
		t.Fatalf("the link's target: %q", b)
	}

	// A sticky shared directory (as /tmp): our own file there is fine.
	sticky := filepath.Join(home, "tmp")
	os.Mkdir(sticky, 0o777)
	os.Chmod(sticky, 0o777|os.ModeSticky)
	own := filepath.Join(sticky, "config.yaml")
	os.WriteFile(own, nil, 0o600)
	if err := (&Store{Path: own}).Update(add); err != nil {
		t.Fatal(err)
	}
}
