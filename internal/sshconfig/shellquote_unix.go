//go:build !windows

package sshconfig

import "strings"

// shellQuote quotes a word for the shell that runs ssh's ProxyCommand
// (sh -c), leaving plain words as they are. '=' is not plain: sh reads a
// first word holding it as an assignment, and ssh drops a '=' that
// starts the ProxyCommand value.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-+:,@%") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
