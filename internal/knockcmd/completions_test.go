package knockcmd

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite ../../completions from the command tree")

// completionFiles maps each shell to the file the release ships.
var completionFiles = map[string]string{
	"bash":       "knock.bash",
	"zsh":        "_knock",
	"fish":       "knock.fish",
	"powershell": "knock.ps1",
}

// TestCompletionsUpToDate fails when completions/ differs from what the
// binary prints; `make completions` (or go test -update) regenerates it.
func TestCompletionsUpToDate(t *testing.T) {
	for shell, file := range completionFiles {
		var out bytes.Buffer
		cmd := newRootCmd(&streams{Out: &out, Err: &out}, nil)
		cmd.SetArgs([]string{"completion", shell})
		if err := cmd.Execute(); err != nil {
			t.Fatalf("completion %s: %v", shell, err)
		}
		path := filepath.Join("..", "..", "completions", file)
		if *update {
			if err := os.WriteFile(path, out.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run make completions)", err)
		}
		if !bytes.Equal(want, out.Bytes()) {
			t.Errorf("completions/%s is out of date: run make completions", file)
		}
	}
}
