package server

import (
	"context"
	"net"
	"net/netip"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/knocktools/knock/knockdconf"
)

// addrInterval is how often the interfaces' addresses (and, with "any",
// the interfaces themselves) are re-read.
const addrInterval = 2 * time.Second

// RunLive captures on the interfaces named (or "any": every interface
// that is up, but loopback, including those that appear later or come
// back) until ctx ends.
// Each interface has a capture of its own (its ring, its kernel filter,
// its link type), and all feed the one tracker, so a knocker's attempt is
// the same whichever interface a packet came in on. A named interface
// that is missing, goes down or fails does not end it: it logs, waits and
// opens that capture again. The interfaces' addresses, which decide what
// is addressed to us, are re-read while it runs.
func (s *Server) RunLive(ctx context.Context, ifaces []string) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	r := &liveRun{s: s, loops: map[string]context.CancelFunc{}}
	anyIface := slices.Contains(ifaces, knockdconf.AnyInterface)
	// Keep time-based doors (and so the kernel filter) on the current
	// window while no packet comes through.
	go Every(ctx, time.Second, s.Tick)

	var first sync.WaitGroup
	initial := ifaces
	if anyIface {
		initial = upInterfaces()
	}
	for _, iface := range initial {
		first.Add(1)
		r.start(ctx, iface, !anyIface, first.Done)
	}
	first.Wait() // every capture was tried once
	// Said once the captures are open, so that whoever waits for it can
	// knock at once; knockd 0.8's words, for the interfaces there are.
	var present, missing []string
	for _, iface := range ifaces {
		if anyIface || !Missing(iface) {
			present = append(present, iface)
		} else {
			missing = append(missing, iface)
		}
	}
	for _, iface := range missing {
		s.Log.Printf("interface %s does not exist (yet): waiting for it to appear", iface)
	}
	if len(present) > 0 {
		spec := strings.Join(present, ",")
		s.Log.Logf("starting up, listening on %s", spec)
		s.Log.Verbosef("listening on %s...", spec)
	} else {
		s.Log.Logf("starting up, waiting for %s", strings.Join(missing, ","))
	}

	for {
		if anyIface {
			r.follow(ctx)
		}
		r.readAddrs()
		select {
		case <-ctx.Done():
			r.wg.Wait()
			return nil
		case <-time.After(addrInterval):
		}
	}
}

// liveRun is the set of captures of one RunLive.
type liveRun struct {
	s     *Server
	wg    sync.WaitGroup
	mu    sync.Mutex
	loops map[string]context.CancelFunc // interface -> its capture loop
	last  map[string][]netip.Addr       // addresses as last logged
}

// start runs a capture loop for iface. persistent loops retry for as
// long as knockd runs; the others (under "any") end when the interface
// is gone, and follow starts them again when it is back. first is called
// once the first attempt to open the capture is over.
func (r *liveRun) start(ctx context.Context, iface string, persistent bool, first func()) {
	ctx, cancel := context.WithCancel(ctx)
	r.mu.Lock()
	r.loops[iface] = cancel
	r.mu.Unlock()
	r.readAddrs()
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		r.s.captureLoop(ctx, iface, persistent, first)
		r.mu.Lock()
		_, mine := r.loops[iface] // not stopped by follow: the capture saw it go
		if mine {
			delete(r.loops, iface)
		}
		r.mu.Unlock()
		if mine && ctx.Err() == nil {
			r.s.Log.Printf("%s is down or gone: no longer capturing on it", iface)
		}
		cancel()
	}()
}

// follow starts captures on interfaces that came up and stops those on
// interfaces that went down or away.
func (r *liveRun) follow(ctx context.Context) {
	up := upInterfaces()
	r.mu.Lock()
	var stop []context.CancelFunc
	for iface, cancel := range r.loops {
		if !slices.Contains(up, iface) {
			r.s.Log.Printf("%s is down or gone: no longer capturing on it", iface)
			stop = append(stop, cancel)
			delete(r.loops, iface)
		}
	}
	var add []string
	for _, iface := range up {
		if _, ok := r.loops[iface]; !ok {
			add = append(add, iface)
		}
	}
	r.mu.Unlock()
	for _, cancel := range stop {
		cancel()
	}
	for _, iface := range add {
		r.start(ctx, iface, false, func() {})
	}
}

