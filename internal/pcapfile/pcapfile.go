// Package pcapfile reads capture files, the pcap format of tcpdump and
// the pcapng format of Wireshark, for knockd --replay. It reads what a
// replay needs (each packet's bytes, lengths and time, and the link type)
// and links nothing else, so knockd carries no packet decoder tables.
// Files from either byte order are read; pcapng files may hold several
// sections and interfaces, all of one link type.
package pcapfile

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"time"

	"github.com/gopacket/gopacket"
)

// MaxPacket bounds a packet record: anything longer is not a capture of
// network traffic, and is refused before it is allocated.
const MaxPacket = 256 << 10

// maxBlock bounds a pcapng block, for the same reason.
const maxBlock = 16 << 20

// Reader reads the packets of one capture file.
type Reader struct {
	r     *bufio.Reader
	order binary.ByteOrder
	link  uint16
	buf   []byte // the last packet (pcap) or block (pcapng); reused

	// pcap
	nanos bool

	// pcapng
	ng         bool
	interfaces []iface // of the current section
	linkSet    bool
}

// iface is a pcapng interface description.
type iface struct {
	link    uint16
	snaplen uint32
	resol   byte  // if_tsresol: 10^-n seconds, or 2^-n with the top bit set
	offset  int64 // if_tsoffset, seconds
}

// ErrFormat is returned, wrapped, for a file that is not a capture.
var ErrFormat = errors.New("not a pcap or pcapng file")

// NewReader reads a capture's header: a pcap file header, or a pcapng
// section header and the interface descriptions before the first packet.
func NewReader(r io.Reader) (*Reader, error) {
	rd := &Reader{r: bufio.NewReader(r)}
	magic, err := rd.r.Peek(4)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrFormat, err)
	}
	if binary.BigEndian.Uint32(magic) == blockSection {
		rd.ng = true
		return rd, rd.readHeaderBlocks()
	}
	return rd, rd.readPcapHeader()
}

// LinkType is the capture's pcap LINKTYPE_ value.
func (r *Reader) LinkType() uint16 { return r.link }

// ReadPacketData returns the next packet; its bytes are valid until the
// next call. At the end of the file it returns io.EOF, and
// io.ErrUnexpectedEOF for a file cut off inside a packet.
func (r *Reader) ReadPacketData() ([]byte, gopacket.CaptureInfo, error) {
	if r.ng {
		return r.readNgPacket()
	}
	return r.readPcapPacket()
}

// grow returns r.buf resized to n bytes.
func (r *Reader) grow(n int) []byte {
	if cap(r.buf) < n {
		r.buf = make([]byte, n, max(n, 2*cap(r.buf)))
	}
	r.buf = r.buf[:n]
	return r.buf
}

// full reads exactly len(b) bytes: io.EOF before the first one, else
// io.ErrUnexpectedEOF if they are not all there.
func (r *Reader) full(b []byte) error {
	_, err := io.ReadFull(r.r, b)
	return err
}

