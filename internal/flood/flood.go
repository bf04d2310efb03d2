// Package flood writes the traffic knockd has to survive on an
// internet-facing interface: a pcap of spoofed TCP SYNs from many sources
// to the doors' ports, with a few real knock sequences woven in; or of
// forged SPA packets (UDP datagrams with payloads), with real ones woven
// in. The
// benchmarks replay it, in process (server) and over a lab veth against
// our knockd and Debian's (internal/knockdcmd).
package flood

import (
	"bufio"
	"crypto/hmac"
	"crypto/sha256"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/netip"
	"slices"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/knocktools/knock"
)

// Spec describes a flood.
type Spec struct {
	// Packets is how many spoofed SYNs to write, from Sources distinct
	// source addresses counted up from FirstSource (each source comes back
	// every Sources packets).
	Packets, Sources int
	FirstSource      netip.Addr
	// Ports are what the spoofed SYNs hit, one drawn at random per packet,
	// except for the Scan share of them (0 to 1), which go to random ports
	// from 1 to 65535, as a port scan would. Spoofed sources hitting
	// every port of a sequence would now and then knock it by chance: aim
	// them at the doors' first ports, which creates the most state.
	Ports []uint16
	Scan  float64
	// Dst is the knockd host; SrcMAC and DstMAC address the frames on the
	// link they are replayed into.
	Dst            netip.Addr
	SrcMAC, DstMAC net.HardwareAddr
	// Knockers send their sequences during the flood, their first knocks
	// spread evenly over it, with Gap spoofed packets between one knock and
	// the next; every knock lands inside the flood.
	Knockers []Knocker
	Gap      int
	// Rate sets the capture times (packets per second; 1,000,000 when 0),
	// which a replay of the file in process goes by.
	Rate int
	Seed uint64
	// Payloads, when set, make the spoofed packets UDP datagrams to
	// Ports carrying these payloads in turn (forged SPA packets); a
	// knocker's UDP knock carries its Payload.
	Payloads [][]byte
}

// Knocker is a real knocker: an address and the sequence it knocks.
type Knocker struct {
	Src netip.Addr
	Seq knock.Sequence
}

// Summary says what was written.
type Summary struct {
	Frames, Spoofed, Knocks int
}

// start is the capture time of the first frame.
var start = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

// Write writes the flood to w as a pcap file of Ethernet frames.
func Write(w io.Writer, s Spec) (Summary, error) {
	var sum Summary
	if s.Sources < 1 || len(s.Ports) == 0 || !s.Dst.IsValid() || !s.FirstSource.IsValid() {
		return sum, fmt.Errorf("flood: a spec needs sources, ports, a destination and a first source")
	}
	if s.FirstSource.Is4() != s.Dst.Is4() {
		return sum, fmt.Errorf("flood: source %s and destination %s are of different families", s.FirstSource, s.Dst)
	}
	rate := s.Rate
	if rate <= 0 {
		rate = 1_000_000
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	pw := pcapgo.NewWriter(bw)
	snap := uint32(128)
	if s.Payloads != nil || slices.ContainsFunc(s.Knockers, func(k Knocker) bool {
		return slices.ContainsFunc(k.Seq, func(k knock.Knock) bool { return k.HasPayload })
	}) {
		snap = 2048
	}
	if err := pw.WriteFileHeader(snap, layers.LinkTypeEthernet); err != nil {
		return sum, err
	}
	// Where each knock goes: knocker i starts at the (i+1)/(n+1) point of
	// the flood and knocks again every Gap spoofed packets.
	type planned struct {
		src netip.Addr
		k   knock.Knock
	}
	plan := map[int][]planned{}
	span := 0 // spoofed packets from a knocker's first knock to its last
	for _, kn := range s.Knockers {
		span = max(span, (len(kn.Seq)-1)*s.Gap)
	}
	if span > s.Packets {
		return sum, fmt.Errorf("flood: knocks %d packets apart do not fit in a flood of %d", s.Gap, s.Packets)
	}
	for i, kn := range s.Knockers {
		if kn.Src.Is4() != s.Dst.Is4() {
			return sum, fmt.Errorf("flood: knocker %s and destination %s are of different families", kn.Src, s.Dst)
		}
		at := (i + 1) * (s.Packets - span) / (len(s.Knockers) + 1)
		for j, k := range kn.Seq {
			plan[at+j*s.Gap] = append(plan[at+j*s.Gap], planned{kn.Src, k})
		}
	}
	rng := rand.New(rand.NewPCG(s.Seed, 0x6b6e6f636b))
	b := newBuilder(s)
	write := func(src netip.Addr, k knock.Knock, sport uint16) error {
		data, err := b.frame(src, k, sport)
		if err != nil {
			return err
		}
		ci := gopacket.CaptureInfo{
			Timestamp:     start.Add(time.Duration(sum.Frames) * time.Second / time.Duration(rate)),
			CaptureLength: len(data), Length: len(data),
		}
		sum.Frames++
		return pw.WritePacket(ci, data)
	}
	for i := 0; i <= s.Packets; i++ {
		for _, p := range plan[i] {
			if err := write(p.src, p.k, 40000+uint16(sum.Knocks)); err != nil {
				return sum, err
			}
			sum.Knocks++
		}
		if i == s.Packets {
			break
		}
		src := nth(s.FirstSource, i%s.Sources)
		k := knock.Knock{Port: s.Ports[rng.IntN(len(s.Ports))], Proto: knock.TCP, Flags: knock.SYN}
		if s.Payloads != nil {
			k = knock.Knock{Port: k.Port, Proto: knock.UDP, Payload: string(s.Payloads[i%len(s.Payloads)]), HasPayload: true}
		}
		if s.Scan > 0 && rng.Float64() < s.Scan {
			k.Port = uint16(1 + rng.IntN(65535))
		}
		if err := write(src, k, uint16(1024+rng.IntN(60000))); err != nil {
			return sum, err
		}
		sum.Spoofed++
	}
	return sum, bw.Flush()
}

// nth returns the address n after a.
func nth(a netip.Addr, n int) netip.Addr {
	b := a.As16()
	carry := uint64(n)
	for i := 15; i >= 0 && carry > 0; i-- {
		v := uint64(b[i]) + carry&0xff
		b[i] = byte(v)
		carry = carry>>8 + v>>8
	}
	out := netip.AddrFrom16(b)
	if a.Is4() {
		return out.Unmap()
	}
	return out
}

// builder serializes frames into one reused buffer.
type builder struct {
	eth  layers.Ethernet
	ip4  layers.IPv4
	ip6  layers.IPv6
	tcp  layers.TCP
	udp  layers.UDP
	buf  gopacket.SerializeBuffer
	opts gopacket.SerializeOptions
}

func newBuilder(s Spec) *builder {
	b := &builder{buf: gopacket.NewSerializeBuffer(), opts: gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}}
	b.eth = layers.Ethernet{SrcMAC: orZero(s.SrcMAC), DstMAC: orZero(s.DstMAC), EthernetType: layers.EthernetTypeIPv4}
	if s.Dst.Is6() {
		b.eth.EthernetType = layers.EthernetTypeIPv6
	}
	b.ip4 = layers.IPv4{Version: 4, IHL: 5, TTL: 64, DstIP: s.Dst.AsSlice()}
	b.ip6 = layers.IPv6{Version: 6, HopLimit: 64, DstIP: s.Dst.AsSlice()}
	return b
}

