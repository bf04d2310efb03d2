package transfer

import (
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/knocktools/knock/fwknopconf"
	"github.com/knocktools/knock/profiles"
	"github.com/knocktools/knock/spa"
)

// ExportFwknopd renders the access.conf stanza of fwknopd that accepts
// this SPA profile's packets and opens what it asks for. It holds the
// keys: it is printed only when asked for.
func ExportFwknopd(name string, p profiles.Profile) (string, error) {
	a, err := fwknopdStanza(name, p)
	if err != nil {
		return "", err
	}
	stanza, err := a.Format()
	if err != nil {
		return "", fmt.Errorf("profile %q: %w", name, err)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# knock profile %q (host %s): a stanza for fwknopd's access.conf.\n", name, p.Host)
	b.WriteString("# It holds the keys: keep access.conf readable by root only.\n")
	b.WriteString(stanza)
	if p.SPA.NATAccess != "" {
		b.WriteString("# nat_access needs ENABLE_IPT_FORWARDING Y in fwknopd.conf.\n")
	}
	return b.String(), nil
}

// PhoneKeys is the line Fwknop2 (fwknop's Android client) scans from a QR
// code for this SPA profile's keys. It holds the keys.
func PhoneKeys(name string, p profiles.Profile) (string, error) {
	a, err := fwknopdStanza(name, p)
	if err != nil {
		return "", err
	}
	return a.PhoneKeys(), nil
}

// fwknopdStanza is the stanza of ExportFwknopd.
func fwknopdStanza(name string, p profiles.Profile) (fwknopconf.AccessStanza, error) {
	if p.SPA == nil {
		return fwknopconf.AccessStanza{}, fmt.Errorf("profile %q is not an SPA profile", name)
	}
	s := p.SPA
	keys, err := s.Keys(nil)
	if err != nil {
		return fwknopconf.AccessStanza{}, fmt.Errorf("profile %q: %w", name, err)
	}
	a := fwknopconf.AccessStanza{
		Source:          "ANY",
		OpenPorts:       strings.ReplaceAll(s.Access, " ", ""),
		Key:             s.Key,
		HMACKey:         s.HMACKey,
		FWAccessTimeout: 30, // fwknopd's own default
	}
	if s.Key == "" {
		a.KeyBase64 = base64.StdEncoding.EncodeToString(keys.Key)
	}
	if s.HMACKey == "" && keys.HMACKey != nil {
		a.HMACKeyBase64 = base64.StdEncoding.EncodeToString(keys.HMACKey)
	}
	if s.HMACDigestType != "" && keys.HMACKey != nil {
		a.HMACDigestType = strings.ToUpper(keys.HMAC.String())
	}
	if keys.Mode == spa.Legacy {
		a.EncryptionMode = "legacy"
	}
	if s.FWTimeout > 0 {
		a.FWAccessTimeout = s.FWTimeout
	}
	return a, nil
}
