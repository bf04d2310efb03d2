// Package knock is the shared vocabulary of the knock client and the knockd
// server: a Knock (port, protocol, TCP flags), a Sequence of them, TCP flag
// sets with negation, and the parsers for the two spellings people write:
// the client's "7000:tcp:fin+psh" and knockd.conf's "7000:udp,8000".
//
// It does no I/O, so every program and package can import it.
package knock

import (
	"fmt"
	"strconv"
	"strings"
)

// Proto is the transport protocol of a knock.
type Proto uint8

const (
	TCP Proto = iota
	UDP
)

func (p Proto) String() string {
	if p == UDP {
		return "udp"
	}
	return "tcp"
}

// ParseProto accepts "tcp" or "udp" in any case.
func ParseProto(s string) (Proto, error) {
	switch strings.ToLower(s) {
	case "tcp":
		return TCP, nil
	case "udp":
		return UDP, nil
	}
	return 0, fmt.Errorf("unknown protocol %q (want tcp or udp)", s)
}

// Knock is one packet of a sequence. Flags matters for TCP only; a zero Flags
// on a TCP knock means "whatever the sender's default is" (a SYN unless the
// user said otherwise), so a parsed knock can tell "fin" from "not given".
type Knock struct {
	Port  uint16
	Proto Proto
	Flags TCPFlags
	// Payload is a UDP knock's datagram when HasPayload is set (it may be
	// empty: a zero-length datagram); otherwise a UDP knock carries one
	// zero byte, as knock 0.8 sends. Some servers (MikroTik's, say) match
	// on it; knockd does not look at it.
	Payload    string
	HasPayload bool
}

// String gives the client syntax that parses back to the same knock:
// "7000", "8000:udp", "9000:tcp:fin+psh".
func (k Knock) String() string {
	switch {
	case k.Proto == UDP && k.HasPayload:
		return strconv.Itoa(int(k.Port)) + ":udp:" + FormatPayload(k.Payload)
	case k.Proto == UDP:
		return strconv.Itoa(int(k.Port)) + ":udp"
	case k.Flags != 0:
		return strconv.Itoa(int(k.Port)) + ":tcp:" + k.Flags.String()
	}
	return strconv.Itoa(int(k.Port))
}

// Sequence is an ordered list of knocks.
type Sequence []Knock

// String joins the knocks with spaces, as they are written on a command line.
func (s Sequence) String() string {
	parts := make([]string, len(s))
	for i, k := range s {
		parts[i] = k.String()
	}
	return strings.Join(parts, " ")
}

// ProtoPort is a port of a protocol, "tcp/22": what a firewall opens
// (fwknop's OPEN_PORTS and SPA access requests, knockd's Open_Ports).
type ProtoPort struct {
	Proto string // tcp or udp
	Port  uint16
}

func (p ProtoPort) String() string { return p.Proto + "/" + strconv.Itoa(int(p.Port)) }

// ParseProtoPort reads one "tcp/22" item, spaces around it ignored: tcp or
// udp in any case, a port from 0 to 65535 (the range fwknopd reads; a
// caller that wants 1 and up says so). ok is false when item is not one.
func ParseProtoPort(item string) (p ProtoPort, ok bool) {
	proto, port, ok := strings.Cut(strings.TrimSpace(item), "/")
	n, err := strconv.Atoi(port)
	p = ProtoPort{Proto: strings.ToLower(proto), Port: uint16(n)}
	return p, ok && err == nil && n >= 0 && n <= 65535 && (p.Proto == "tcp" || p.Proto == "udp")
}

// ProtoPortList writes ports as OPEN_PORTS and Open_Ports spell them:
// "tcp/22,udp/53".
func ProtoPortList(list []ProtoPort) string {
	parts := make([]string, len(list))
	for i, p := range list {
		parts[i] = p.String()
	}
	return strings.Join(parts, ",")
}
