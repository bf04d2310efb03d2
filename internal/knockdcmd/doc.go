// Package knockdcmd is the knockd command line: knockd 0.8's flags, the
// signals, daemon mode, and the wiring to the server package. cmd/knockd
// only calls Run.
package knockdcmd
