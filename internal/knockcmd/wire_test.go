//go:build linux

package knockcmd

import (
	"fmt"
	"os"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/knocktools/knock"
)

// wirePacket is what a lab test checks of a captured packet. Zero ttl,
// sport and payload mean "any".
type wirePacket struct {
	src          string
	sport, dport uint16
	proto, flags string
	ttl          uint8
	payload      int
}

func (w wirePacket) String() string {
	return fmt.Sprintf("%s %s:%d -> :%d [%s] ttl %d payload %d", w.proto, w.src, w.sport, w.dport, w.flags, w.ttl, w.payload)
}

func (w wirePacket) matches(g wirePacket) bool {
	return w.src == g.src && w.dport == g.dport && w.proto == g.proto && w.flags == g.flags &&
		(w.sport == 0 || w.sport == g.sport) && (w.ttl == 0 || w.ttl == g.ttl) &&
		(w.payload == 0 || w.payload == g.payload)
}

func containsAll(got, want []wirePacket) bool {
	for _, w := range want {
		found := false
		for _, g := range got {
			if w.matches(g) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// readWire decodes a pcap file written by tcpdump; a file still being
// written may end in a partial record, which ends the read.
func readWire(t *testing.T, path string) []wirePacket {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	r, err := pcapgo.NewReader(f)
	if err != nil {
		return nil
	}
	var out []wirePacket
	for {
		data, _, err := r.ReadPacketData()
		if err != nil {
			return out
		}
		p := gopacket.NewPacket(data, r.LinkType(), gopacket.Default)
		var w wirePacket
		switch ip := p.NetworkLayer().(type) {
		case *layers.IPv4:
			w.src, w.ttl = ip.SrcIP.String(), ip.TTL
		case *layers.IPv6:
			w.src, w.ttl = ip.SrcIP.String(), ip.HopLimit
		default:
			continue
		}
		switch tl := p.TransportLayer().(type) {
		case *layers.TCP:
			w.proto, w.sport, w.dport = "tcp", uint16(tl.SrcPort), uint16(tl.DstPort)
			w.flags = knock.TCPFlags(tl.Contents[13]).String()
		case *layers.UDP:
			w.proto, w.sport, w.dport, w.payload = "udp", uint16(tl.SrcPort), uint16(tl.DstPort), len(tl.Payload)
		default:
			continue
		}
		out = append(out, w)
	}
}
