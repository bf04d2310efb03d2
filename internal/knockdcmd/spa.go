package knockdcmd

import (
	"context"
	"fmt"
	"net"
	"os"
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
	v := &spadoor.Verifier{Stanzas: c.access.Stanzas, Aging: c.server.Aging, MaxAge: time.Duration(c.server.MaxAge) * time.Second}
	if c.server.DigestPersistence {
		v.Replays = cache
	}
	return &server.SPA{Port: c.server.Port, Verifier: v, Sockets: c.server.UDPServer}, nil
}

// serveSockets starts the SPA servers' sockets fwknopd.conf asks for:
// ENABLE_UDP_SERVER (instead of the capture) and ENABLE_TCP_SERVER.
func (c *spaConfig) serveSockets(ctx context.Context, srv *server.Server) error {
	var serve []func() error
	if c.server.UDPServer {
		conn, err := net.ListenUDP("udp", &net.UDPAddr{Port: int(c.server.UDPPort)})
		if err != nil {
			return fmt.Errorf("%s: ENABLE_UDP_SERVER: %w", c.server.Path, err)
		}
		serve = append(serve, func() error { return srv.ServeSPAUDP(ctx, conn) })
	}
	if c.server.TCPServer {
		l, err := net.ListenTCP("tcp", &net.TCPAddr{Port: int(c.server.TCPPort)})
		if err != nil {
			return fmt.Errorf("%s: ENABLE_TCP_SERVER: %w", c.server.Path, err)
		}
		serve = append(serve, func() error { return srv.ServeSPATCP(ctx, l) })
	}
	for _, f := range serve {
		go func() {
			if err := f(); err != nil {
				srv.Log.Printf("spa: %v", err)
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
