package spa

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/md5"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Mode is how the AES key is derived from the key given.
type Mode int

const (
	// CBC is fwknop's default: the key as given.
	CBC Mode = iota
	// Legacy is fwknop's legacy IV mode (ENCRYPTION_MODE legacy), for
	// clients before 2.5: a key shorter than 16 bytes is padded with ASCII
	// '0' to 16.
	Legacy
)

// ParseMode reads "cbc" or "legacy".
func ParseMode(s string) (Mode, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "cbc":
		return CBC, nil
	case "legacy":
		return Legacy, nil
	}
	return 0, fmt.Errorf("encryption mode %q: want cbc or legacy", s)
}

func (m Mode) String() string {
	if m == Legacy {
		return "legacy"
	}
	return "cbc"
}

// Keys are what both ends share.
type Keys struct {
	Key     []byte // the encryption key: a passphrase, or decoded base64 key material
	Mode    Mode
	HMACKey []byte // nil: no HMAC (fwknopd takes such packets only in stanzas without one)
	HMAC    Digest // 0: SHA256
}

// MaxKey and MaxHMACKey are the longest keys fwknop takes.
const (
	MaxKey     = 32
	MaxHMACKey = 128
)

func (k Keys) hmacDigest() Digest {
	if k.HMAC == 0 {
		return SHA256
	}
	return k.HMAC
}

// Validate checks the keys' sizes and types.
func (k Keys) Validate() error {
	if len(k.Key) == 0 {
		return errors.New("no encryption key")
	}
	if len(k.Key) > MaxKey {
		return fmt.Errorf("encryption key of %d bytes: at most %d", len(k.Key), MaxKey)
	}
	if k.HMACKey != nil && len(k.HMACKey) == 0 {
		return errors.New("empty HMAC key")
	}
	if len(k.HMACKey) > MaxHMACKey {
		return fmt.Errorf("HMAC key of %d bytes: at most %d", len(k.HMACKey), MaxHMACKey)
	}
	if k.HMACKey != nil && bytes.Equal(k.Key, k.HMACKey) {
		return errors.New("the encryption and HMAC keys are the same (fwknop refuses that too)")
	}
	if k.hmacDigest().newHash() == nil {
		return fmt.Errorf("HMAC type %d unknown", int(k.HMAC))
	}
	return nil
}

// NewKeys makes keys as fwknop --key-gen does: 32 random bytes of
// encryption key and 64 of HMAC key, read from rand.
func NewKeys(rand io.Reader) (key, hmacKey []byte, err error) {
	key, hmacKey = make([]byte, 32), make([]byte, 64)
	if _, err := io.ReadFull(rand, key); err != nil {
		return nil, nil, err
	}
	if _, err := io.ReadFull(rand, hmacKey); err != nil {
		return nil, nil, err
	}
	return key, hmacKey, nil
}

// SaltedPrefix is the base64 of "Salted__", which fwknop leaves out of
// the packet.
const SaltedPrefix = "U2FsdGVkX1"

