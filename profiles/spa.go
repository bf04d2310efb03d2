package profiles

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/knocktools/knock/internal/filepolicy"
	"github.com/knocktools/knock/spa"
)

// SPA holds what an fwknop-style Single Packet Authorization knock needs.
// The names follow fwknoprc's directives, so that a stanza maps key by key.
type SPA struct {
	Access         string   `yaml:"access,omitempty"`
	Key            string   `yaml:"key,omitempty"`
	KeyBase64      string   `yaml:"key_base64,omitempty"`
	KeyFile        string   `yaml:"key_file,omitempty"`
	HMACKey        string   `yaml:"hmac_key,omitempty"`
	HMACKeyBase64  string   `yaml:"hmac_key_base64,omitempty"`
	HMACKeyFile    string   `yaml:"hmac_key_file,omitempty"`
	HMACDigestType string   `yaml:"hmac_digest_type,omitempty"`
	DigestType     string   `yaml:"digest_type,omitempty"`
	EncryptionMode string   `yaml:"encryption_mode,omitempty"`
	AllowIP        string   `yaml:"allow_ip,omitempty"`
	ResolveURL     string   `yaml:"resolve_url,omitempty"`
	ServerPort     uint16   `yaml:"server_port,omitempty"`
	ServerProto    string   `yaml:"server_proto,omitempty"`
	FWTimeout      int      `yaml:"fw_timeout,omitempty"`
	TimeOffset     Duration `yaml:"time_offset,omitempty"`
	SpoofUser      string   `yaml:"spoof_user,omitempty"`
	NATAccess      string   `yaml:"nat_access,omitempty"`
}

// SPA defaults, as fwknop's.
const (
	DefaultSPAPort    = 62201
	DefaultResolveURL = "https://www.cipherdyne.org/cgi-bin/myip"
)

// spaKeys lists the keys of an spa: map, in the order they are written.
func spaKeys() []string {
	return []string{"access", "key", "key_base64", "key_file", "hmac_key", "hmac_key_base64", "hmac_key_file",
		"hmac_digest_type", "digest_type", "encryption_mode", "allow_ip", "resolve_url", "server_port",
		"server_proto", "fw_timeout", "time_offset", "spoof_user", "nat_access"}
}

