package knockcmd

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Names read from imported files never reach the terminal with their
// control characters: fwknoprc stanzas, Knock on Ports sequences and
// knockd doors are named escaped in every message.
func TestImportsEscapeNames(t *testing.T) {
	dir := t.TempDir()
	const evil = "evil\x1b]0;pwned\x07\x1b[2J"
	files := map[string]string{
		"fwknoprc": "[" + evil + "]\nUSE_GPG Y\nSPA_SERVER 10.77.0.6\n",
		"kop.json": `[{"name": "evil\u001b]0;pwned\u0007", "host": "10.77.0.9", "ipv": 0, "steps": [{"type": 2, "icmp_size": 10, "icmp_count": 1}]},` +
			`{"name": "x\u001b[2Jy", "host": "10.77.0.9", "ipv": 0, "steps": [{"type": 1, "port": 7100}]}]`,
		"knockd.conf": "[" + evil + "]\nsequence = 7000\n",
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cfg := filepath.Join(dir, "config.yaml")
	for _, args := range [][]string{
		{"profile", "import", "--fwknoprc", filepath.Join(dir, "fwknoprc")},
		{"profile", "import", "--knockonports", filepath.Join(dir, "kop.json"), "--strict"}, // one sequence maps: --strict fails
		{"profile", "import", "--knockd", filepath.Join(dir, "knockd.conf"), "--host", "10.77.0.2"},
	} {
		var out, errOut bytes.Buffer
		code := Run(append([]string{"--config", cfg}, args...), strings.NewReader(""), &out, &errOut)
		if code == 0 {
			t.Errorf("%v: exit 0", args)
		}
		if bytes.ContainsAny(out.Bytes(), "\x1b\x07") || bytes.ContainsAny(errOut.Bytes(), "\x1b\x07") {
			t.Errorf("%v: a control character reached the terminal:\nstdout %q\nstderr %q", args, out.String(), errOut.String())
		}
		if !strings.Contains(errOut.String(), `\x1b`) {
			t.Errorf("%v: the name is not shown escaped: %q", args, errOut.String())
		}
	}
}
