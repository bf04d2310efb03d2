package server

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/knocktools/knock"
	"github.com/knocktools/knock/internal/safetext"
	"github.com/knocktools/knock/knockdconf"
	"github.com/knocktools/knock/spadoor"
)

// SPA is knockd's SPA service: fwknopd's access.conf stanzas deciding the
// packets sent to one UDP port, on the same captures as the sequence
// doors. A stanza with CMD_CYCLE_OPEN runs its commands; one without opens
// the ports asked for with the built-in firewall (Actions.Holes), for the
// timeout the decision says.
type SPA struct {
	Port     uint16
	Verifier *spadoor.Verifier
	// Sockets: the packets come through ServeSPAUDP and ServeSPATCP's
	// sockets (fwknopd.conf's ENABLE_UDP_SERVER, ENABLE_TCP_SERVER), not
	// the captures.
	Sockets bool
}

// SetSPA serves SPA (nil: no more); a reload passes a new one, with the
// same replay cache.
func (s *Server) SetSPA(spa *SPA) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.spa = spa
	s.applyFilter()
}

// handleSPA decides one SPA packet and acts; called with s.mu held. With
// SPA workers the packet is queued for them (spaqueue.go) and decided
// there, off the capture's path.
func (s *Server) handleSPA(h *Packet) {
	if s.spaQueues == nil {
		s.actOnSPA(s.spa, s.decideSPA(s.spa, h), h)
		return
	}
	if !s.spaQueues.put(s.spa, h) {
		s.stats.spaDropped.Add(1)
	}
}

// decideSPA is the verifier's decision on h (safe to run on several
// goroutines at once).
func (s *Server) decideSPA(sp *SPA, h *Packet) spadoor.Decision {
	proto := uint8(17)
	if h.Proto == knock.TCP {
		proto = 6
	}
	return sp.Verifier.Decide(spadoor.Packet{Src: h.Src, Dst: h.Dst, SrcPort: h.SPort, DstPort: h.Port, Proto: proto, Data: h.Data, Time: h.Time})
}

// actOnSPA logs a decision and opens its door; called with s.mu held. A
// dry run (knockd --replay) also says what each SPA packet would have
// done, with -v or without.
func (s *Server) actOnSPA(sp *SPA, d spadoor.Decision, h *Packet) {
	if s.Actions != nil && s.Actions.DryRun != nil && s.Log.Verbose == nil {
		what := d.Reason
		if d.OK {
			what = fmt.Sprintf("(stanza #%d) would be accepted: %s for %s, %v", d.Stanza, knock.ProtoPortList(d.Ports), d.Allow, d.Timeout)
		}
		// The reason may quote the packet (a user name): escaped, as log
		// lines are.
		fmt.Fprintf(s.Actions.DryRun, "%s: spa: %s\n", h.Src, safetext.Escape(what))
	}
	if !d.OK {
		// Forged packets come in floods: their lines share the budget of
		// the Stage lines.
		if s.Log.Enabled() {
			ok, dropped := s.budget.allow(h.Time)
			s.reportDropped(dropped)
			if ok {
				for _, l := range d.Log {
					s.Log.Printf("%s: spa: %s", s.Log.Who(h.Src), l)
				}
				if len(d.Log) == 0 {
					s.Log.Printf("%s: spa: %s", s.Log.Who(h.Src), d.Reason)
				}
			}
		}
		return
	}
	s.stats.opened.Add(1)
	door := sp.door(d, h)
	s.Log.Printf("%s: spa: (stanza #%d) SPA packet accepted: %s for %s, %v", s.Log.Who(h.Src), d.Stanza, knock.ProtoPortList(d.Ports), d.Allow, d.Timeout)
	if s.Actions == nil {
		return
	}
	if err := s.Actions.Open(door, d.Allow); err != nil {
		s.Log.Printf("%s: %s: not opened: %v", s.Log.Who(h.Src), door.Name, err)
	}
}

