// Package spadoor decides what a Single Packet Authorization packet
// opens, by fwknopd 2.6's rules applied to an access.conf's stanzas: the
// checks fwknopd makes, each refusal the one fwknopd makes (with its
// reason), and stricter where fwknopd is wrong (a stanza's OPEN_PORTS and
// RESTRICT_PORTS and MAX_FW_TIMEOUT hold for every stanza, those with
// CMD_CYCLE_OPEN too). It is pure: packets and the time in, decisions
// out; the replay cache is the caller's. knockd serves SPA with it.
package spadoor

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/knocktools/knock"
	"github.com/knocktools/knock/fwknopconf"
	"github.com/knocktools/knock/spa"
)

// fwknopd's bounds on a packet's data.
const (
	MinData = 140  // MIN_SPA_DATA_SIZE
	MaxData = 1500 // MAX_SPA_PACKET_LEN
)

// Replays is the replay cache: the digests of the packets taken.
type Replays interface {
	Seen(digest string) bool
	Add(Entry)
}

// Verifier decides for one access.conf.
type Verifier struct {
	Stanzas []*fwknopconf.AccessEntry
	// Aging refuses a packet whose time is more than MaxAge from now
	// (ENABLE_SPA_PACKET_AGING, MAX_SPA_PACKET_AGE).
	Aging  bool
	MaxAge time.Duration
	// Replays, when set, refuses a packet taken before
	// (ENABLE_DIGEST_PERSISTENCE).
	Replays Replays

	// The stanzas' HMAC checks, a set to each Decide running (Decide is
	// safe for concurrent use): what a forged packet costs is one HMAC
	// per stanza whose SOURCE takes it, and little more.
	once   sync.Once
	checks sync.Pool // of *checkSet
	hmacNo []string  // each stanza's refusal of a wrong HMAC

	// The digests of the packets being decided past their HMAC: a copy
	// of one arriving meanwhile is a replay, as it would be after.
	mu       sync.Mutex
	deciding map[string]bool
}

// checkSet is an HMAC check for each stanza; nil for one without an HMAC
// key.
type checkSet []*spa.HMACCheck

// prepare makes the refusals and the pool of HMAC checks, once.
func (v *Verifier) prepare() {
	v.once.Do(func() {
		for i := range v.Stanzas {
			v.hmacNo = append(v.hmacNo, fmt.Sprintf("(stanza #%d) Error creating fko context: %v", i+1, spa.ErrHMAC))
		}
		v.checks.New = func() any {
			set := make(checkSet, len(v.Stanzas))
			for i, s := range v.Stanzas {
				set[i] = spa.NewHMACCheck(s.Keys)
			}
			return &set
		}
		v.deciding = map[string]bool{}
	})
}

