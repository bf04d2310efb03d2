// Package server will hold knockd: the knockd.conf parser, packet capture
// and decoding, the per-source state machine and the door commands. It is
// empty until the server is built; see ../shared/design.md for its plan.
package server