func (b *builder) frame(src netip.Addr, k knock.Knock, sport uint16) ([]byte, error) {
	var net gopacket.NetworkLayer
	var ipLayer gopacket.SerializableLayer
	if src.Is4() {
		b.ip4.SrcIP = src.AsSlice()
		net, ipLayer = &b.ip4, &b.ip4
	} else {
		b.ip6.SrcIP = src.AsSlice()
		net, ipLayer = &b.ip6, &b.ip6
	}
	var l4 gopacket.SerializableLayer
	if k.Proto == knock.UDP {
		b.udp = layers.UDP{SrcPort: layers.UDPPort(sport), DstPort: layers.UDPPort(k.Port)}
		_ = b.udp.SetNetworkLayerForChecksum(net)
		setProto(src, &b.ip4, &b.ip6, layers.IPProtocolUDP)
		l4 = &b.udp
	} else {
		f := k.Flags
		if f == 0 {
			f = knock.SYN
		}
		b.tcp = layers.TCP{SrcPort: layers.TCPPort(sport), DstPort: layers.TCPPort(k.Port), Seq: uint32(sport) * 2654435761, Window: 64240,
			FIN: f&knock.FIN != 0, SYN: f&knock.SYN != 0, RST: f&knock.RST != 0, PSH: f&knock.PSH != 0,
			ACK: f&knock.ACK != 0, URG: f&knock.URG != 0, ECE: f&knock.ECE != 0, CWR: f&knock.CWR != 0}
		_ = b.tcp.SetNetworkLayerForChecksum(net)
		setProto(src, &b.ip4, &b.ip6, layers.IPProtocolTCP)
		l4 = &b.tcp
	}
	all := []gopacket.SerializableLayer{&b.eth, ipLayer, l4}
	if k.Proto == knock.UDP && k.HasPayload {
		all = append(all, gopacket.Payload(k.Payload))
	}
	if err := gopacket.SerializeLayers(b.buf, b.opts, all...); err != nil {
		return nil, err
	}
	return b.buf.Bytes(), nil
}

func setProto(src netip.Addr, ip4 *layers.IPv4, ip6 *layers.IPv6, p layers.IPProtocol) {
	if src.Is4() {
		ip4.Protocol = p
	} else {
		ip6.NextHeader = p
	}
}

// orZero stands in the all-zero address for a missing one.
func orZero(mac net.HardwareAddr) net.HardwareAddr {
	if len(mac) == 0 {
		return make(net.HardwareAddr, 6)
	}
	return mac
}

// Forgeries are n forged SPA packets of size bytes: base64 that no client
// made (so each fails every HMAC), never starting as a packet with
// "Salted__" would, and ending as an encoder ends the HMAC's base64 (its
// spare bits zero), so that a strict decoder cannot refuse one before
// computing its HMAC: each costs a server what a real forgery costs.
// The same seed gives the same packets.
func Forgeries(size, n int, seed uint64) [][]byte {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	rng := rand.New(rand.NewPCG(seed, 0x737061))
	out := make([][]byte, n)
	for i := range out {
		p := make([]byte, size)
		for j := range p {
			p[j] = alphabet[rng.IntN(64)]
		}
		if p[0] == 'U' {
			p[0] = 'V'
		}
		p[size-1] = alphabet[4*rng.IntN(16)]
		out[i] = p
	}
	return out
}

// HMACFloorNs is the floor a forgery of size bytes costs a server with
// one stanza: the nanoseconds of CPU one HMAC-SHA256 of it takes here,
// measured over 100,000 of them (the benchmarks that report against it
// cannot run testing.Benchmark inside themselves).
func HMACFloorNs(size int) float64 {
	mac := hmac.New(sha256.New, []byte("an HMAC key of the floor"))
	msg, sum := make([]byte, size), make([]byte, 0, mac.Size())
	const rounds = 100_000
	start := time.Now()
	for range rounds {
		mac.Reset()
		mac.Write(msg)
		sum = mac.Sum(sum[:0])
	}
	return float64(time.Since(start).Nanoseconds()) / rounds
}