// claim reports whether digest is new: neither taken before nor being
// decided; a new one is being decided until release.
func (v *Verifier) claim(digest string) bool {
	if v.Replays == nil {
		return true // replays taken (ENABLE_DIGEST_PERSISTENCE N)
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.deciding[digest] || v.Replays.Seen(digest) {
		return false
	}
	v.deciding[digest] = true
	return true
}

func (v *Verifier) release(digest string) {
	if v.Replays == nil {
		return
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	delete(v.deciding, digest)
}

// Packet is an SPA packet as it arrived.
type Packet struct {
	Src, Dst         netip.Addr
	SrcPort, DstPort uint16
	Proto            uint8  // 17 UDP (0 reads as UDP), 6 TCP
	Data             []byte // the UDP payload, or a TCP connection's data
	Time             time.Time
}

// Decision is what a packet gets.
type Decision struct {
	OK     bool
	Reason string // why not, as fwknopd says it; empty when OK
	// Stanza is the 1-based number of the stanza that decided (fwknopd's
	// "stanza #N"), 0 when none got that far.
	Stanza int
	Entry  *fwknopconf.AccessEntry

	Allow   netip.Addr        // the address to open for
	Ports   []knock.ProtoPort // what the packet asks for
	Timeout time.Duration     // how long, the client's capped by MAX_FW_TIMEOUT
	User    string
	Digest  string // the packet's replay digest
	Message spa.Message
	// Log is what fwknopd would log of the packet: each stanza that
	// refused it, with its reason; nil when that is Reason alone. It may
	// be shared with other decisions: read it, do not change it.
	Log []string
}

func refuse(stanza int, format string, a ...any) Decision {
	return Decision{Stanza: stanza, Reason: fmt.Sprintf(format, a...)}
}

// Digest is a packet's replay digest as fwknopd computes it: the SHA-256
// of the packet's data, in base64 without padding (digest.cache's form).
func Digest(data []byte) string {
	sum := sha256.Sum256(data)
	return base64.RawStdEncoding.EncodeToString(sum[:])
}

// Decide applies fwknopd's checks in fwknopd's order (the cheap ones,
// which refuse the same packets whichever order they run in, first): a
// packet that is no SPA data, from a source no stanza takes, or a replay
// is refused before any key is tried; then each stanza whose SOURCE and
// DESTINATION match is tried in turn, HMAC before decryption, and the
// first that takes the packet decides it.
//
// fwknopd looks for a replay before any stanza; here the replay check
// comes when a stanza first gets past its HMAC check (or refuses the
// packet before it: expired, or too long), which refuses the same
// packets for the same reason: a replay carries a good HMAC, a forgery
// does not. A forged packet so costs its HMACs and no digest. (A replay
// of a packet taken under keys a reload has since changed fails every
// HMAC, and is refused for that rather than as a replay.)
func (v *Verifier) Decide(p Packet) Decision {
	switch {
	case len(p.Data) < MinData || len(p.Data) > MaxData:
		return refuse(0, "not SPA data (%d bytes; SPA data is %d to %d)", len(p.Data), MinData, MaxData)
	case bytes.HasPrefix(p.Data, saltedPrefix):
		return refuse(0, "not SPA data (a Salted__ prefix no client sends: a doctored copy of a packet?)")
	case !isBase64(p.Data):
		return refuse(0, "not SPA data (not base64)")
	}
	src := p.Src.Unmap()
	if !slices.ContainsFunc(v.Stanzas, func(s *fwknopconf.AccessEntry) bool { return matches(s.SourceAny, s.Source, src) }) {
		return refuse(0, "No access data found for source IP: %s", src)
	}
	v.prepare()
	setp := v.checks.Get().(*checkSet)
	defer v.checks.Put(setp)
	checks := *setp
	var (
		last   Decision
		log    []string // the stanzas' refusals, once there are two
		first  string   // the first refusal
		digest string   // computed when a stanza gets past its HMAC
		// The first stanzas, when each refused the packet at its HMAC,
		// are noted only as their number (a flood's forgeries, each
		// refused by every stanza, share v.hmacNo as their log); -1 once
		// another refusal is noted.
		leading int
		// The packet's HMAC, decoded once for the stanzas whose digest
		// has the length of macLen's.
		macLen    = -1
		body, mac []byte
		macOK     bool
		macBuf    [spa.MaxHMACSize]byte
	)
	add := func(reason string) {
		switch {
		case first == "":
			first = reason
		case log == nil:
			log = append(make([]string, 0, len(v.Stanzas)), first, reason)
		default:
			log = append(log, reason)
		}
	}
	note := func(reason string) {
		for _, r := range v.hmacNo[:max(leading, 0)] {
			add(r)
		}
		leading = -1
		add(reason)
	}
	dst := p.Dst.Unmap()
	for i, s := range v.Stanzas {
		n := i + 1
		if !matches(s.SourceAny, s.Source, src) || !matches(s.DestinationAny, s.Destination, dst) {
			continue
		}
		// The forgery's path, kept lean: one HMAC and on.
		if c := checks[i]; c != nil && len(p.Data) <= spa.MaxPacket && (s.AccessExpire.IsZero() || !p.Time.After(s.AccessExpire)) {
			if c.Len() != macLen {
				macLen = c.Len()
				body, mac, macOK = c.Split(p.Data, macBuf[:])
			}
			if !macOK || !c.CheckSplit(body, mac) {
				last.Stanza, last.Reason = n, v.hmacNo[i]
				if leading == i {
					leading++
				} else {
					note(last.Reason)
				}
				continue
			}
		}
		// Past the HMAC, or refused before it: a replay is refused as
		// such before anything else.
		if digest == "" {
			digest = Digest(p.Data)
			if !v.claim(digest) {
				r := refuse(0, "Replay detected from source IP: %s", src)
				r.Digest = digest
				return r
			}
			defer v.release(digest)
		}
		var d stanzaDecision
		switch {
		case !s.AccessExpire.IsZero() && p.Time.After(s.AccessExpire):
			d = stanzaDecision{Decision: refuse(n, "(stanza #%d) Access stanza has expired", n)}
		case len(p.Data) > spa.MaxPacket:
			// fwknopd takes a packet this long for GnuPG's (type 2),
			// which no stanza here has.
			d = stanzaDecision{Decision: refuse(n, "(stanza #%d) No stanza encryption mode match for encryption type: 2.", n)}
		default:
			d = v.stanza(n, s, p, string(p.Data), digest)
		}
		if d.Reason != "" {
			note(d.Reason)
		}
		last = d.Decision
		if d.OK || d.final {
			break
		}
	}
	if last.Stanza == 0 {
		last = refuse(0, "SPA packet (%s -> %s) filtered by SOURCE and/or DESTINATION criteria", src, p.Dst)
	}
	if leading > 1 {
		log = v.hmacNo[:leading:leading]
	}
	last.Digest, last.Log = digest, log
	return last
}

// saltedPrefix is spa.SaltedPrefix, which no client sends.
var saltedPrefix = []byte(spa.SaltedPrefix)

// stanzaDecision is a stanza's decision, final when no later stanza may
// take the packet (fwknopd stops there).
type stanzaDecision struct {
	Decision
	final bool
}

func (v *Verifier) stanza(n int, s *fwknopconf.AccessEntry, p Packet, data, digest string) stanzaDecision {
	src, now := p.Src.Unmap(), p.Time
	no := func(format string, a ...any) stanzaDecision { return stanzaDecision{Decision: refuse(n, format, a...)} }
	m, _, err := spa.Parse(data, s.Keys)
	if err != nil {
		return no("(stanza #%d) Error creating fko context: %v", n, err)
	}
	// Taken by this stanza's keys: a replay of it is refused from now on,
	// whatever the rest decides (fwknopd adds the digest here).
	if v.Replays != nil {
		proto := p.Proto
		if proto == 0 {
			proto = 17
		}
		v.Replays.Add(Entry{Digest: digest, Proto: proto, Src: src, SrcPort: p.SrcPort, Dst: p.Dst.Unmap(), DstPort: p.DstPort, Created: now})
	}
	d := Decision{Stanza: n, Entry: s, Message: m, User: m.User}
	timeout := s.FWAccessTimeout
	if m.Timeout > 0 {
		timeout = m.Timeout
	}
	d.Timeout = time.Duration(min(timeout, s.MaxFWTimeout)) * time.Second
	if v.Aging {
		diff := now.Sub(time.Unix(m.Time, 0))
		if diff < 0 {
			diff = -diff
		}
		if diff > v.MaxAge {
			return no("(stanza #%d) SPA data time difference is too great (%d seconds).", n, int(diff.Seconds()))
		}
	}
	addr, req, ok := strings.Cut(m.Access, ",")
	msgSrc, err := netip.ParseAddr(addr)
	if !ok || err != nil || msgSrc.Zone() != "" {
		return stanzaDecision{Decision: refuse(n, "(stanza #%d) Invalid source IP in SPA message, ignoring SPA packet", n), final: true}
	}
	switch {
	case msgSrc.IsUnspecified() && s.RequireSourceAddress:
		return no("(stanza #%d) Got 0.0.0.0 when valid source IP was required.", n)
	case msgSrc.IsUnspecified():
		d.Allow = src
	default:
		d.Allow = msgSrc.Unmap()
	}
	if s.RequireUsername != "" && m.User != s.RequireUsername {
		return no("(stanza #%d) Username in SPA data (%s) does not match required username: %s", n, m.User, s.RequireUsername)
	}
	switch m.Type {
	case spa.AccessMsg, spa.ClientTimeoutAccessMsg:
	case spa.CommandMsg:
		return no("(stanza #%d) SPA Command messages are not allowed in the current configuration.", n)
	default:
		return no("(stanza #%d) SPA packet from %s requested NAT access, but is not enabled", n, src)
	}
	if d.Ports, err = parseRequest(req); err != nil {
		return no("(stanza #%d) %v", n, err)
	}
	if !portsAllowed(s, d.Ports) {
		return no("(stanza #%d) One or more requested protocol/ports was denied per access.conf.", n)
	}
	d.OK = true
	return stanzaDecision{Decision: d}
}

// matches reports whether a is in the list (or any is set).
func matches(any bool, list []netip.Prefix, a netip.Addr) bool {
	return any || slices.ContainsFunc(list, func(p netip.Prefix) bool { return p.Contains(a) })
}

// parseRequest reads what a message asks to open: "tcp/22,udp/53".
func parseRequest(req string) ([]knock.ProtoPort, error) {
	var out []knock.ProtoPort
	for _, item := range strings.Split(req, ",") {
		p, ok := knock.ParseProtoPort(item)
		if !ok {
			return nil, fmt.Errorf("Invalid access request %q in SPA message", item)
		}
		out = append(out, p)
	}
	return out, nil
}

// portsAllowed is fwknopd's port check: nothing RESTRICT_PORTS names, and
// (when OPEN_PORTS is set) only what it names.
func portsAllowed(s *fwknopconf.AccessEntry, req []knock.ProtoPort) bool {
	for _, p := range req {
		if slices.Contains(s.RestrictPorts, p) || (len(s.OpenPorts) > 0 && !slices.Contains(s.OpenPorts, p)) {
			return false
		}
	}
	return true
}

// isBase64 is fwknop's test: only the base64 alphabet and '='. It reads
// every byte, eight at a time, with no branch on what they are: a flood's
// random bytes defeat the branch predictor of a chain of comparisons (it
// was three times the HMAC's cost a packet), and a branch a byte still
// cost half the HMAC's.
func isBase64(s []byte) bool {
	t := &base64Bytes
	ok := byte(1)
	for ; len(s) >= 8; s = s[8:] {
		ok &= t[s[0]] & t[s[1]] & t[s[2]] & t[s[3]] & t[s[4]] & t[s[5]] & t[s[6]] & t[s[7]]
	}
	for _, c := range s {
		ok &= t[c]
	}
	return ok == 1
}

// base64Bytes is 1 for the bytes isBase64 takes.
var base64Bytes = func() (t [256]byte) {
	for _, c := range []byte("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=") {
		t[c] = 1
	}
	return t
}()
