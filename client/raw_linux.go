package client

import (
	"net"

	"golang.org/x/net/bpf"
	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
)

// discardInbound attaches a filter that accepts nothing: a Linux raw TCP
// socket is also handed a copy of every TCP segment the host receives,
// which a sender never reads. Without the filter they only fill the
// socket's buffer, so a failure here is harmless and ignored.
func discardInbound(c net.PacketConn) {
	prog, err := bpf.Assemble([]bpf.Instruction{bpf.RetConstant{Val: 0}})
	if err != nil {
		return
	}
	if c.LocalAddr().(*net.IPAddr).IP.To4() != nil {
		_ = ipv4.NewPacketConn(c).SetBPF(prog)
		return
	}
	_ = ipv6.NewPacketConn(c).SetBPF(prog)
}
