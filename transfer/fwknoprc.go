package transfer

import (
	"fmt"
	"github.com/knocktools/knock/fwknopconf"
	"github.com/knocktools/knock/profiles"
	"slices"
	"strconv"
	"strings"
	"time"
)

// FwknoprcStanza is one [name] stanza of a ~/.fwknoprc as a profile.
type FwknoprcStanza struct {
	Name    string
	Line    int
	Profile profiles.Profile
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
	rc, err := fwknopconf.ParseRC(path, data)
	if err != nil {
		return nil, err
	}
	def, all := rc.Default, rc.Stanzas
	apply := func(p *profiles.Profile, d fwknopconf.Directive, ignored *[]string) error {
		s := p.SPA
		v := d.Value
		yes := strings.EqualFold(v, "Y") || strings.EqualFold(v, "yes")
		// The directives that are a profile's field as they stand.
		if dst, ok := map[string]*string{"SPA_SERVER": &p.Host, "ACCESS": &s.Access,
			"KEY": &s.Key, "KEY_BASE64": &s.KeyBase64, "KEY_FILE": &s.KeyFile,
			"HMAC_KEY": &s.HMACKey, "HMAC_KEY_BASE64": &s.HMACKeyBase64, "HMAC_KEY_FILE": &s.HMACKeyFile,
			"RESOLVE_URL": &s.ResolveURL, "SPOOF_USER": &s.SpoofUser,
		}[d.Key]; ok {
			*dst = v
			return nil
		}
		var err error
		switch {
		case d.Key == "USE_HMAC":
			// Read after the stanza's other lines, wherever it stands.
			s.HMACDigestType = map[bool]string{true: s.HMACDigestType, false: "none"}[yes]
		case d.Key == "HMAC_DIGEST_TYPE":
			if s.HMACDigestType != "none" {
				s.HMACDigestType = strings.ToLower(v)
			}
		case d.Key == "DIGEST_TYPE":
			s.DigestType = strings.ToLower(v)
		case d.Key == "ENCRYPTION_MODE":
			return oneOf(&s.EncryptionMode, d, "cbc", "legacy")
		case d.Key == "ALLOW_IP":
			s.AllowIP = strings.ToLower(v)
			if s.AllowIP != "source" && s.AllowIP != "resolve" {
				s.AllowIP = v
			}
		case d.Key == "RESOLVE_IP_HTTPS" || d.Key == "RESOLVE_IP_HTTP":
			if yes {
				s.AllowIP = "resolve"
			}
		case d.Key == "SPA_SERVER_PORT":
			n, perr := strconv.Atoi(v)
			if perr != nil || n < 1 || n > 65535 {
				return fmt.Errorf("SPA_SERVER_PORT %s: out of range 1-65535", v)
			}
			s.ServerPort = uint16(n)
		case d.Key == "SPA_SERVER_PROTO":
			return oneOf(&s.ServerProto, d, "udp", "tcp")
		case d.Key == "FW_TIMEOUT":
			if s.FWTimeout, err = strconv.Atoi(v); err != nil || s.FWTimeout < 0 {
				return fmt.Errorf("FW_TIMEOUT %s: not a number of seconds", v)
			}
		case d.Key == "TIME_OFFSET":
			off, terr := parseFwknopOffset(v)
			if terr != nil {
				return terr
			}
			s.TimeOffset = profiles.Duration(off)
		case d.Key == "NAT_ACCESS":
			s.NATAccess = strings.Replace(v, ":", ",", 1)
		case d.Key == "SERVER_RESOLVE_IPV4":
			if yes {
				p.Family = 4
			}
		case d.Key == "NAT_LOCAL" && yes, d.Key == "SPOOF_SOURCE_IP":
			return fmt.Errorf("%s: knock cannot do this (local NAT and spoofed sources are not supported)", d.Key)
		case d.Key == "NAT_LOCAL", d.Key == "NAT_PORT":
			*ignored = append(*ignored, fmt.Sprintf("%s (line %d)", d.Key, d.Line))
		case strings.HasPrefix(d.Key, "GPG_") || strings.HasPrefix(d.Key, "USE_GPG"):
			if d.Key == "USE_GPG" && yes {
				return fmt.Errorf("USE_GPG Y: knock sends Rijndael (AES) packets only, not GnuPG ones")
			}
			*ignored = append(*ignored, fmt.Sprintf("%s (line %d)", d.Key, d.Line))
		default:
			note := ""
			if !fwknoprcIgnored[d.Key] {
				note = ", unknown to knock"
			}
			*ignored = append(*ignored, fmt.Sprintf("%s (line %d%s)", d.Key, d.Line, note))
		}
		return nil
	}
	base := profiles.Profile{SPA: &profiles.SPA{}}
	var baseIgnored []string
	if def != nil {
		for _, d := range def.Directives {
			if err := apply(&base, d, &baseIgnored); err != nil {
				return nil, fmt.Errorf("%s:%d: [default]: %v", path, d.Line, err)
			}
		}
	}
	var out []FwknoprcStanza
	for _, st := range all {
		s := *base.SPA
		p := base
		p.SPA = &s
		p.Description = "imported from " + shortPath(path) + " [" + st.Name + "]"
		res := FwknoprcStanza{Name: st.Name, Line: st.Line, Ignored: append([]string{}, baseIgnored...)}
		for _, d := range st.Directives {
			if err := apply(&p, d, &res.Ignored); err != nil {
				res.Err = &whereError{fmt.Sprintf("%s:%d: [%s]", path, d.Line, st.Name), err}
				break
			}
		}
		if res.Err == nil {
			if p.SPA.HMACDigestType == "none" { // USE_HMAC N
				p.SPA.HMACKey, p.SPA.HMACKeyBase64, p.SPA.HMACKeyFile, p.SPA.HMACDigestType = "", "", "", ""
			}
			if err := p.Validate(false); err != nil {
				res.Err = &whereError{fmt.Sprintf("%s:%d: [%s]", path, st.Line, st.Name), err}
			}
		}
		res.Profile = p
		out = append(out, res)
	}
	return out, nil
}

// oneOf sets dst to a directive's value, lower-cased, when it is one of
// those knock sends.
func oneOf(dst *string, d fwknopconf.Directive, sends ...string) error {
	v := strings.ToLower(d.Value)
	if !slices.Contains(sends, v) {
		return fmt.Errorf("%s %s: knock sends %s only", d.Key, d.Value, strings.Join(sends, " and "))
	}
	*dst = v
	return nil
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
