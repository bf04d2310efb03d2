package sshconfig

import "strings"

// shellQuote quotes a word for Windows' OpenSSH, which starts the
// ProxyCommand without a shell: double quotes around words with spaces,
// and around a word starting with '=', which ssh's config parser would
// drop from the start of the value.
func shellQuote(s string) string {
	if s != "" && !strings.ContainsAny(s, " \t\"") && s[0] != '=' {
		return s
	}
	return `"` + strings.ReplaceAll(s, `"`, `\"`) + `"`
}