// readAddrs gives the server the addresses of every interface captured
// on (named ones that are missing have none yet).
func (r *liveRun) readAddrs() {
	r.mu.Lock()
	ifaces := make([]string, 0, len(r.loops))
	for iface := range r.loops {
		ifaces = append(ifaces, iface)
	}
	if r.last == nil {
		r.last = map[string][]netip.Addr{}
	}
	r.mu.Unlock()
	slices.Sort(ifaces)
	all := []netip.Addr{} // never nil: nil would mean "every address"
	for _, iface := range ifaces {
		addrs, _ := InterfaceAddrs(iface)
		slices.SortFunc(addrs, netip.Addr.Compare)
		r.mu.Lock()
		changed := !slices.Equal(addrs, r.last[iface])
		r.last[iface] = addrs
		r.mu.Unlock()
		if changed {
			parts := make([]string, len(addrs))
			for i, a := range addrs {
				parts[i] = a.String()
			}
			r.s.Log.Debugf("addresses of %s: %s", iface, strings.Join(parts, " "))
		}
		all = append(all, addrs...)
	}
	r.s.SetLocal(all)
}

// captureLoop opens the capture on iface and serves it until ctx ends,
// reopening it after a failure with a growing pause. A loop that is not
// persistent ends when the interface no longer exists.
func (s *Server) captureLoop(ctx context.Context, iface string, persistent bool, first func()) {
	var once sync.Once
	firstDone := func() { once.Do(first) }
	defer firstDone()
	wait := time.Second
	opened := false
	for ctx.Err() == nil {
		src, err := OpenLive(iface, s.ringBytes())
		if err != nil {
			if !persistent && gone(iface) {
				return
			}
			s.Log.Printf("cannot capture on %s: %v; trying again in %v", iface, err, wait)
		} else {
			wait = time.Second
			s.setLive(iface, src)
			switch {
			case !persistent:
				// Under "any", say which interfaces are in, as they come.
				s.Log.Printf("capturing on %s", iface)
			case opened:
				s.Log.Printf("capturing on %s again", iface)
			}
			if r, ok := src.(interface{ RingError() error }); ok {
				s.Log.Printf("%s: no capture ring (%v): reading frames one at a time, a %s socket buffer", iface, r.RingError(), knockdconf.FormatSize(int64(s.ringBytes())))
			} else {
				s.Log.Debugf("capturing on %s (%s frames, a %s ring)", iface, src.LinkType(), knockdconf.FormatSize(int64(s.ringBytes())))
			}
			opened = true
			firstDone()
			err = s.Serve(ctx, src)
			s.setLive(iface, nil)
			src.Close()
			if ctx.Err() != nil {
				return
			}
			if !persistent && gone(iface) {
				return
			}
			s.Log.Printf("capture on %s stopped: %v; reopening in %v", iface, err, wait)
		}
		firstDone()
		select {
		case <-ctx.Done():
		case <-time.After(wait):
		}
		wait = min(2*wait, 30*time.Second)
	}
}

// Missing reports whether there is no interface called iface (yet). It
// looks in /sys first: a Go program under qemu-user cannot read netlink on
// a big-endian target, so net.InterfaceByName fails there for interfaces
// that exist.
func Missing(iface string) bool {
	if _, err := os.Stat("/sys/class/net/" + iface); err == nil {
		return false
	}
	_, err := net.InterfaceByName(iface)
	return err != nil
}

// gone reports whether iface no longer exists, or is down.
func gone(iface string) bool {
	ifi, err := net.InterfaceByName(iface)
	return err != nil || ifi.Flags&net.FlagUp == 0
}

// upInterfaces lists the interfaces that are up, but loopback.
func upInterfaces() []string {
	ifis, err := net.Interfaces()
	if err != nil {
		return nil
	}
	var out []string
	for _, ifi := range ifis {
		if ifi.Flags&net.FlagUp != 0 && ifi.Flags&net.FlagLoopback == 0 {
			out = append(out, ifi.Name)
		}
	}
	return out
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
