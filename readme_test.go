package knock

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// README's Architecture section, the map the team keeps, names every
// package of the tree, and every file it names exists.
func TestArchitectureIsTrue(t *testing.T) {
	arch, files := architecture(t), map[string]bool{}
	_ = filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".")) && path != "." {
			return filepath.SkipDir
		}
		if !d.IsDir() {
			files[d.Name()] = true
		}
		if !d.IsDir() || path == "." {
			return nil
		}
		ents, _ := os.ReadDir(path)
		for _, e := range ents {
			if strings.HasSuffix(e.Name(), ".go") && !strings.HasSuffix(e.Name(), "_test.go") {
				dir := filepath.ToSlash(path)
				name := dir[strings.LastIndex(dir, "/")+1:]
				if !strings.Contains(arch, dir+"/") && !strings.Contains(arch, name+"/") && !strings.HasPrefix(dir, "internal/tools/") {
					t.Errorf("README's Architecture does not name the package %s/", dir)
				}
				break
			}
		}
		return nil
	})
	for _, m := range regexp.MustCompile(`\b[a-z0-9_]+\.go\b`).FindAllString(arch, -1) {
		if !files[m] && !strings.HasPrefix(m, "_") { // "*_lab_test.go" is a pattern
			t.Errorf("README's Architecture names %s, which is no file of the tree", m)
		}
	}
}

// architecture is README's Architecture section.
func architecture(t *testing.T) string {
	data, _ := os.ReadFile("README.md")
	if _, arch, ok := strings.Cut(string(data), "\n## Architecture\n"); ok {
		return arch
	}
	t.Fatal("README.md has no Architecture section")
	return ""
}
