package knockdcmd

import (
	"fmt"
	"io"
	"strings"

	"github.com/knocktools/knock"
	"github.com/knocktools/knock/fwknopconf"
)

// printSPA is --check's account of the SPA files; firewall names the
// built-in firewall that opens for stanzas without CMD_CYCLE_OPEN.
func printSPA(w io.Writer, c *spaConfig, firewall string) {
	s := c.server
	switch {
	case s.UDPServer:
		fmt.Fprintf(w, "%s: OK, SPA on a udp/%d socket (ENABLE_UDP_SERVER)", s.Path, s.UDPPort)
	default:
		fmt.Fprintf(w, "%s: OK, SPA on udp/%d", s.Path, s.Port)
	}
	if s.TCPServer {
		fmt.Fprintf(w, " and a tcp/%d socket (ENABLE_TCP_SERVER)", s.TCPPort)
	}
	if s.Interface != "" {
		fmt.Fprintf(w, " (PCAP_INTF %s)", s.Interface)
	}
	switch {
	case !s.Aging:
		fmt.Fprint(w, ", packet aging off")
	default:
		fmt.Fprintf(w, ", packets at most %d s old", s.MaxAge)
	}
	if s.DigestPersistence {
		fmt.Fprintf(w, ", replays refused (digest cache %s)", s.DigestFile)
	} else {
		fmt.Fprint(w, ", replays NOT refused (ENABLE_DIGEST_PERSISTENCE N)")
	}
	fmt.Fprintln(w)
	if len(s.Plumbing) > 0 {
		fmt.Fprintf(w, "%s: changes nothing here: %s\n", s.Path, strings.Join(s.Plumbing, ", "))
	}
	fmt.Fprintf(w, "%s: OK, %d stanza(s)\n", strings.Join(c.access.Files, ", "), len(c.access.Stanzas))
	for i, st := range c.access.Stanzas {
		fmt.Fprintf(w, "[spa#%d] %s:%d\n", i+1, st.File, st.Line)
		fmt.Fprintf(w, "\tsource      = %s\n", fwknopconf.AddrsText(st.SourceAny, st.Source))
		if !st.DestinationAny {
			fmt.Fprintf(w, "\tdestination = %s\n", fwknopconf.AddrsText(false, st.Destination))
		}
		if len(st.OpenPorts) > 0 {
			fmt.Fprintf(w, "\topen_ports  = %s\n", knock.ProtoPortList(st.OpenPorts))
		}
		if len(st.RestrictPorts) > 0 {
			fmt.Fprintf(w, "\trestrict    = %s\n", knock.ProtoPortList(st.RestrictPorts))
		}
		hmac := "none (packets not authenticated)"
		if st.Keys.HMACKey != nil {
			hmac = fmt.Sprintf("%s (%d bytes)", st.Keys.HMAC, len(st.Keys.HMACKey))
		}
		fmt.Fprintf(w, "\tkeys        = %s mode, key %d bytes, HMAC %s\n", st.Keys.Mode, len(st.Keys.Key), hmac)
		fmt.Fprintf(w, "\ttimeout     = %d s (at most %d)\n", st.FWAccessTimeout, st.MaxFWTimeout)
		if st.CmdCycleOpen != "" {
			fmt.Fprintf(w, "\tcmd_open    = %s\n", st.CmdCycleOpen)
			if st.CloseNone {
				fmt.Fprintln(w, "\tcmd_close   = NONE")
			} else {
				fmt.Fprintf(w, "\tcmd_close   = %s (after %d s)\n", st.CmdCycleClose, st.CmdCycleTimer)
			}
		} else {
			fmt.Fprintf(w, "\tfirewall    = the built-in firewall (%s), for the timeout\n", firewall)
		}
	}
}
