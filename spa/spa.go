// Package spa builds and parses fwknop-compatible Single Packet
// Authorization messages (fwknop 2.x, Rijndael mode, as fwknopd 2.6
// accepts them): the plaintext fields and their digest, the OpenSSL-style
// AES-256-CBC encryption, and the HMAC. It does no I/O; client/ sends the
// packets. GnuPG mode is not supported.
//
// The format, from fwknop's documentation and as its daemon reads it:
//
//	random:base64(user):time:version:type:base64(access)[:base64(nat)][:timeout]:base64(digest)
//
// is encrypted with AES-256-CBC keyed as "openssl enc" keys it (MD5
// EVP_BytesToKey of the key and an 8-byte salt, output "Salted__" salt
// ciphertext), base64-encoded, the "U2FsdGVkX1" that "Salted__" encodes to
// removed, and an HMAC of the base64 (with that prefix) appended. Base64
// is the standard alphabet without '=' padding, everywhere.
package spa

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha3"
	"crypto/sha512"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"strings"
)

// Digest is a hash fwknop names: for the message digest and for the HMAC.
// The values are fwknop's own numbering.
type Digest int

const (
	MD5      Digest = 1
	SHA1     Digest = 2
	SHA256   Digest = 3
	SHA384   Digest = 4
	SHA512   Digest = 5
	SHA3_256 Digest = 6
	SHA3_512 Digest = 7
)

var digestNames = map[Digest]string{MD5: "md5", SHA1: "sha1", SHA256: "sha256", SHA384: "sha384",
	SHA512: "sha512", SHA3_256: "sha3_256", SHA3_512: "sha3_512"}

// DigestNames lists the names ParseDigest accepts, as fwknoprc spells them.
func DigestNames() []string {
	return []string{"md5", "sha1", "sha256", "sha384", "sha512", "sha3_256", "sha3_512"}
}

// ParseDigest reads a digest name (any case; sha3-256 for sha3_256 too).
func ParseDigest(s string) (Digest, error) {
	n := strings.ReplaceAll(strings.ToLower(strings.TrimSpace(s)), "-", "_")
	for d, name := range digestNames {
		if n == name {
			return d, nil
		}
	}
	return 0, fmt.Errorf("digest %q: want one of %s", s, strings.Join(DigestNames(), ", "))
}

func (d Digest) String() string {
	if n, ok := digestNames[d]; ok {
		return n
	}
	return fmt.Sprintf("digest(%d)", int(d))
}

func (d Digest) newHash() func() hash.Hash {
	switch d {
	case MD5:
		return md5.New
	case SHA1:
		return sha1.New
	case SHA256:
		return sha256.New
	case SHA384:
		return sha512.New384
	case SHA512:
		return sha512.New
	case SHA3_256:
		return func() hash.Hash { return sha3.New256() }
	case SHA3_512:
		return func() hash.Hash { return sha3.New512() }
	}
	return nil
}

// b64Len is the length of the digest's unpadded base64.
func (d Digest) b64Len() int {
	if h := d.newHash(); h != nil {
		return b64.EncodedLen(h().Size())
	}
	return 0
}

// b64 is fwknop's base64: the standard alphabet, '=' padding stripped.
var b64 = base64.RawStdEncoding

func encode64(b []byte) string { return b64.EncodeToString(b) }

// decode64 reads base64 with or without padding.
func decode64(s string) ([]byte, error) { return b64.DecodeString(strings.TrimRight(s, "=")) }

func (d Digest) sum(data string) string {
	h := d.newHash()()
	h.Write([]byte(data))
	return encode64(h.Sum(nil))
}

func (d Digest) mac(key []byte, data string) string {
	m := hmac.New(d.newHash(), key)
	m.Write([]byte(data))
	return encode64(m.Sum(nil))
}

// Message types, fwknop's numbering.
const (
	CommandMsg                     = 0
	AccessMsg                      = 1
	NATAccessMsg                   = 2
	ClientTimeoutAccessMsg         = 3
	ClientTimeoutNATAccessMsg      = 4
	LocalNATAccessMsg              = 5
	ClientTimeoutLocalNATAccessMsg = 6
)

// Version is the protocol version Build writes.
const Version = "3.0.0"

// Message is the plaintext of an SPA packet.
type Message struct {
	Random    string // 16 decimal digits; replay protection
	User      string
	Time      int64 // Unix seconds
	Version   string
	Type      int
	Access    string // "IP,proto/port[,proto/port...]"; 0.0.0.0: the packet's source
	NATAccess string // "IP,port" for the NAT types
	Timeout   int    // client timeout in seconds, for the timeout types
}

// hasNAT and hasTimeout say which optional fields a message type carries.
func hasNAT(t int) bool {
	return t == NATAccessMsg || t == ClientTimeoutNATAccessMsg || t == LocalNATAccessMsg || t == ClientTimeoutLocalNATAccessMsg
}
func hasTimeout(t int) bool {
	return t == ClientTimeoutAccessMsg || t == ClientTimeoutNATAccessMsg || t == ClientTimeoutLocalNATAccessMsg
}

// TypeFor is the message type for an access message with or without NAT
// (local NAT: to the server itself) and a client timeout.
func TypeFor(nat, localNAT, timeout bool) int {
	switch {
	case localNAT && timeout:
		return ClientTimeoutLocalNATAccessMsg
	case localNAT:
		return LocalNATAccessMsg
	case nat && timeout:
		return ClientTimeoutNATAccessMsg
	case nat:
		return NATAccessMsg
	case timeout:
		return ClientTimeoutAccessMsg
	}
	return AccessMsg
}

// Errors a Parse can end with, for callers that tell them apart.
var (
	ErrHMAC   = errors.New("HMAC does not match: wrong HMAC key or type, or a packet changed on the way")
	ErrDigest = errors.New("the message digest does not match")
)
