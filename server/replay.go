package server

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// fileSource reads frames from a pcap or pcapng file, with their recorded
// times, so a replay times out and opens exactly as the capture did.
type fileSource struct {
	f    *os.File
	read func() ([]byte, gopacket.CaptureInfo, error)
	link layers.LinkType
}

// OpenReplay opens a pcap or pcapng file as a packet source.
func OpenReplay(path string) (Source, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	br := bufio.NewReader(f)
	magic, _ := br.Peek(4)
	src := &fileSource{f: f}
	if bytes.Equal(magic, []byte{0x0a, 0x0d, 0x0d, 0x0a}) {
		r, err := pcapgo.NewNgReader(br, pcapgo.DefaultNgReaderOptions)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		src.read, src.link = r.ReadPacketData, r.LinkType()
	} else {
		r, err := pcapgo.NewReader(br)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("%s: not a pcap or pcapng file: %w", path, err)
		}
		src.read, src.link = r.ReadPacketData, r.LinkType()
	}
	return src, nil
}

func (s *fileSource) ReadPacketData() ([]byte, gopacket.CaptureInfo, error) {
	data, ci, err := s.read()
	if err == io.ErrUnexpectedEOF {
		err = io.EOF // a capture cut short ends like a complete one
	}
	return data, ci, err
}

func (s *fileSource) LinkType() layers.LinkType { return s.link }
func (s *fileSource) Close() error              { return s.f.Close() }