// Encode renders the plaintext: the fields, then the digest of them.
func (m Message) Encode(d Digest) (string, error) {
	if err := m.check(); err != nil {
		return "", err
	}
	if d.newHash() == nil {
		return "", fmt.Errorf("digest type %d unknown", int(d))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s:%s:%d:%s:%d:%s", m.Random, encode64([]byte(m.User)), m.Time, m.Version, m.Type, encode64([]byte(m.Access)))
	if hasNAT(m.Type) {
		b.WriteString(":" + encode64([]byte(m.NATAccess)))
	}
	if hasTimeout(m.Type) {
		b.WriteString(":" + strconv.Itoa(m.Timeout))
	}
	fields := b.String()
	return fields + ":" + d.sum(fields), nil
}

// check refuses what fwknopd would: the fields' own rules.
func (m Message) check() error {
	if len(m.Random) != 16 || strings.Trim(m.Random, "0123456789") != "" {
		return fmt.Errorf("random value %q: want 16 decimal digits", m.Random)
	}
	if m.Version == "" || strings.ContainsAny(m.Version, ":") {
		return fmt.Errorf("version %q", m.Version)
	}
	if m.Type < CommandMsg || m.Type > ClientTimeoutLocalNATAccessMsg {
		return fmt.Errorf("message type %d unknown", m.Type)
	}
	if m.Access == "" {
		return errors.New("empty access message")
	}
	if hasNAT(m.Type) && m.NATAccess == "" {
		return fmt.Errorf("message type %d wants a NAT access", m.Type)
	}
	if hasTimeout(m.Type) && m.Timeout <= 0 {
		return fmt.Errorf("message type %d wants a client timeout", m.Type)
	}
	return m.checkMessage()
}

// Decode reads a plaintext and checks its digest, which may be of any
// type (told apart by length, and sha256/sha3_256 and sha512/sha3_512,
// which share one, by trying both). It returns the digest type found.
func Decode(plain string) (Message, Digest, error) {
	var m Message
	i := strings.LastIndexByte(plain, ':')
	if i < 0 {
		return m, 0, errors.New("not an SPA message: no fields")
	}
	fields, digest := plain[:i], plain[i+1:]
	d := Digest(0)
	for _, c := range []Digest{MD5, SHA1, SHA256, SHA3_256, SHA384, SHA512, SHA3_512} {
		if len(digest) == c.b64Len() && c.sum(fields) == digest {
			d = c
			break
		}
	}
	if d == 0 {
		return m, 0, ErrDigest
	}
	f := strings.Split(fields, ":")
	if len(f) < 6 {
		return m, d, fmt.Errorf("not an SPA message: %d fields, want at least 6", len(f))
	}
	if err := checkFields(f); err != nil {
		return m, d, err
	}
	m.Random, m.Version = f[0], f[3]
	user, err := decode64(f[1])
	if err != nil {
		return m, d, errors.New("user field is not base64")
	}
	m.User = string(user)
	if m.Time, err = strconv.ParseInt(f[2], 10, 64); err != nil {
		return m, d, fmt.Errorf("time %q is not a number", f[2])
	}
	if m.Type, err = strconv.Atoi(f[4]); err != nil {
		return m, d, fmt.Errorf("message type %q is not a number", f[4])
	}
	access, err := decode64(f[5])
	if err != nil {
		return m, d, errors.New("access field is not base64")
	}
	m.Access = string(access)
	rest := f[6:]
	if hasNAT(m.Type) {
		if len(rest) == 0 {
			return m, d, errors.New("NAT message without its NAT access field")
		}
		nat, err := decode64(rest[0])
		if err != nil {
			return m, d, errors.New("NAT access field is not base64")
		}
		m.NATAccess, rest = string(nat), rest[1:]
	}
	if hasTimeout(m.Type) {
		if len(rest) == 0 {
			return m, d, errors.New("client timeout message without its timeout field")
		}
		if m.Timeout, err = strconv.Atoi(rest[len(rest)-1]); err != nil || m.Timeout < 0 {
			return m, d, fmt.Errorf("client timeout %q is not a number", rest[len(rest)-1])
		}
		rest = rest[:len(rest)-1]
	}
	if len(rest) > 0 {
		// fwknop's deprecated server-auth field: the message is read, the
		// field ignored.
		if _, err := decode64(rest[0]); err != nil || len(rest) > 1 {
			return m, d, fmt.Errorf("%d fields more than message type %d has", len(rest), m.Type)
		}
	}
	return m, d, m.check()
}

// Build makes the packet for m: the plaintext with digest d, encrypted
// with k.Key, the HMAC appended when k has an HMAC key. rand supplies the
// salt.
func Build(m Message, d Digest, k Keys, rand io.Reader) (string, error) {
	if err := k.Validate(); err != nil {
		return "", err
	}
	plain, err := m.Encode(d)
	if err != nil {
		return "", err
	}
	salt := make([]byte, 8)
	if _, err := io.ReadFull(rand, salt); err != nil {
		return "", err
	}
	block, iv := k.cipher(salt)
	pad := aes.BlockSize - len(plain)%aes.BlockSize
	data := append([]byte(plain), bytes.Repeat([]byte{byte(pad)}, pad)...)
	cipher.NewCBCEncrypter(block, iv).CryptBlocks(data, data)
	enc := encode64(append(append([]byte("Salted__"), salt...), data...))
	if !strings.HasPrefix(enc, SaltedPrefix) {
		return "", errors.New("internal error: no Salted__ prefix")
	}
	packet := strings.TrimPrefix(enc, SaltedPrefix)
	if k.HMACKey != nil {
		packet += k.hmacDigest().mac(k.HMACKey, enc)
	}
	if len(packet) > MaxPacket {
		return "", fmt.Errorf("the packet would be %d bytes: fwknopd reads one of 400 or more as GnuPG's and refuses it; ask for fewer ports or use a shorter user name", len(packet))
	}
	return packet, nil
}

// Parse checks a packet's HMAC (when k has an HMAC key), decrypts it and
// decodes the message.
func Parse(packet string, k Keys) (Message, Digest, error) {
	if err := k.Validate(); err != nil {
		return Message{}, 0, err
	}
	packet = strings.TrimSpace(packet)
	if strings.HasPrefix(packet, SaltedPrefix) {
		return Message{}, 0, errors.New("not a valid SPA packet (the Salted__ prefix belongs in no packet: a doctored copy?)")
	}
	if c := NewHMACCheck(k); c != nil {
		if len(packet) <= c.n {
			return Message{}, 0, errors.New("packet too short for its HMAC")
		}
		if !c.Check([]byte(packet)) {
			return Message{}, 0, ErrHMAC
		}
		packet = packet[:len(packet)-c.n]
	}
	raw, err := decode64(SaltedPrefix + packet)
	if err != nil {
		return Message{}, 0, errors.New("packet is not base64")
	}
	if len(raw) < 16+aes.BlockSize || !bytes.HasPrefix(raw, []byte("Salted__")) || (len(raw)-16)%aes.BlockSize != 0 {
		return Message{}, 0, errors.New("packet is not an AES-CBC message of whole blocks")
	}
	block, iv := k.cipher(raw[8:16])
	data := raw[16:]
	cipher.NewCBCDecrypter(block, iv).CryptBlocks(data, data)
	plain := data
	// PKCS#7 padding, which fwknop writes; old clients (Android before
	// 4.4) sent a message of whole blocks unpadded, and fwknopd takes
	// that too: the digest, checked next, says whether the key was right.
	if pad := int(data[len(data)-1]); pad >= 1 && pad <= aes.BlockSize && bytes.Equal(data[len(data)-pad:], bytes.Repeat([]byte{byte(pad)}, pad)) {
		plain = data[:len(data)-pad]
	}
	for _, c := range plain {
		if c < 0x20 || c > 0x7e {
			return Message{}, 0, errors.New("decryption failed: wrong key or encryption mode")
		}
	}
	return Decode(string(plain))
}

// cipher derives the AES-256 key and IV from the key and the salt as
// OpenSSL's EVP_BytesToKey does with MD5 and one round.
func (k Keys) cipher(salt []byte) (cipher.Block, []byte) {
	pw := k.Key
	if k.Mode == Legacy && len(pw) < 16 {
		pw = append(append([]byte{}, pw...), bytes.Repeat([]byte{'0'}, 16-len(pw))...)
	}
	var kiv, prev []byte
	for len(kiv) < 48 {
		h := md5.New()
		h.Write(prev)
		h.Write(pw)
		h.Write(salt)
		prev = h.Sum(nil)
		kiv = append(kiv, prev...)
	}
	block, _ := aes.NewCipher(kiv[:32])
	return block, kiv[32:48]
}
