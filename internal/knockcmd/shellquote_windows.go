package knockcmd

import "strings"

// shellQuote quotes a word for Windows' OpenSSH, which starts the
// ProxyCommand without a shell: double quotes around words with spaces.
func shellQuote(s string) string {
	if s != "" && !strings.ContainsAny(s, " \t\"") {
		return s
	}
	return `"` + strings.ReplaceAll(s, `"`, `\"`) + `"`
}
