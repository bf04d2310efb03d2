//go:build !windows

package knockcmd

const defaultEditor = "vi"
