package fwknopconf

import (
	"fmt"
	"strconv"
	"strings"
)

// AccessStanza is one stanza of fwknopd's access.conf, as far as knock
// writes them: the keys, the ports to open and for how long.
type AccessStanza struct {
	Source          string // SOURCE: ANY, an address, a network or a list
	OpenPorts       string // OPEN_PORTS: "tcp/22,udp/53"
	Key             string // KEY, or:
	KeyBase64       string // KEY_BASE64
	HMACKey         string // HMAC_KEY, or:
	HMACKeyBase64   string // HMAC_KEY_BASE64
	HMACDigestType  string // HMAC_DIGEST_TYPE: SHA256 ...; empty: fwknopd's default
	EncryptionMode  string // ENCRYPTION_MODE: empty (cbc) or legacy
	FWAccessTimeout int    // FW_ACCESS_TIMEOUT in seconds; 0: not written
}

// Format writes the stanza as fwknopd's sample access.conf does: each
// directive's name in a column of 24, then its value; empty fields are
// left out. A value with a line break in it, which would end the
// directive and start another, is refused.
func (a AccessStanza) Format() (string, error) {
	var b strings.Builder
	for _, kv := range []struct{ k, v string }{
		{"SOURCE", a.Source}, {"OPEN_PORTS", a.OpenPorts},
		{"KEY", a.Key}, {"KEY_BASE64", a.KeyBase64},
		{"HMAC_KEY", a.HMACKey}, {"HMAC_KEY_BASE64", a.HMACKeyBase64}, {"HMAC_DIGEST_TYPE", a.HMACDigestType},
		{"ENCRYPTION_MODE", a.EncryptionMode},
		{"FW_ACCESS_TIMEOUT", itoaNonZero(a.FWAccessTimeout)},
	} {
		if strings.ContainsAny(kv.v, "\n\r") {
			return "", fmt.Errorf("%s: a line break in its value", kv.k)
		}
		if kv.v != "" {
			fmt.Fprintf(&b, "%-24s%s\n", kv.k, kv.v)
		}
	}
	return b.String(), nil
}

// PhoneKeys is the line fwknop's Android client, Fwknop2, scans from a
// QR code for a stanza's keys: "KEY_BASE64:... HMAC_KEY_BASE64:..." (KEY:
// and HMAC_KEY: for passphrases), the keys it has, space-separated.
func (a AccessStanza) PhoneKeys() string {
	var f []string
	for _, kv := range []struct{ k, v string }{
		{"KEY_BASE64", a.KeyBase64}, {"KEY", a.Key}, {"HMAC_KEY_BASE64", a.HMACKeyBase64}, {"HMAC_KEY", a.HMACKey},
	} {
		if kv.v != "" {
			f = append(f, kv.k+":"+kv.v)
		}
	}
	return strings.Join(f, " ")
}

func itoaNonZero(n int) string {
	if n == 0 {
		return ""
	}
	return strconv.Itoa(n)
}
