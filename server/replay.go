package server

import (
	"fmt"
	"io"
	"os"

	"github.com/gopacket/gopacket"

	"github.com/knocktools/knock/internal/pcapfile"
)

// fileSource reads frames from a pcap or pcapng file, with their recorded
// times, so a replay times out and opens exactly as the capture did.
type fileSource struct {
	f *os.File
	r *pcapfile.Reader
}

// OpenReplay opens a pcap or pcapng file as a packet source.
func OpenReplay(path string) (Source, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	r, err := pcapfile.NewReader(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if l := LinkType(r.LinkType()); !l.Known() {
		f.Close()
		return nil, fmt.Errorf("%s: frames of %s, which knockd does not decode", path, l)
	}
	return &fileSource{f: f, r: r}, nil
}

func (s *fileSource) ReadPacketData() ([]byte, gopacket.CaptureInfo, error) {
	data, ci, err := s.r.ReadPacketData()
	if err == io.ErrUnexpectedEOF {
		err = io.EOF // a capture cut short ends like a complete one
	}
	return data, ci, err
}

func (s *fileSource) LinkType() LinkType { return LinkType(s.r.LinkType()) }
func (s *fileSource) Close() error       { return s.f.Close() }
