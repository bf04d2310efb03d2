// Package knockcmd is the knock command line: the cobra command tree
// (knock HOST PORT..., knock PROFILE, profile, gen, proxy, ssh, ssh-config,
// check, completion) and its wiring to the client and profiles packages.
// cmd/knock only calls Run.
package knockcmd
