package spa

import (
	"crypto/hmac"
	"encoding/base64"
	"hash"
)

// HMACCheck checks packets' HMACs for one set of keys without allocating:
// the one computation a forged packet costs a server, done once per key
// with its state kept. It accepts exactly what Parse's HMAC check
// accepts. An HMACCheck is not for concurrent use.
type HMACCheck struct {
	n         int // the HMAC's length in the packet, base64
	mac       hash.Hash
	sum, want []byte
}

// strict64 decodes only base64 as fwknop writes it (no '=', no stray
// bits), so that comparing the decoded HMAC is comparing the text.
var strict64 = base64.RawStdEncoding.Strict()

// NewHMACCheck returns the check of k's HMAC; nil when k has no HMAC key.
func NewHMACCheck(k Keys) *HMACCheck {
	if k.HMACKey == nil || k.hmacDigest().newHash() == nil {
		return nil
	}
	d := k.hmacDigest()
	c := &HMACCheck{n: d.b64Len(), mac: hmac.New(d.newHash(), k.HMACKey)}
	c.sum = make([]byte, 0, c.mac.Size())
	c.want = make([]byte, strict64.DecodedLen(c.n))
	return c
}

// Check reports whether packet ends with the HMAC of the rest (after the
// base64 of "Salted__" that fwknop leaves out of the packet).
func (c *HMACCheck) Check(packet []byte) bool {
	body, mac, ok := c.Split(packet, c.want)
	return ok && c.CheckSplit(body, mac)
}

// Len is the length of the HMAC at the end of a packet, in base64: checks
// of the same Len split a packet alike, so a packet checked against
// several keys is split once.
func (c *HMACCheck) Len() int { return c.n }

// Split cuts packet into the body and the HMAC at its end, decoded into
// buf (of MaxHMACSize bytes at least); false when it cannot end with an
// HMAC of c's digest.
func (c *HMACCheck) Split(packet, buf []byte) (body, mac []byte, ok bool) {
	if len(packet) <= c.n {
		return nil, nil, false
	}
	body, text := packet[:len(packet)-c.n], packet[len(packet)-c.n:]
	m, err := strict64.Decode(buf[:strict64.DecodedLen(c.n)], text)
	if err != nil || m != c.mac.Size() {
		return nil, nil, false
	}
	return body, buf[:m], true
}

// CheckSplit reports whether mac is the HMAC of body, as Split cut them.
func (c *HMACCheck) CheckSplit(body, mac []byte) bool {
	if len(mac) != c.mac.Size() {
		return false
	}
	c.mac.Reset()
	c.mac.Write(saltedPrefixBytes)
	c.mac.Write(body)
	c.sum = c.mac.Sum(c.sum[:0])
	return hmac.Equal(c.sum, mac)
}

// MaxHMACSize is the longest HMAC of any digest fwknop offers (SHA-512's).
const MaxHMACSize = 64

var saltedPrefixBytes = []byte(SaltedPrefix)