// decodeSPA reads an spa: map key by key, each error on its own line.
func decodeSPA(path, what string, m *yaml.Node) (*SPA, error) {
	s := &SPA{}
	err := eachKey(path, what+": spa", "access and key_base64", m, spaKeys, func(key string, v *yaml.Node) (err error) {
		str := func(dst *string) { *dst, err = scalar(v) }
		switch key {
		case "access":
			str(&s.Access)
		case "key":
			str(&s.Key)
		case "key_base64":
			str(&s.KeyBase64)
		case "key_file":
			str(&s.KeyFile)
		case "hmac_key":
			str(&s.HMACKey)
		case "hmac_key_base64":
			str(&s.HMACKeyBase64)
		case "hmac_key_file":
			str(&s.HMACKeyFile)
		case "hmac_digest_type":
			str(&s.HMACDigestType)
		case "digest_type":
			str(&s.DigestType)
		case "encryption_mode":
			str(&s.EncryptionMode)
		case "allow_ip":
			str(&s.AllowIP)
		case "resolve_url":
			str(&s.ResolveURL)
		case "server_port":
			s.ServerPort, err = port(v)
		case "server_proto":
			str(&s.ServerProto)
		case "fw_timeout":
			s.FWTimeout, err = integer(v, 0, 1<<30)
		case "time_offset":
			s.TimeOffset, err = signedDuration(v)
		case "spoof_user":
			str(&s.SpoofUser)
		case "nat_access":
			str(&s.NATAccess)
		default:
			return errUnknown
		}
		if err == nil {
			err = s.validateKey(key)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return s, nil
}

// signedDuration reads a duration that may be negative ("-30s").
func signedDuration(v *yaml.Node) (Duration, error) {
	s, err := scalar(v)
	if err != nil {
		return 0, err
	}
	d, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil {
		return 0, fmt.Errorf("%q: want a duration such as 30s or -2m", s)
	}
	return Duration(d), nil
}

// validateKey checks one field on its own; the error leaves out the key.
func (s *SPA) validateKey(key string) error {
	switch key {
	case "access":
		return validateAccess(s.Access)
	case "key":
		if len(s.Key) > spa.MaxKey {
			return fmt.Errorf("a passphrase of %d bytes: fwknop takes at most %d", len(s.Key), spa.MaxKey)
		}
		return ValidateText(s.Key)
	case "hmac_key":
		if len(s.HMACKey) > spa.MaxHMACKey {
			return fmt.Errorf("an HMAC passphrase of %d bytes: at most %d", len(s.HMACKey), spa.MaxHMACKey)
		}
		return ValidateText(s.HMACKey)
	case "key_base64":
		b, err := decodeKey(s.KeyBase64)
		if err != nil {
			return err
		}
		if len(b) > spa.MaxKey {
			return fmt.Errorf("%d bytes of key: fwknop takes at most %d", len(b), spa.MaxKey)
		}
	case "hmac_key_base64":
		b, err := decodeKey(s.HMACKeyBase64)
		if err != nil {
			return err
		}
		if len(b) > spa.MaxHMACKey {
			return fmt.Errorf("%d bytes of HMAC key: at most %d", len(b), spa.MaxHMACKey)
		}
	case "key_file", "hmac_key_file":
		f := s.KeyFile
		if key == "hmac_key_file" {
			f = s.HMACKeyFile
		}
		if f == "" {
			return errors.New("empty file name")
		}
		return ValidateText(f)
	case "hmac_digest_type", "digest_type":
		v := s.DigestType
		if key == "hmac_digest_type" {
			v = s.HMACDigestType
		}
		if v != "" {
			_, err := spa.ParseDigest(v)
			return err
		}
	case "encryption_mode":
		_, err := spa.ParseMode(s.EncryptionMode)
		return err
	case "allow_ip":
		switch s.AllowIP {
		case "", "source", "resolve":
			return nil
		}
		// An IPv6 address is knockd's (fwknopd 2.6 refuses a packet
		// carrying one).
		a, err := netip.ParseAddr(s.AllowIP)
		if err != nil || a.Zone() != "" {
			return fmt.Errorf("%q: want source, resolve or an IP address", s.AllowIP)
		}
	case "resolve_url":
		u, err := url.Parse(s.ResolveURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return fmt.Errorf("%q: want an https:// URL", s.ResolveURL)
		}
	case "server_proto":
		switch strings.ToLower(s.ServerProto) {
		case "", "udp", "tcp":
		default:
			return fmt.Errorf("%q: want udp or tcp", s.ServerProto)
		}
	case "spoof_user":
		if s.SpoofUser == "" {
			return nil
		}
		if err := ValidateText(s.SpoofUser); err != nil {
			return err
		}
		// The rule fwknopd holds the packet's user to, here where the
		// profile is read rather than when a packet is built.
		return spa.CheckUser(s.SpoofUser)
	case "nat_access":
		if s.NATAccess == "" {
			return nil
		}
		host, p, ok := strings.Cut(s.NATAccess, ",")
		if !ok || host == "" {
			return fmt.Errorf("%q: want host,port", s.NATAccess)
		}
		if err := ValidateHost(host); err != nil {
			return fmt.Errorf("%q: host: %v", s.NATAccess, err)
		}
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return fmt.Errorf("%q: port %q out of range 1-65535", s.NATAccess, p)
		}
	}
	return nil
}

// validateAccess checks fwknop's ACCESS: proto/port, comma-separated.
func validateAccess(a string) error {
	if a == "" {
		return errors.New("empty: want proto/port such as tcp/22, comma-separated for several")
	}
	for _, item := range strings.Split(a, ",") {
		proto, p, ok := strings.Cut(strings.TrimSpace(item), "/")
		if !ok || (proto != "tcp" && proto != "udp") {
			return fmt.Errorf("%q: want proto/port such as tcp/22 (tcp or udp)", item)
		}
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return fmt.Errorf("%q: port out of range 1-65535", item)
		}
	}
	// And libfko's rules for the message that carries it (digits only,
	// under 256 bytes with the address), as fwknopd holds a packet to them.
	return spa.CheckAccess("255.255.255.255," + strings.ReplaceAll(a, " ", ""))
}

// decodeKey reads base64 key material (padding optional).
func decodeKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		b, err = base64.RawStdEncoding.DecodeString(strings.TrimRight(s, "="))
	}
	if err != nil || len(b) == 0 {
		return nil, errors.New("not base64 key material")
	}
	return b, nil
}

