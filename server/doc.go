// Package server is knockd: a sniffing port-knock server compatible with
// knockd 0.8. It is a pipeline of plain values, each stage tested alone:
// frames from a capture or a pcap file are decoded into Packets (decode.go),
// Packets run through knockd's per-source state machine (tracker.go), and the
// Events that come out are logged and run the doors' commands (actions.go).
package server
