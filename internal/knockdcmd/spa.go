package knockdcmd

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"strings"
	"time"

	"github.com/knocktools/knock/fwknopconf"
	"github.com/knocktools/knock/knockdconf"
	"github.com/knocktools/knock/server"
	"github.com/knocktools/knock/spadoor"
)

// spaFiles are the fwknopd files knockd serves SPA from: the flags, else
// knockd.conf's Fwknopd_Conf and Access_Conf; either alone takes the
// other at fwknopd's default (access.conf: where fwknopd.conf's
// ACCESS_FILE says). Both empty: no SPA.
func spaFiles(o *options, cfg *knockdconf.Config) (fwknopd, access string) {
	return firstOf(o.FwknopdConf, cfg.FwknopdConf), firstOf(o.AccessConf, cfg.AccessConf)
}

// spaConfig is what the fwknopd files say.
type spaConfig struct {
	server *fwknopconf.Server
	access *fwknopconf.Access
}

// loadSPA reads the fwknopd files; nil when none is named.
func loadSPA(o *options, cfg *knockdconf.Config) (*spaConfig, error) {
	fwknopd, access := spaFiles(o, cfg)
	if fwknopd == "" && access == "" {
		return nil, nil
	}
	var (
		srv *fwknopconf.Server
		err error
	)
	switch data, rerr := os.ReadFile(firstOf(fwknopd, fwknopconf.DefaultServerConf)); {
	case rerr == nil:
		srv, err = fwknopconf.ParseServer(firstOf(fwknopd, fwknopconf.DefaultServerConf), data)
	case fwknopd == "" && os.IsNotExist(rerr):
		srv, err = fwknopconf.ParseServer(fwknopconf.DefaultServerConf+" (not there: fwknopd's defaults)", nil)
	default:
		err = rerr
	}
	if err != nil {
		return nil, err
	}
	a, err := fwknopconf.LoadAccess(firstOf(access, srv.AccessFile))
	if err != nil {
		return nil, err
	}
	if srv.AccessFolder != "" {
		more, err := fwknopconf.ParseAccess(srv.Path+": ACCESS_FOLDER", []byte("%include_folder "+srv.AccessFolder+"\n"), fwknopconf.OSFiles{})
		if err != nil {
			return nil, err
		}
		a.Stanzas, a.Files = append(a.Stanzas, more.Stanzas...), append(a.Files, more.Files...)
	}
	for _, f := range a.Files {
		for _, why := range secretsReadable(f) {
			a.Warnings = append(a.Warnings, why)
		}
	}
	return &spaConfig{server: srv, access: a}, nil
}

// secretsReadable says when others may read a file holding SPA keys.
func secretsReadable(path string) []string {
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm()&0o077 == 0 {
		return nil
	}
	return []string{fmt.Sprintf("%s holds SPA keys and others may read it (mode %04o): chmod 600 %s", path, fi.Mode().Perm(), path)}
}

// spaService makes the server's SPA stage of the files, with the replay
// cache (kept across reloads: pass the running one).
func (c *spaConfig) spaService(cache *spadoor.Cache) (*server.SPA, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	v := &spadoor.Verifier{Stanzas: c.access.Stanzas, Aging: c.server.Aging, MaxAge: time.Duration(c.server.MaxAge) * time.Second}
	if c.server.DigestPersistence {
		v.Replays = cache
	}
	var fw []string
	if exe := c.server.Firewall["FIREWALL_EXE"]; strings.Contains(exe, "iptables") {
		fw = append(fw, "--backend", "iptables")
	}
	return &server.SPA{Port: c.server.Port, Verifier: v, Exe: exe, FirewallArgs: fw, Sockets: c.server.UDPServer}, nil
}

// serveSockets starts the SPA servers' sockets fwknopd.conf asks for:
// ENABLE_UDP_SERVER (instead of the capture) and ENABLE_TCP_SERVER.
func (c *spaConfig) serveSockets(ctx context.Context, srv *server.Server) error {
	if c.server.UDPServer {
		conn, err := net.ListenUDP("udp", &net.UDPAddr{Port: int(c.server.UDPPort)})
		if err != nil {
			return fmt.Errorf("%s: ENABLE_UDP_SERVER: %w", c.server.Path, err)
		}
		go func() {
			if err := srv.ServeSPAUDP(ctx, conn); err != nil {
				srv.Log.Printf("spa: UDP server: %v", err)
			}
		}()
	}
	if c.server.TCPServer {
		l, err := net.ListenTCP("tcp", &net.TCPAddr{Port: int(c.server.TCPPort)})
		if err != nil {
			return fmt.Errorf("%s: ENABLE_TCP_SERVER: %w", c.server.Path, err)
		}
		go func() {
			if err := srv.ServeSPATCP(ctx, l); err != nil {
				srv.Log.Printf("spa: TCP server: %v", err)
			}
		}()
	}
	return nil
}

// replayCache is the replay cache of the files, its digest.cache read.
func (c *spaConfig) replayCache(noWrites bool) (*spadoor.Cache, error) {
	cache := &spadoor.Cache{MaxAge: time.Duration(c.server.MaxAge) * time.Second}
	if !c.server.Aging {
		cache.MaxAge = 0
	}
	if !c.server.DigestPersistence {
		return cache, nil
	}
	if err := cache.Load(c.server.DigestFile, time.Now()); err != nil {
		return nil, err
	}
	if !noWrites {
		cache.Path = c.server.DigestFile
	}
	return cache, nil
}

// printSPA is --check's account of the SPA files.
func printSPA(w io.Writer, c *spaConfig) {
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
		fmt.Fprintf(w, "\tsource      = %s\n", addrs(st.SourceAny, st.Source))
		if !st.DestinationAny {
			fmt.Fprintf(w, "\tdestination = %s\n", addrs(false, st.Destination))
		}
		if len(st.OpenPorts) > 0 {
			fmt.Fprintf(w, "\topen_ports  = %s\n", ports(st.OpenPorts))
		}
		if len(st.RestrictPorts) > 0 {
			fmt.Fprintf(w, "\trestrict    = %s\n", ports(st.RestrictPorts))
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
			backend := "auto (the firewall that filters this host)"
			if strings.Contains(s.Firewall["FIREWALL_EXE"], "iptables") {
				backend = "iptables (FIREWALL_EXE)"
			}
			fmt.Fprintf(w, "\tfirewall    = knockd fw open/close, backend %s\n", backend)
		}
	}
}

func addrs(any bool, list []netip.Prefix) string {
	if any {
		return "ANY"
	}
	var parts []string
	for _, p := range list {
		parts = append(parts, p.String())
	}
	return strings.Join(parts, ",")
}

func ports(list []fwknopconf.ProtoPort) string {
	var parts []string
	for _, p := range list {
		parts = append(parts, p.String())
	}
	return strings.Join(parts, ",")
}
