package profiles

import (
	"bufio"
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// FwknoprcStanza is one [name] stanza of a ~/.fwknoprc as a profile.
type FwknoprcStanza struct {
	Name    string
	Line    int
	Profile Profile
	Ignored []string // directives knock does not use, "NAME (line N)"
	Err     error    // set: the stanza cannot be a profile
}

// fwknoprcIgnored are directives of fwknop's client that change nothing
// a knock sends (or that knock does its own way).
var fwknoprcIgnored = map[string]bool{
	"RESOLVE_HTTP_ONLY": true, "HTTP_USER_AGENT": true, "USE_WGET_USER_AGENT": true, "WGET_CMD": true,
	"VERBOSE": true, "SPA_SOURCE_PORT": true, "RAND_PORT": true, "NAT_RAND_PORT": true, "KEY_GEN_FILE": true,
	"SAVE_PACKET_FILE": true, "SAVE_PACKET_APPEND": true, "SSH_CMD": true,
}

// ParseFwknoprc reads a ~/.fwknoprc: its [default] stanza (which applies
// to every other one, as a profile file's defaults do) and one profile per
// other stanza. A line that is not "NAME value" is an error for the whole
// file; a directive that cannot be mapped refuses its stanza, naming the
// line.
func ParseFwknoprc(path string, data []byte) ([]FwknoprcStanza, error) {
	type directive struct {
		key, value string
		line       int
	}
	type stanza struct {
		name string
		line int
		dirs []directive
	}
	var all []*stanza
	var def *stanza
	var cur *stanza
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		if line[0] == '[' {
			if !strings.HasSuffix(line, "]") {
				return nil, fmt.Errorf("%s:%d: stanza header %q has no closing ]", path, n, line)
			}
			cur = &stanza{name: strings.TrimSpace(line[1 : len(line)-1]), line: n}
			if cur.name == "default" {
				def = cur
			} else {
				all = append(all, cur)
			}
			continue
		}
		if cur == nil {
			return nil, fmt.Errorf("%s:%d: %q is outside any [stanza]", path, n, line)
		}
		key, value := line, ""
		if i := strings.IndexAny(line, " \t"); i >= 0 {
			key, value = line[:i], line[i:]
		}
		key = strings.ToUpper(strings.TrimSuffix(key, ":"))
		cur.dirs = append(cur.dirs, directive{key, strings.TrimSpace(value), n})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	apply := func(p *Profile, d directive, ignored *[]string) error {
		s := p.SPA
		v := d.value
		yes := strings.EqualFold(v, "Y") || strings.EqualFold(v, "yes")
		var err error
		switch {
		case d.key == "SPA_SERVER":
			p.Host = v
		case d.key == "ACCESS":
			s.Access = v
		case d.key == "KEY":
			s.Key = v
		case d.key == "KEY_BASE64":
			s.KeyBase64 = v
		case d.key == "KEY_FILE":
			s.KeyFile = v
		case d.key == "HMAC_KEY":
			s.HMACKey = v
		case d.key == "HMAC_KEY_BASE64":
			s.HMACKeyBase64 = v
		case d.key == "HMAC_KEY_FILE":
			s.HMACKeyFile = v
		case d.key == "USE_HMAC":
			// Read after the stanza's other lines, wherever it stands.
			s.HMACDigestType = map[bool]string{true: s.HMACDigestType, false: "none"}[yes]
		case d.key == "HMAC_DIGEST_TYPE":
			if s.HMACDigestType != "none" {
				s.HMACDigestType = strings.ToLower(v)
			}
		case d.key == "DIGEST_TYPE":
			s.DigestType = strings.ToLower(v)
		case d.key == "ENCRYPTION_MODE":
			switch m := strings.ToLower(v); m {
			case "cbc", "legacy":
				s.EncryptionMode = m
			default:
				return fmt.Errorf("ENCRYPTION_MODE %s: knock sends cbc and legacy only", v)
			}
		case d.key == "ALLOW_IP":
			s.AllowIP = strings.ToLower(v)
			if s.AllowIP != "source" && s.AllowIP != "resolve" {
				s.AllowIP = v
			}
		case d.key == "RESOLVE_IP_HTTPS" || d.key == "RESOLVE_IP_HTTP":
			if yes {
				s.AllowIP = "resolve"
			}
		case d.key == "RESOLVE_URL":
			s.ResolveURL = v
		case d.key == "SPA_SERVER_PORT":
			n, perr := strconv.Atoi(v)
			if perr != nil || n < 1 || n > 65535 {
				return fmt.Errorf("SPA_SERVER_PORT %s: out of range 1-65535", v)
			}
			s.ServerPort = uint16(n)
		case d.key == "SPA_SERVER_PROTO":
			switch p := strings.ToLower(v); p {
			case "udp", "tcp":
				s.ServerProto = p
			default:
				return fmt.Errorf("SPA_SERVER_PROTO %s: knock sends udp and tcp only", v)
			}
		case d.key == "FW_TIMEOUT":
			if s.FWTimeout, err = strconv.Atoi(v); err != nil || s.FWTimeout < 0 {
				return fmt.Errorf("FW_TIMEOUT %s: not a number of seconds", v)
			}
		case d.key == "TIME_OFFSET":
			off, terr := parseFwknopOffset(v)
			if terr != nil {
				return terr
			}
			s.TimeOffset = Duration(off)
		case d.key == "SPOOF_USER":
			s.SpoofUser = v
		case d.key == "NAT_ACCESS":
			s.NATAccess = strings.Replace(v, ":", ",", 1)
		case d.key == "SERVER_RESOLVE_IPV4":
			if yes {
				p.Family = 4
			}
		case d.key == "NAT_LOCAL" && yes, d.key == "SPOOF_SOURCE_IP":
			return fmt.Errorf("%s: knock cannot do this (local NAT and spoofed sources are not supported)", d.key)
		case d.key == "NAT_LOCAL", d.key == "NAT_PORT":
			*ignored = append(*ignored, fmt.Sprintf("%s (line %d)", d.key, d.line))
		case strings.HasPrefix(d.key, "GPG_") || strings.HasPrefix(d.key, "USE_GPG"):
			if d.key == "USE_GPG" && yes {
				return fmt.Errorf("USE_GPG Y: knock sends Rijndael (AES) packets only, not GnuPG ones")
			}
			*ignored = append(*ignored, fmt.Sprintf("%s (line %d)", d.key, d.line))
		default:
			note := ""
			if !fwknoprcIgnored[d.key] {
				note = ", unknown to knock"
			}
			*ignored = append(*ignored, fmt.Sprintf("%s (line %d%s)", d.key, d.line, note))
		}
		return nil
	}
	base := Profile{SPA: &SPA{}}
	var baseIgnored []string
	if def != nil {
		for _, d := range def.dirs {
			if err := apply(&base, d, &baseIgnored); err != nil {
				return nil, fmt.Errorf("%s:%d: [default]: %v", path, d.line, err)
			}
		}
	}
	var out []FwknoprcStanza
	for _, st := range all {
		s := *base.SPA
		p := base
		p.SPA = &s
		p.Description = "imported from " + shortPath(path) + " [" + st.name + "]"
		res := FwknoprcStanza{Name: st.name, Line: st.line, Ignored: append([]string{}, baseIgnored...)}
		for _, d := range st.dirs {
			if err := apply(&p, d, &res.Ignored); err != nil {
				res.Err = fmt.Errorf("%s:%d: [%s]: %v", path, d.line, st.name, err)
				break
			}
		}
		if res.Err == nil {
			if p.SPA.HMACDigestType == "none" { // USE_HMAC N
				p.SPA.HMACKey, p.SPA.HMACKeyBase64, p.SPA.HMACKeyFile, p.SPA.HMACDigestType = "", "", "", ""
			}
			if err := p.Validate(false); err != nil {
				res.Err = fmt.Errorf("%s:%d: [%s]: %v", path, st.line, st.name, err)
			}
		}
		res.Profile = p
		out = append(out, res)
	}
	return out, nil
}

// parseFwknopOffset reads a time offset: [+-]N with an optional unit
// (s, m/min, h, d; seconds without one).
func parseFwknopOffset(v string) (time.Duration, error) {
	t := strings.ToLower(strings.TrimSpace(v))
	sign := time.Duration(1)
	if strings.HasPrefix(t, "-") {
		sign, t = -1, t[1:]
	} else {
		t = strings.TrimPrefix(t, "+")
	}
	unit := time.Second
	for _, u := range []struct {
		suffix string
		d      time.Duration
	}{{"min", time.Minute}, {"s", time.Second}, {"m", time.Minute}, {"h", time.Hour}, {"d", 24 * time.Hour}} {
		if strings.HasSuffix(t, u.suffix) {
			t, unit = strings.TrimSuffix(t, u.suffix), u.d
			break
		}
	}
	n, err := strconv.Atoi(t)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("TIME_OFFSET %s: want [+-]N with s, m, h or d", v)
	}
	return sign * time.Duration(n) * unit, nil
}

func shortPath(p string) string {
	if i := strings.LastIndexAny(p, "/\\"); i >= 0 {
		return p[i+1:]
	}
	return p
}