// validate checks the whole: one kind of key each, and fields that
// depend on each other.
func (s *SPA) validate() error {
	set := map[string]bool{"access": s.Access != "", "key": s.Key != "", "key_base64": s.KeyBase64 != "",
		"key_file": s.KeyFile != "", "hmac_key": s.HMACKey != "", "hmac_key_base64": s.HMACKeyBase64 != "",
		"hmac_key_file": s.HMACKeyFile != "", "resolve_url": s.ResolveURL != ""}
	for _, k := range spaKeys() {
		if isSet, known := set[k]; known && !isSet {
			continue // absent; whether it must be there is checked below
		}
		if err := s.validateKey(k); err != nil {
			return fieldErr("spa", "spa: %s: %v", k, err)
		}
	}
	if s.Access == "" {
		return fieldErr("spa", "spa: access: missing (want proto/port such as tcp/22)")
	}
	if n := nonEmpty(s.Key, s.KeyBase64, s.KeyFile); n != 1 {
		return fieldErr("spa", "spa: want exactly one of key, key_base64 and key_file (found %d)", n)
	}
	if nonEmpty(s.HMACKey, s.HMACKeyBase64, s.HMACKeyFile) > 1 {
		return fieldErr("spa", "spa: at most one of hmac_key, hmac_key_base64 and hmac_key_file")
	}
	if s.ResolveURL != "" && s.AllowIP != "resolve" {
		return fieldErr("spa", "spa: resolve_url is for allow_ip: resolve")
	}
	return nil
}

func nonEmpty(s ...string) int {
	n := 0
	for _, x := range s {
		if x != "" {
			n++
		}
	}
	return n
}

// withDefaults fills the unset fields from d (the file's defaults).
func (s SPA) withDefaults(d *SPA) SPA {
	if d == nil {
		return s
	}
	keyless := nonEmpty(s.Key, s.KeyBase64, s.KeyFile) == 0
	hmacless := nonEmpty(s.HMACKey, s.HMACKeyBase64, s.HMACKeyFile) == 0
	fill := func(dst *string, v string) {
		if *dst == "" {
			*dst = v
		}
	}
	fill(&s.Access, d.Access)
	if keyless {
		s.Key, s.KeyBase64, s.KeyFile = d.Key, d.KeyBase64, d.KeyFile
	}
	if hmacless {
		s.HMACKey, s.HMACKeyBase64, s.HMACKeyFile = d.HMACKey, d.HMACKeyBase64, d.HMACKeyFile
	}
	fill(&s.HMACDigestType, d.HMACDigestType)
	fill(&s.DigestType, d.DigestType)
	fill(&s.EncryptionMode, d.EncryptionMode)
	fill(&s.AllowIP, d.AllowIP)
	fill(&s.ResolveURL, d.ResolveURL)
	fill(&s.ServerProto, d.ServerProto)
	fill(&s.SpoofUser, d.SpoofUser)
	fill(&s.NATAccess, d.NATAccess)
	if s.ServerPort == 0 {
		s.ServerPort = d.ServerPort
	}
	if s.FWTimeout == 0 {
		s.FWTimeout = d.FWTimeout
	}
	if s.TimeOffset == 0 {
		s.TimeOffset = d.TimeOffset
	}
	return s
}

