package server

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/afpacket"
)

// The capture ring: frames are packed into blocks that the kernel hands
// over whole, so a burst costs one wake-up per block instead of a system
// call per frame. A ring of 8 MiB holds about 100,000 spoofed SYNs
// (TestLabKernelDropsAreLogged: a stopped knockd kept 102k of 300k), the
// default 1 MiB some 7,000: a twentieth of a second of a flood at full
// speed, while knockd catches up; at a knocker's pace, a packet a block
// (see RingGeometry). A block
// with frames in it is handed over after blockTimeout at the latest,
// which bounds how late a quiet knock is seen.
const (
	blockTimeout = 10 * time.Millisecond
	// pollTimeout is how long a read waits before checking for Close.
	pollTimeout = 100 * time.Millisecond
)

// errClosed ends reads from a closed capture.
var errClosed = errors.New("capture closed")

// liveSource is an AF_PACKET capture through a TPACKET_V3 ring (pure Go,
// no libpcap).
type liveSource struct {
	name string
	link LinkType

	// mu guards tp and buf. A read holds it while it waits (at most
	// pollTimeout) and copies a frame out of the ring; Close takes it to
	// unmap the ring, which so never vanishes under a reader.
	mu     sync.Mutex
	tp     *afpacket.TPacket
	closed bool
	buf    [udpSnapLen]byte
}

// OpenLive starts capturing on an interface, with a ring of ringBytes
// (see RingGeometry). Ethernet and loopback devices are read with their
// link-layer header; every other kind (tun, WireGuard, PPP, tunnels,
// InfiniBand, ...) through a cooked socket, which hands over the packet
// from its network header whatever the link below.
func OpenLive(iface string, ringBytes int) (Source, error) {
	block, blocks := RingGeometry(ringBytes)
	link, sock := linkTypeOf(iface)
	tp, err := afpacket.NewTPacket(
		afpacket.OptInterface(iface),
		afpacket.OptTPacketVersion(afpacket.TPacketVersion3),
		afpacket.OptFrameSize(ringFrame),
		afpacket.OptBlockSize(block),
		afpacket.OptNumBlocks(blocks),
		afpacket.OptBlockTimeout(blockTimeout),
		afpacket.OptPollTimeout(pollTimeout),
		sock,
	)
	if err != nil {
		// No ring (qemu-user, for one, offers none): a plain socket.
		fallback, serr := openSocket(iface, link, sock == afpacket.SocketDgram, ringBytes, err)
		if serr != nil {
			return nil, fmt.Errorf("%s: %w (and without a ring: %v)", iface, err, serr)
		}
		return fallback, nil
	}
	return &liveSource{name: iface, tp: tp, link: link}, nil
}

// linkTypeOf reads the interface's hardware type: Ethernet and loopback
// devices are captured with their Ethernet header, all others cooked
// (bare IP packets).
func linkTypeOf(iface string) (LinkType, afpacket.OptSocketType) {
	b, err := os.ReadFile("/sys/class/net/" + iface + "/type")
	if err != nil {
		return LinkTypeEthernet, afpacket.SocketRaw
	}
	switch t, _ := strconv.Atoi(strings.TrimSpace(string(b))); t {
	case 1, 772: // ARPHRD_ETHER, ARPHRD_LOOPBACK
		return LinkTypeEthernet, afpacket.SocketRaw
	}
	return LinkTypeRaw, afpacket.SocketDgram
}

// Name is the interface captured.
func (s *liveSource) Name() string { return s.name }

// ReadPacketData returns the next frame, valid until the next call: it
// is copied out of the ring into one buffer, so a read allocates nothing.
func (s *liveSource) ReadPacketData() ([]byte, gopacket.CaptureInfo, error) {
	for {
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			return nil, gopacket.CaptureInfo{}, errClosed
		}
		data, ci, err := s.tp.ZeroCopyReadPacketData()
		if err == nil {
			n := copy(s.buf[:], data)
			s.mu.Unlock()
			ci.CaptureLength = n
			return s.buf[:n], ci, nil
		}
		s.mu.Unlock()
		if !errors.Is(err, afpacket.ErrTimeout) {
			return nil, ci, err
		}
	}
}

func (s *liveSource) LinkType() LinkType { return s.link }

// KernelDrops returns how many frames the kernel dropped because knockd
// did not read them fast enough (its ring was full), since the capture
// opened.
func (s *liveSource) KernelDrops() (uint64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return 0, errClosed
	}
	_, v3, err := s.tp.SocketStats()
	if err != nil {
		return 0, err
	}
	return uint64(v3.Drops()), nil
}

// SetPorts installs the kernel filter for the doors' ports; without one
// (an unknown link type) every frame reaches the userspace filter.
func (s *liveSource) SetPorts(tcp, udp []uint16) error {
	prog, ok := Filter(s.link, tcp, udp)
	if !ok {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errClosed
	}
	return s.tp.SetBPF(prog)
}

// Close stops the capture; a read under way ends within pollTimeout.
func (s *liveSource) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.closed {
		s.closed = true
		s.tp.Close()
	}
	return nil
}
