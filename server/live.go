package server

import (
	"context"
	"net"
	"net/netip"
	"slices"
	"strings"
	"time"
)

// addrInterval is how often the interface's addresses are re-read.
const addrInterval = 2 * time.Second

// RunLive captures on iface until ctx ends. An interface that is missing,
// goes down or fails does not end it: it logs, waits and opens the capture
// again. The interface's addresses, which decide what is addressed to us,
// are re-read while it runs.
func (s *Server) RunLive(ctx context.Context, iface string) error {
	addrs, _ := InterfaceAddrs(iface)
	s.SetLocal(append([]netip.Addr{}, addrs...)) // never nil: nil would mean "every address"
	go s.watchAddrs(ctx, iface)
	// Keep time-based doors (and so the kernel filter) on the current
	// window while no packet comes through.
	go Every(ctx, time.Second, s.Tick)
	wait := time.Second
	listening := false
	for ctx.Err() == nil {
		src, err := OpenLive(iface)
		if err != nil {
			s.Log.Printf("cannot capture on %s: %v; trying again in %v", iface, err, wait)
		} else {
			wait = time.Second
			s.setLive(src)
			if !listening {
				// Said once the capture is open, so that whoever waits for
				// it can knock at once; knockd 0.8's words.
				s.Log.Logf("starting up, listening on %s", iface)
				s.Log.Verbosef("listening on %s...", iface)
				listening = true
			} else {
				s.Log.Printf("capturing on %s again", iface)
			}
			err = s.Serve(ctx, src)
			s.setLive(nil)
			src.Close()
			if ctx.Err() != nil {
				break
			}
			s.Log.Printf("capture on %s stopped: %v; reopening in %v", iface, err, wait)
		}
		select {
		case <-ctx.Done():
		case <-time.After(wait):
		}
		wait = min(2*wait, 30*time.Second)
	}
	return nil
}

// Every calls f with the time every interval until ctx ends.
func Every(ctx context.Context, interval time.Duration, f func(time.Time)) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			f(now)
		}
	}
}

// InterfaceAddrs returns the addresses of iface.
func InterfaceAddrs(iface string) ([]netip.Addr, error) {
	ifi, err := net.InterfaceByName(iface)
	if err != nil {
		return nil, err
	}
	addrs, err := ifi.Addrs()
	if err != nil {
		return nil, err
	}
	var out []netip.Addr
	for _, a := range addrs {
		if p, err := netip.ParsePrefix(a.String()); err == nil {
			out = append(out, p.Addr().Unmap())
		}
	}
	return out, nil
}

func (s *Server) watchAddrs(ctx context.Context, iface string) {
	var last []netip.Addr
	for {
		addrs, _ := InterfaceAddrs(iface)
		slices.SortFunc(addrs, netip.Addr.Compare)
		if !slices.Equal(addrs, last) {
			s.SetLocal(append([]netip.Addr{}, addrs...))
			parts := make([]string, len(addrs))
			for i, a := range addrs {
				parts[i] = a.String()
			}
			s.Log.Debugf("addresses of %s: %s", iface, strings.Join(parts, " "))
			last = addrs
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(addrInterval):
		}
	}
}
