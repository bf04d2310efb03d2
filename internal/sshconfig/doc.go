// Package sshconfig writes what knock hands ssh: the ProxyCommand that
// runs knock proxy, a profile's Host block for ssh_config, and the
// argument list of knock ssh. Profile files are shared and imported, so
// every value is checked again here, where it is written: a block that
// ssh reads differently (a second keyword on a line, a '%' token) or an
// argument ssh reads as an option is a command injection, not a typo.
package sshconfig
