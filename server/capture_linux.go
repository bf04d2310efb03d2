package server

import (
	"os"
	"strconv"
	"strings"
	"sync"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// snapLen is how much of each frame is copied: headers are all we read.
const snapLen = 256

// liveSource is an AF_PACKET capture (pure Go, no libpcap).
type liveSource struct {
	h    *pcapgo.EthernetHandle
	link layers.LinkType

	mu      sync.Mutex
	dropped uint64 // kernel drops counted so far (PACKET_STATISTICS resets on read)
}

// OpenLive starts capturing on an interface.
func OpenLive(iface string) (Source, error) {
	h, err := pcapgo.NewEthernetHandle(iface)
	if err != nil {
		return nil, err
	}
	if err := h.SetCaptureLength(snapLen); err != nil {
		h.Close()
		return nil, err
	}
	return &liveSource{h: h, link: linkTypeOf(iface)}, nil
}

// linkTypeOf reads the interface's hardware type: a packet socket hands
// over Ethernet frames for Ethernet and loopback devices, and bare IP
// packets for tun, WireGuard and PPP devices.
func linkTypeOf(iface string) layers.LinkType {
	b, err := os.ReadFile("/sys/class/net/" + iface + "/type")
	if err != nil {
		return layers.LinkTypeEthernet
	}
	switch t, _ := strconv.Atoi(strings.TrimSpace(string(b))); t {
	case 1, 772: // ARPHRD_ETHER, ARPHRD_LOOPBACK
		return layers.LinkTypeEthernet
	case 65534, 512, 776, 778: // ARPHRD_NONE (tun, wireguard), PPP, SIT, IPGRE
		return layers.LinkTypeRaw
	}
	return layers.LinkTypeEthernet
}

func (s *liveSource) ReadPacketData() ([]byte, gopacket.CaptureInfo, error) {
	return s.h.ReadPacketData()
}

func (s *liveSource) LinkType() layers.LinkType { return s.link }

// KernelDrops returns how many packets the kernel dropped because knockd
// did not read them fast enough, since the capture opened.
func (s *liveSource) KernelDrops() (uint64, error) {
	st, err := s.h.Stats()
	if err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dropped += uint64(st.Drops)
	return s.dropped, nil
}

// SetPorts installs the kernel filter for the doors' ports; without one
// (an unknown link type) every frame reaches the userspace filter.
func (s *liveSource) SetPorts(tcp, udp []uint16) error {
	prog, ok := Filter(s.link, tcp, udp)
	if !ok {
		return nil
	}
	return s.h.SetBPF(prog)
}
func (s *liveSource) Close() error { s.h.Close(); return nil }
