package server

import (
	"encoding/binary"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gopacket/gopacket"
	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

// socketSource reads frames from an AF_PACKET socket one system call at a
// time: the fallback where no TPACKET ring can be set up, as under
// qemu-user, which passes AF_PACKET sockets to the host kernel but not
// their rings. Its kernel buffer (SO_RCVBUF) is the ring's size. It costs
// a system call per frame, which the kernel filter keeps to the frames of
// the doors' ports.
type socketSource struct {
	name    string
	link    LinkType
	ringErr error // why there is no ring

	f  *os.File
	rc interface {
		Read(func(fd uintptr) bool) error
		Control(func(fd uintptr)) error
	}

	closed atomic.Bool
	mu     sync.Mutex // guards drops
	drops  uint64
	buf    [udpSnapLen]byte
}

// openSocket opens the fallback capture on iface; ringErr says why the
// ring failed.
func openSocket(iface string, link LinkType, dgram bool, bufBytes int, ringErr error) (*socketSource, error) {
	typ := unix.SOCK_RAW
	if dgram {
		typ = unix.SOCK_DGRAM
	}
	proto := int(htons(unix.ETH_P_ALL))
	fd, err := unix.Socket(unix.AF_PACKET, typ|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, proto)
	if err != nil {
		return nil, fmt.Errorf("AF_PACKET socket: %w", err)
	}
	index, err := ifIndex(fd, iface)
	if err != nil {
		unix.Close(fd)
		return nil, err
	}
	if err := unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ALL), Ifindex: index}); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("bind to %s: %w", iface, err)
	}
	_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, bufBytes)
	f := os.NewFile(uintptr(fd), "packet:"+iface)
	rc, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return nil, err
	}
	return &socketSource{name: iface, link: link, ringErr: ringErr, f: f, rc: rc}, nil
}

// htons is v in network byte order, as the host stores a uint16: the
// protocol numbers of socket() and sockaddr_ll.
func htons(v uint16) uint16 {
	var b [2]byte
	binary.BigEndian.PutUint16(b[:], v)
	return binary.NativeEndian.Uint16(b[:])
}

// ifIndex asks the kernel for an interface's index with an ioctl on fd,
// not through netlink, which qemu-user garbles for big-endian programs.
func ifIndex(fd int, iface string) (int, error) {
	ifr, err := unix.NewIfreq(iface)
	if err != nil {
		return 0, err
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFINDEX, ifr); err != nil {
		return 0, fmt.Errorf("interface %s: %w", iface, err)
	}
	return int(ifr.Uint32()), nil
}

// Name is the interface captured.
func (s *socketSource) Name() string { return s.name }

// RingError says why this capture has no ring.
func (s *socketSource) RingError() error { return s.ringErr }

func (s *socketSource) LinkType() LinkType { return s.link }

// ReadPacketData returns the next frame, valid until the next call.
func (s *socketSource) ReadPacketData() ([]byte, gopacket.CaptureInfo, error) {
	var (
		n       int
		readErr error
	)
	err := s.rc.Read(func(fd uintptr) bool {
		// MSG_TRUNC: the frame's length, however much of it fits.
		n, _, readErr = unix.Recvfrom(int(fd), s.buf[:], unix.MSG_TRUNC)
		return readErr != unix.EAGAIN
	})
	if err == nil {
		err = readErr
	}
	if err != nil {
		if s.closed.Load() {
			err = errClosed
		}
		return nil, gopacket.CaptureInfo{}, err
	}
	c := min(n, len(s.buf))
	return s.buf[:c], gopacket.CaptureInfo{Timestamp: time.Now(), CaptureLength: c, Length: n}, nil
}

// KernelDrops returns how many frames the kernel dropped, its buffer
// full, since the capture opened.
func (s *socketSource) KernelDrops() (uint64, error) {
	var st *unix.TpacketStats
	var err error
	if cerr := s.rc.Control(func(fd uintptr) {
		st, err = unix.GetsockoptTpacketStats(int(fd), unix.SOL_PACKET, unix.PACKET_STATISTICS)
	}); cerr != nil {
		return 0, errClosed
	}
	if err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.drops += uint64(st.Drops) // the kernel's counters restart at each read
	return s.drops, nil
}

// SetPorts installs the kernel filter for the doors' ports.
func (s *socketSource) SetPorts(tcp, udp []uint16) error {
	prog, ok := Filter(s.link, tcp, udp)
	if !ok {
		return nil
	}
	return s.attach(prog)
}

func (s *socketSource) attach(prog []bpf.RawInstruction) error {
	filter := make([]unix.SockFilter, len(prog))
	for i, ins := range prog {
		filter[i] = unix.SockFilter{Code: ins.Op, Jt: ins.Jt, Jf: ins.Jf, K: ins.K}
	}
	var err error
	if cerr := s.rc.Control(func(fd uintptr) {
		err = unix.SetsockoptSockFprog(int(fd), unix.SOL_SOCKET, unix.SO_ATTACH_FILTER, &unix.SockFprog{Len: uint16(len(filter)), Filter: &filter[0]})
	}); cerr != nil {
		return errClosed
	}
	return err
}

// Close stops the capture; a read under way returns errClosed.
func (s *socketSource) Close() error {
	s.closed.Store(true)
	return s.f.Close()
}