// Port is the port the packet goes to: the profile's, else 62201.
func (s *SPA) Port() uint16 {
	if s.ServerPort != 0 {
		return s.ServerPort
	}
	return DefaultSPAPort
}

// TCP reports whether the packet goes over a TCP connection.
func (s *SPA) TCP() bool { return strings.EqualFold(s.ServerProto, "tcp") }

// HasHMAC reports whether the packets are authenticated.
func (s *SPA) HasHMAC() bool { return nonEmpty(s.HMACKey, s.HMACKeyBase64, s.HMACKeyFile) > 0 }

// Keys reads the keys, from key files too (checking who may read them).
func (s *SPA) Keys(warn func(string)) (spa.Keys, error) {
	var k spa.Keys
	var err error
	if k.Mode, err = spa.ParseMode(s.EncryptionMode); err != nil {
		return k, err
	}
	if s.HMACDigestType != "" {
		if k.HMAC, err = spa.ParseDigest(s.HMACDigestType); err != nil {
			return k, err
		}
	}
	switch {
	case s.Key != "":
		k.Key = []byte(s.Key)
	case s.KeyBase64 != "":
		k.Key, err = decodeKey(s.KeyBase64)
	case s.KeyFile != "":
		k.Key, err = readKeyFile(s.KeyFile, "KEY_BASE64", warn)
	}
	if err != nil {
		return k, fmt.Errorf("spa: key: %w", err)
	}
	switch {
	case s.HMACKey != "":
		k.HMACKey = []byte(s.HMACKey)
	case s.HMACKeyBase64 != "":
		k.HMACKey, err = decodeKey(s.HMACKeyBase64)
	case s.HMACKeyFile != "":
		k.HMACKey, err = readKeyFile(s.HMACKeyFile, "HMAC_KEY_BASE64", warn)
	}
	if err != nil {
		return k, fmt.Errorf("spa: hmac key: %w", err)
	}
	return k, k.Validate()
}

// Digest is the message digest type (default sha256).
func (s *SPA) Digest() spa.Digest {
	if d, err := spa.ParseDigest(s.DigestType); err == nil {
		return d
	}
	return spa.SHA256
}

// readKeyFile reads base64 key material from a file: the bare base64, or
// the lines "fwknop --key-gen" writes (KEY_BASE64: ..., HMAC_KEY_BASE64:
// ...), of which it takes the one named. Others must not be able to
// read the file.
func readKeyFile(path, name string, warn func(string)) ([]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if fi, err := os.Stat(path); err == nil && warn != nil {
		if w := filepolicy.ReadableWarning(path, fi.Mode().Perm()); w != "" {
			warn(w)
		}
	}
	text := strings.TrimSpace(string(data))
	for _, line := range strings.Split(text, "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(line), ":")
		if !ok {
			fields := strings.Fields(line)
			if len(fields) == 2 {
				k, v, ok = fields[0], fields[1], true
			}
		}
		if ok && strings.EqualFold(strings.TrimSpace(k), name) {
			return decodeKey(v)
		}
	}
	if !strings.ContainsAny(text, ": \n") {
		return decodeKey(text)
	}
	return nil, fmt.Errorf("%s: no %s line and not bare base64", path, name)
}

// hideSecrets returns s with its keys replaced by a placeholder.
func (s SPA) hideSecrets() SPA {
	const hidden = "hidden (--show-secrets shows it)"
	for _, f := range []*string{&s.Key, &s.KeyBase64, &s.HMACKey, &s.HMACKeyBase64} {
		if *f != "" {
			*f = hidden
		}
	}
	return s
}

// WithoutSecrets is p as "profile show" prints it by default: keys and
// secrets replaced by a placeholder (files that hold them stay named).
func (p Profile) WithoutSecrets() Profile {
	if p.Secret != "" {
		p.Secret = "hidden (--show-secrets shows it)"
	}
	if p.SPA != nil {
		s := p.SPA.hideSecrets()
		p.SPA = &s
	}
	return p
}