func unexpected(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// pcap: a 24-byte file header, then a 16-byte header before each packet.

const (
	magicMicros = 0xa1b2c3d4
	magicNanos  = 0xa1b23c4d
)

func (r *Reader) readPcapHeader() error {
	var h [24]byte
	if err := r.full(h[:]); err != nil {
		return fmt.Errorf("%w: a pcap header is 24 bytes: %v", ErrFormat, unexpected(err))
	}
	for _, order := range []binary.ByteOrder{binary.LittleEndian, binary.BigEndian} {
		switch order.Uint32(h[:]) {
		case magicMicros:
			r.order = order
		case magicNanos:
			r.order, r.nanos = order, true
		default:
			continue
		}
		// The link type's upper bits may say how long a frame check
		// sequence is; the type is the lower 16.
		r.link = uint16(order.Uint32(h[20:]))
		return nil
	}
	return fmt.Errorf("%w: magic number %x", ErrFormat, h[:4])
}

func (r *Reader) readPcapPacket() ([]byte, gopacket.CaptureInfo, error) {
	var h [16]byte
	if err := r.full(h[:]); err != nil {
		return nil, gopacket.CaptureInfo{}, err
	}
	sec, frac := r.order.Uint32(h[0:]), r.order.Uint32(h[4:])
	caplen, length := r.order.Uint32(h[8:]), r.order.Uint32(h[12:])
	if caplen > MaxPacket {
		return nil, gopacket.CaptureInfo{}, fmt.Errorf("pcap: a record of %d bytes (more than %d): not a capture", caplen, MaxPacket)
	}
	if caplen > length {
		return nil, gopacket.CaptureInfo{}, fmt.Errorf("pcap: %d bytes captured of a packet of %d: not a capture", caplen, length)
	}
	data := r.grow(int(caplen))
	if err := r.full(data); err != nil {
		return nil, gopacket.CaptureInfo{}, unexpected(err)
	}
	if !r.nanos {
		frac *= 1000
	}
	ci := gopacket.CaptureInfo{Timestamp: time.Unix(int64(sec), int64(frac)).UTC(), CaptureLength: int(caplen), Length: int(length)}
	return data, ci, nil
}

// pcapng: blocks of type, total length, body and the total length again.

const (
	blockSection   = 0x0a0d0d0a
	blockInterface = 1
	blockPacket    = 2 // obsolete, still written by old tools
	blockSimple    = 3
	blockEnhanced  = 6
	byteOrderMagic = 0x1a2b3c4d
)

// readBlock reads the next block and returns its type and body.
func (r *Reader) readBlock() (uint32, []byte, error) {
	var h [8]byte
	if err := r.full(h[:]); err != nil {
		return 0, nil, err
	}
	if binary.BigEndian.Uint32(h[:]) == blockSection {
		// A new section, perhaps in the other byte order: its magic
		// says which.
		var bom [4]byte
		if err := r.full(bom[:]); err != nil {
			return 0, nil, unexpected(err)
		}
		switch {
		case binary.LittleEndian.Uint32(bom[:]) == byteOrderMagic:
			r.order = binary.LittleEndian
		case binary.BigEndian.Uint32(bom[:]) == byteOrderMagic:
			r.order = binary.BigEndian
		default:
			return 0, nil, fmt.Errorf("%w: pcapng section with byte-order magic %x", ErrFormat, bom)
		}
		body, err := r.blockBody(r.order.Uint32(h[4:]), bom[:])
		return blockSection, body, err
	}
	body, err := r.blockBody(r.order.Uint32(h[4:]), nil)
	return r.order.Uint32(h[:]), body, err
}

// blockBody reads the rest of a block of total length n, of which the
// head (after type and length) has been read already.
func (r *Reader) blockBody(n uint32, head []byte) ([]byte, error) {
	if n < 12+uint32(len(head)) || n%4 != 0 || n > maxBlock {
		return nil, fmt.Errorf("pcapng: a block of %d bytes", n)
	}
	b := r.grow(int(n) - 8)
	copy(b, head)
	if err := r.full(b[len(head):]); err != nil {
		return nil, unexpected(err)
	}
	if r.order.Uint32(b[len(b)-4:]) != n {
		return nil, fmt.Errorf("pcapng: a block's trailing length %d differs from its leading %d", r.order.Uint32(b[len(b)-4:]), n)
	}
	return b[:len(b)-4], nil
}

// readHeaderBlocks reads the first section header and the interfaces
// described before the first packet, which give the link type.
func (r *Reader) readHeaderBlocks() error {
	typ, body, err := r.readBlock()
	if err != nil {
		return fmt.Errorf("%w: %v", ErrFormat, unexpected(err))
	}
	if err := r.block(typ, body); err != nil {
		return err
	}
	for len(r.interfaces) == 0 {
		b, err := r.r.Peek(4)
		if err != nil {
			return nil // no interface, no packet: an empty capture
		}
		if t := r.order.Uint32(b); t == blockEnhanced || t == blockSimple || t == blockPacket {
			return errors.New("pcapng: a packet before any interface description")
		}
		typ, body, err := r.readBlock()
		if err != nil {
			return unexpected(err)
		}
		if err := r.block(typ, body); err != nil {
			return err
		}
	}
	return nil
}

// block takes in a section header or interface description.
func (r *Reader) block(typ uint32, body []byte) error {
	switch typ {
	case blockSection:
		if len(body) < 16 {
			return errors.New("pcapng: a section header shorter than 16 bytes")
		}
		if major := r.order.Uint16(body[4:]); major != 1 {
			return fmt.Errorf("pcapng: version %d.%d", major, r.order.Uint16(body[6:]))
		}
		r.interfaces = r.interfaces[:0] // interfaces are per section
	case blockInterface:
		if len(body) < 8 {
			return errors.New("pcapng: an interface description shorter than 8 bytes")
		}
		ifc := iface{link: r.order.Uint16(body), snaplen: r.order.Uint32(body[4:]), resol: 6}
		if err := r.options(body[8:], &ifc); err != nil {
			return err
		}
		if !r.linkSet { // the first interface of the file sets it
			r.link, r.linkSet = ifc.link, true
		}
		if ifc.link != r.link {
			return fmt.Errorf("pcapng: interface %d has link type %d, the first %d: replay needs one link type", len(r.interfaces), ifc.link, r.link)
		}
		r.interfaces = append(r.interfaces, ifc)
	}
	return nil
}

// options reads an interface description's if_tsresol and if_tsoffset.
func (r *Reader) options(b []byte, ifc *iface) error {
	for len(b) >= 4 {
		code, n := r.order.Uint16(b), int(r.order.Uint16(b[2:]))
		b = b[4:]
		if code == 0 { // opt_endofopt
			return nil
		}
		padded := (n + 3) &^ 3
		if padded > len(b) {
			return errors.New("pcapng: an interface option runs past its block")
		}
		switch {
		case code == 9 && n == 1:
			ifc.resol = b[0]
			if v := ifc.resol &^ 0x80; (ifc.resol&0x80 == 0 && v > 19) || (ifc.resol&0x80 != 0 && v > 63) {
				return fmt.Errorf("pcapng: timestamp resolution %#x", ifc.resol)
			}
		case code == 14 && n == 8:
			ifc.offset = int64(r.order.Uint64(b))
		}
		b = b[padded:]
	}
	return nil
}

// time converts a pcapng timestamp in an interface's units.
func (ifc *iface) time(ts uint64) time.Time {
	var sec, nsec uint64
	v := uint(ifc.resol &^ 0x80)
	if ifc.resol&0x80 != 0 { // 2^-v seconds
		sec = ts >> v
		hi, lo := bits.Mul64(ts&(1<<v-1), 1e9)
		if v > 0 {
			nsec = hi<<(64-v) | lo>>v
		}
	} else { // 10^-v seconds
		unit := uint64(1)
		for range v {
			unit *= 10
		}
		sec = ts / unit
		frac := ts % unit
		if v <= 9 {
			nsec = frac * (1e9 / unit)
		} else {
			nsec = frac / (unit / 1e9)
		}
	}
	return time.Unix(int64(sec)+ifc.offset, int64(nsec)).UTC()
}

func (r *Reader) readNgPacket() ([]byte, gopacket.CaptureInfo, error) {
	for {
		typ, body, err := r.readBlock()
		if err != nil {
			return nil, gopacket.CaptureInfo{}, err
		}
		switch typ {
		case blockSection, blockInterface:
			if err := r.block(typ, body); err != nil {
				return nil, gopacket.CaptureInfo{}, err
			}
		case blockEnhanced, blockPacket:
			return r.packet(typ, body)
		case blockSimple:
			if len(body) < 4 {
				return nil, gopacket.CaptureInfo{}, errors.New("pcapng: a simple packet block shorter than 4 bytes")
			}
			if len(r.interfaces) == 0 {
				return nil, gopacket.CaptureInfo{}, errors.New("pcapng: a packet before any interface description")
			}
			length := r.order.Uint32(body)
			caplen := min(uint64(length), uint64(len(body)-4))
			if s := r.interfaces[0].snaplen; s > 0 {
				caplen = min(caplen, uint64(s))
			}
			return body[4 : 4+caplen], gopacket.CaptureInfo{CaptureLength: int(caplen), Length: int(length)}, nil
		}
	}
}

// packet reads an enhanced (or obsolete) packet block.
func (r *Reader) packet(typ uint32, body []byte) ([]byte, gopacket.CaptureInfo, error) {
	if len(body) < 20 {
		return nil, gopacket.CaptureInfo{}, errors.New("pcapng: a packet block shorter than 20 bytes")
	}
	id := int(r.order.Uint32(body))
	if typ == blockPacket {
		id = int(r.order.Uint16(body))
	}
	if id >= len(r.interfaces) {
		return nil, gopacket.CaptureInfo{}, fmt.Errorf("pcapng: a packet on interface %d, of %d described", id, len(r.interfaces))
	}
	ts := uint64(r.order.Uint32(body[4:]))<<32 | uint64(r.order.Uint32(body[8:]))
	caplen, length := r.order.Uint32(body[12:]), r.order.Uint32(body[16:])
	if uint64(caplen) > uint64(len(body)-20) {
		return nil, gopacket.CaptureInfo{}, fmt.Errorf("pcapng: a packet of %d bytes in a block of %d", caplen, len(body)+12)
	}
	if caplen > length {
		return nil, gopacket.CaptureInfo{}, fmt.Errorf("pcapng: %d bytes captured of a packet of %d: not a capture", caplen, length)
	}
	ci := gopacket.CaptureInfo{Timestamp: r.interfaces[id].time(ts), CaptureLength: int(caplen), Length: int(length), InterfaceIndex: id}
	return body[20 : 20+caplen], ci, nil
}