// door is what a decision does, as a door: the stanza's CMD_CYCLE_OPEN and
// CLOSE with fwknopd's variables filled in (each an address or a number),
// or the built-in firewall opening each port asked for.
func (sp *SPA) door(d spadoor.Decision, h *Packet) *knockdconf.Door {
	e := d.Entry
	door := &knockdconf.Door{Name: "spa#" + strconv.Itoa(d.Stanza), CmdTimeout: d.Timeout}
	if e.CmdCycleOpen != "" {
		// fwknopd's meanings (fwknopd 2.6.10's, seen in
		// TestSPADifferential): the first port asked for, its protocol's
		// number, and $TIMEOUT the packet's time plus the timeout the
		// client asked for (0 when it asked for none), in seconds since
		// 1970; ours capped by MAX_FW_TIMEOUT.
		first := d.Ports[0]
		proto := "6"
		if first.Proto == "udp" {
			proto = "17"
		}
		vars := strings.NewReplacer("$PKT_SRC", h.Src.Unmap().String(), "$TIMEOUT", strconv.FormatInt(d.Message.Time+int64(min(d.Message.Timeout, e.MaxFWTimeout)), 10),
			"$PROTO", proto, "$PORT", strconv.Itoa(int(first.Port)), "$SRC", d.Allow.String(), "$IP", d.Allow.String(),
			"$DST", h.Dst.Unmap().String())
		door.StartCommand = vars.Replace(e.CmdCycleOpen)
		if !e.CloseNone {
			door.StopCommand = vars.Replace(e.CmdCycleClose)
			door.CmdTimeout = time.Duration(e.CmdCycleTimer) * time.Second
		}
		return door
	}
	door.OpenPorts = d.Ports
	return door
}

// spaPacket reports whether h is an SPA packet; called with s.mu held.
func (s *Server) spaPacket(h *Packet) bool {
	return s.spa != nil && !s.spa.Sockets && h.Proto == knock.UDP && h.Port == s.spa.Port
}

// addSPAPort adds the SPA port to the kernel filter's UDP ports.
func (s *Server) addSPAPort(udp []uint16) []uint16 {
	if s.spa == nil || s.spa.Sockets {
		return udp
	}
	for _, p := range udp {
		if p == s.spa.Port {
			return udp
		}
	}
	return append(udp, s.spa.Port)
}

// SPASocketPacket decides a packet that came through a socket of the SPA
// servers (src: its source, dst: the address it came to).
func (s *Server) SPASocketPacket(src, dst netip.AddrPort, tcp bool, data []byte) {
	h := Packet{Src: src.Addr().Unmap(), Dst: dst.Addr().Unmap(), SPort: src.Port(), Port: dst.Port(), Proto: knock.UDP, Data: data, Time: time.Now()}
	if tcp {
		h.Proto = knock.TCP
	}
	if s.OnlyIPv4 && !h.Src.Is4() || !peer(&h) {
		return
	}
	s.stats.packets.Add(1)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.spa == nil {
		return
	}
	s.stats.visible.Add(1)
	s.handleSPA(&h)
}

// ServeSPAUDP takes SPA packets from a UDP socket until ctx ends (fwknopd's
// ENABLE_UDP_SERVER: no capture).
func (s *Server) ServeSPAUDP(ctx context.Context, c *net.UDPConn) error {
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	buf := make([]byte, spadoor.MaxData+1)
	for {
		n, src, err := c.ReadFromUDPAddrPort(buf)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		dst, _ := netip.ParseAddrPort(c.LocalAddr().String())
		s.SPASocketPacket(src, dst, false, buf[:n])
	}
}

// ServeSPATCP takes SPA packets over TCP connections until ctx ends
// (fwknopd's ENABLE_TCP_SERVER, knock's server_proto: tcp): each
// connection carries one packet, read until the client closes, at most
// MaxData bytes and two seconds.
func (s *Server) ServeSPATCP(ctx context.Context, l *net.TCPListener) error {
	stop := context.AfterFunc(ctx, func() { l.Close() })
	defer stop()
	for {
		c, err := l.AcceptTCP()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		go func() {
			defer c.Close()
			_ = c.SetReadDeadline(time.Now().Add(2 * time.Second))
			data, _ := io.ReadAll(io.LimitReader(c, spadoor.MaxData+1))
			src, _ := netip.ParseAddrPort(c.RemoteAddr().String())
			dst, _ := netip.ParseAddrPort(c.LocalAddr().String())
			s.SPASocketPacket(src, dst, true, bytes.TrimSpace(data))
		}()
	}
}
