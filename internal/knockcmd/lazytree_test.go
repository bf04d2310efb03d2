package knockcmd

import (
	"io"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// subcommandWords names every subcommand newRootCmd adds, so that Run
// builds them whenever a command line may use one.
func TestSubcommandWords(t *testing.T) {
	root := newRootCmd(&streams{In: strings.NewReader(""), Out: io.Discard, Err: io.Discard}, nil)
	want := []string{"completion", "help", cobra.ShellCompRequestCmd, cobra.ShellCompNoDescRequestCmd}
	for _, c := range root.Commands() {
		want = append(want, c.Name())
		want = append(want, c.Aliases...)
	}
	got := slices.Clone(subcommandWords)
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(slices.Compact(got), slices.Compact(want)) {
		t.Fatalf("subcommandWords = %q, the tree has %q", got, want)
	}
}

func TestNeedsSubcommands(t *testing.T) {
	root, _ := newRootOnly(&streams{In: strings.NewReader(""), Out: io.Discard, Err: io.Discard}, nil)
	tests := []struct {
		args []string
		want bool
	}{
		{[]string{"prod"}, false},
		{[]string{"prod", "7000"}, false},
		{[]string{"-v", "-d", "200", "door.lab", "7000"}, false},
		{[]string{"-d200", "door.lab", "7000"}, false},
		{[]string{"--delay", "profile", "door.lab", "1"}, false}, // "profile" is --delay's value
		{[]string{"--config", "c.yaml", "prod"}, false},
		{[]string{"--config=c.yaml", "prod", "--close"}, false},
		{[]string{"-4v", "prod"}, false},
		{[]string{"--wait", "prod"}, false}, // --wait alone takes no value
		{[]string{"--config", "c.yaml", "proxy", "--profile", "x", "h", "22"}, true},
		{[]string{"profile", "list"}, true},
		{[]string{"ssh", "prod"}, true},
		{[]string{"-v", "check", "prod"}, true},
		{[]string{"completion", "bash"}, true},
		{[]string{"__complete", ""}, true},
		{[]string{"help"}, true},
		{[]string{"prod", "--help"}, true},
		{[]string{"-h"}, true},
		{[]string{"-V"}, false}, // the root prints the version
		{[]string{"--version"}, false},
		{[]string{"-vV"}, false},
		{[]string{"--config", "c.yaml", "--version"}, false},
		{[]string{"-V", "--help"}, true},
		{[]string{"-V", "profile", "list"}, true},
		{[]string{"-v"}, true},
		{[]string{}, true},
		{[]string{"--", "profile"}, true},
		{[]string{"--", "prod"}, false},
	}
	for _, tt := range tests {
		if got := needsSubcommands(root, tt.args); got != tt.want {
			t.Errorf("needsSubcommands(%q) = %v, want %v", tt.args, got, tt.want)
		}
	}
}

// A profile knock through Run, which leaves the subcommands out, works
// as through the whole tree.
func TestRunWithoutSubcommands(t *testing.T) {
	var out, errOut strings.Builder
	if code := Run([]string{"--dry-run", "--method", "connect", "127.0.0.1", "7000"}, strings.NewReader(""), &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	if !strings.Contains(out.String(), "would hit tcp 127.0.0.1:7000 via connect") {
		t.Fatalf("output %q", out.String())
	}
}

// --version runs without the subcommands, as it did with them.
func TestRunVersionWithoutSubcommands(t *testing.T) {
	for _, args := range [][]string{{"--version"}, {"-V"}, {"-vV"}} {
		var out, errOut strings.Builder
		if code := Run(args, strings.NewReader(""), &out, &errOut); code != 0 {
			t.Fatalf("%q: exit %d: %s", args, code, errOut.String())
		}
		if !strings.HasPrefix(out.String(), "knock ") || errOut.Len() != 0 {
			t.Fatalf("%q: stdout %q, stderr %q", args, out.String(), errOut.String())
		}
	}
}

// knock links no part of the server: knockd.conf comes from knockdconf,
// a package of its own, and nothing under server/ or firewall/.
func TestClientLinksNoServer(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "../../cmd/knock").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, pkg := range strings.Fields(string(out)) {
		if strings.HasPrefix(pkg, "github.com/knocktools/knock/server") || strings.HasPrefix(pkg, "github.com/knocktools/knock/firewall") {
			t.Errorf("knock links %s", pkg)
		}
	}
}
