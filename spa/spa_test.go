package spa

import (
	"bytes"
	"crypto/rand"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// Known answers: the packets of fwknop's test suite decode, with the keys
// its stanzas hold, to the fields they carry.
func TestFwknopTestSuitePackets(t *testing.T) {
	want := map[string]Message{
		"v2.0":                 {Random: "5287119991111783", User: "mbr", Time: 1353002653, Version: "1.9.12", Type: 1, Access: "0.0.0.0,tcp/22"},
		"v2.0.1":               {Random: "1832325741340274", User: "mbr", Time: 1353002424, Version: "1.9.12", Type: 1, Access: "0.0.0.0,tcp/22"},
		"v2.0.2":               {Random: "1721594894840761", User: "root", Time: 1352988660, Version: "2.0.2", Type: 1, Access: "127.0.0.2,tcp/22"},
		"v2.0.3":               {Random: "1920059435148587", User: "root", Time: 1346851336, Version: "2.0.3", Type: 1, Access: "127.0.0.2,tcp/22"},
		"v2.0.4":               {Random: "1592747331511540", User: "root", Time: 1358637251, Version: "2.0.4", Type: 1, Access: "127.0.0.2,tcp/22"},
		"v2.0.4 truncated key": {Random: "2539362061487196", User: "mbr", Time: 1370201964, Version: "2.0.4", Type: 1, Access: "127.0.0.2,tcp/22"},
		"Android v4.1.2":       {Random: "1426894214588391", User: "NO_USER", Time: 1353030926, Version: "2.0.3", Type: 3, Access: "0.0.0.0,tcp/22", Timeout: 3},
		"Cygwin Windows 2008":  {Random: "4990790666103412", User: "Administrator", Time: 1367636707, Version: "2.5.0", Type: 1, Access: "127.0.0.2,tcp/22"},
		"Android v4.4":         {Random: "9498113239850172", User: "u0_a52", Time: 1387857764, Version: "2.0", Type: 3, Access: "0.0.0.0,tcp/22", Timeout: 2},
	}
	cases := suitePackets(t)
	if len(cases) != len(want) {
		t.Fatalf("%d packets in testdata, want %d", len(cases), len(want))
	}
	for _, c := range cases {
		m, d, err := Parse(c.packet, c.keys)
		if err != nil || m != want[c.name] || d != SHA256 {
			t.Errorf("%s: %+v %v %v, want %+v", c.name, m, d, err, want[c.name])
		}
		// The wrong mode or key fails, and says so.
		wrong := c.keys
		wrong.Key = append([]byte("x"), wrong.Key...)
		if _, _, err := Parse(c.packet, wrong); err == nil {
			t.Errorf("%s: parsed with a wrong key", c.name)
		}
	}
}

type suitePacket struct {
	name, packet string
	keys         Keys
}

func suitePackets(t testing.TB) []suitePacket {
	data, err := os.ReadFile("testdata/fwknop-test-suite.txt")
	if err != nil {
		t.Fatal(err)
	}
	var out []suitePacket
	for _, line := range strings.Split(string(data), "\n") {
		if line == "" || line[0] == '#' {
			continue
		}
		f := strings.Split(line, "|")
		mode, err := ParseMode(f[1])
		if err != nil {
			t.Fatal(err)
		}
		k := Keys{Key: []byte(f[2]), Mode: mode}
		if f[3] != "" {
			k.HMACKey = []byte(f[3])
		}
		out = append(out, suitePacket{f[0], f[4], k})
	}
	return out
}

func testMessage() Message {
	return Message{Random: "1234567890123456", User: "alice", Time: 1764547200, Version: Version, Type: AccessMsg, Access: "0.0.0.0,tcp/22"}
}

// Every digest, HMAC type and mode, every message type: Build, then
// Parse gives back the message and the digest type.
func TestRoundTrips(t *testing.T) {
	keyB64 := bytes.Repeat([]byte{0xa5}, 32)
	for _, d := range []Digest{MD5, SHA1, SHA256, SHA384, SHA512, SHA3_256, SHA3_512} {
		for _, h := range []Digest{0, MD5, SHA1, SHA256, SHA384, SHA512, SHA3_256, SHA3_512} {
			for _, k := range []Keys{
				{Key: []byte("passphrase"), HMACKey: []byte("hmac secret"), HMAC: h},
				{Key: keyB64, HMACKey: bytes.Repeat([]byte{7}, 64), HMAC: h},
				{Key: []byte("short"), Mode: Legacy, HMACKey: []byte("hmac"), HMAC: h},
				{Key: []byte("no hmac at all")},
			} {
				for _, m := range []Message{
					testMessage(),
					{Random: "0000000000000001", User: "root", Time: 1, Version: Version, Type: ClientTimeoutAccessMsg, Access: "10.77.0.1,tcp/22,udp/53", Timeout: 30},
					{Random: "9999999999999999", User: "bob", Time: 2, Version: Version, Type: NATAccessMsg, Access: "0.0.0.0,tcp/22", NATAccess: "10.77.5.5,22"},
					{Random: "1111111111111111", User: "bob", Time: 3, Version: Version, Type: ClientTimeoutLocalNATAccessMsg, Access: "0.0.0.0,tcp/2222", NATAccess: "127.0.0.1,22", Timeout: 5},
				} {
					pkt, err := Build(m, d, k, rand.Reader)
					if err != nil {
						t.Fatal(err)
					}
					if strings.HasPrefix(pkt, "U2FsdGVkX1") || strings.ContainsAny(pkt, "=\n") {
						t.Fatalf("packet %q keeps the prefix or padding", pkt)
					}
					got, gd, err := Parse(pkt, k)
					if err != nil || got != m || gd != d {
						t.Fatalf("%v/%v %+v: %+v %v %v", d, h, k, got, gd, err)
					}
				}
			}
		}
	}
}

// A packet changed in any byte fails its HMAC; with the wrong HMAC key or
// type it fails too; two builds of one message differ (the salt).
func TestEveryByteIsAuthenticated(t *testing.T) {
	k := Keys{Key: []byte("fwknoptest"), HMACKey: []byte("hmactest")}
	pkt, err := Build(testMessage(), SHA256, k, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	alphabet := "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	for i := range pkt {
		c := alphabet[(strings.IndexByte(alphabet, pkt[i])+1)%len(alphabet)]
		bad := pkt[:i] + string(c) + pkt[i+1:]
		if _, _, err := Parse(bad, k); !errors.Is(err, ErrHMAC) {
			t.Fatalf("byte %d changed: %v, want the HMAC to fail", i, err)
		}
	}
	for _, wrong := range []Keys{
		{Key: k.Key, HMACKey: []byte("hmactesT")},
		{Key: k.Key, HMACKey: k.HMACKey, HMAC: SHA512},
		{Key: k.Key, HMACKey: k.HMACKey, HMAC: SHA3_256},
	} {
		if _, _, err := Parse(pkt, wrong); err == nil {
			t.Errorf("parsed with %+v", wrong)
		}
	}
	again, _ := Build(testMessage(), SHA256, k, rand.Reader)
	if again == pkt {
		t.Fatal("two packets of one message are the same")
	}
	if _, _, err := Parse("U2FsdGVkX1"+pkt, Keys{Key: k.Key}); err == nil {
		t.Fatal("a packet with the Salted__ prefix put back was taken")
	}
}

func TestBadInput(t *testing.T) {
	k := Keys{Key: []byte("k")}
	for _, tt := range []struct {
		m    Message
		want string
	}{
		{Message{Random: "123", User: "a", Version: "3", Type: 1, Access: "x"}, "16 decimal digits"},
		{Message{Random: "123456789012345x", User: "a", Version: "3", Type: 1, Access: "x"}, "16 decimal digits"},
		{Message{Random: "1234567890123456", Version: "3", Type: 1, Access: "x"}, "user"},
		{Message{Random: "1234567890123456", User: "a", Version: "3", Type: 9, Access: "x"}, "message type 9"},
		{Message{Random: "1234567890123456", User: "a", Version: "3", Type: NATAccessMsg, Access: "x"}, "NAT access"},
		{Message{Random: "1234567890123456", User: "a", Version: "3", Type: ClientTimeoutAccessMsg, Access: "x"}, "client timeout"},
	} {
		if _, err := Build(tt.m, SHA256, k, rand.Reader); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%+v: %v, want %q", tt.m, err, tt.want)
		}
	}
	for _, k := range []Keys{{}, {Key: bytes.Repeat([]byte{1}, 33)}, {Key: []byte("a"), HMACKey: []byte("a")}, {Key: []byte("a"), HMACKey: []byte{}}} {
		if err := k.Validate(); err == nil {
			t.Errorf("keys %+v accepted", k)
		}
	}
	if _, err := ParseDigest("sha3"); err == nil {
		t.Error("digest sha3 accepted")
	}
	if d, err := ParseDigest("SHA3-512"); err != nil || d != SHA3_512 {
		t.Errorf("SHA3-512: %v %v", d, err)
	}
}

// openssl enc, the format's own oracle, decrypts what Build encrypts.
func TestOpenSSLDecryptsOurs(t *testing.T) {
	openssl, err := exec.LookPath("openssl")
	if err != nil {
		t.Skip("openssl not installed")
	}
	pkt, err := Build(testMessage(), SHA256, Keys{Key: []byte("fwknoptest")}, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(openssl, "enc", "-d", "-aes-256-cbc", "-md", "md5", "-a", "-A", "-pass", "pass:fwknoptest")
	b64 := "U2FsdGVkX1" + pkt
	b64 += strings.Repeat("=", (4-len(b64)%4)%4)
	cmd.Stdin = strings.NewReader(b64 + "\n")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr // its warning about the key derivation, which is the format's
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("openssl: %v\n%s", err, stderr.String())
	}
	if want, _ := testMessage().Encode(SHA256); string(out) != want {
		t.Fatalf("openssl decrypted %q, want %q", out, want)
	}
}

// FuzzParse: any input is refused with an error or parses to a message
// that builds and parses back the same.
func FuzzParse(f *testing.F) {
	for _, c := range suitePackets(f) {
		f.Add(c.packet, c.keys.Mode == Legacy, c.keys.HMACKey != nil)
	}
	f.Fuzz(func(t *testing.T, pkt string, legacy, withHMAC bool) {
		k := Keys{Key: []byte("fwknoptest")}
		if legacy {
			k.Mode = Legacy
		}
		if withHMAC {
			k.HMACKey = []byte("hmactest")
		}
		m, d, err := Parse(pkt, k)
		if err != nil {
			return
		}
		again, err := Build(m, d, k, rand.Reader)
		if err != nil {
			t.Fatalf("%+v parsed but does not build: %v", m, err)
		}
		if back, _, err := Parse(again, k); err != nil || back != m {
			t.Fatalf("%+v -> %+v, %v", m, back, err)
		}
	})
}

// FuzzDecode: the plaintext decoder never panics, and what it accepts
// encodes back to the same text.
func FuzzDecode(f *testing.F) {
	plain, _ := testMessage().Encode(SHA256)
	f.Add(plain)
	f.Add("1:2:3")
	f.Fuzz(func(t *testing.T, s string) {
		m, d, err := Decode(s)
		if err != nil {
			return
		}
		if back, err := m.Encode(d); err != nil || back != s {
			if err == nil && strings.Count(back, ":") == strings.Count(s, ":") {
				t.Fatalf("%q decodes to %+v, which encodes to %q", s, m, back)
			}
		}
	})
}

// TestCheckAccess: libfko's rules for an access message, and ours for
// IPv6.
func TestCheckAccess(t *testing.T) {
	for _, tt := range []struct {
		access, code string // code "" for taken
	}{
		{"10.77.0.1,tcp/22", ""},
		{"10.77.0.1,tcp/22,udp/53,tcp/65535", ""},
		{"0.0.0.0,udp/1", ""},
		{"fd77::1,tcp/22", ""}, // ours: fwknopd refuses an IPv6 address
		{"fd77::1%eth0,tcp/22", "DECODE_ACCESS_VALIDFAIL"},
		{"10.77.0.1,tcp/0", "DECODE_ACCESS_VALIDFAIL"},
		{"10.77.0.1,tcp/65536", "DECODE_ACCESS_VALIDFAIL"},
		{"10.77.0.1,tcp/123456", "DECODE_ACCESS_VALIDFAIL"},
		{"10.77.0.1,tcp/-33", "DECODE_ACCESS_VALIDFAIL"},
		{"10.77.0.1,tcp/", "DECODE_ACCESS_VALIDFAIL"},
		{"10.77.0.1,/22", "DECODE_ACCESS_VALIDFAIL"},
		{"10.77.0.1,tcpA/22", "DECODE_ACCESS_VALIDFAIL"},
		{"10.77.0.1,icmp/8", "DECODE_ACCESS_VALIDFAIL"}, // libfko's proto/ is at most 4 bytes
		{"10.77.0.1,tcp/22,", "DECODE_ACCESS_VALIDFAIL"},
		{"10.77.0.1,", "DECODE_ACCESS_VALIDFAIL"},
		{"10.77.0.1", "DECODE_ACCESS_VALIDFAIL"},
		{"10.77.0,tcp/22", "DECODE_ACCESS_VALIDFAIL"},
		{"host.example,tcp/22", "DECODE_ACCESS_VALIDFAIL"},
		{"10.77.0.1,tcp/22" + strings.Repeat(",tcp/22", 40), "DECODE_ACCESS_VALIDFAIL"},
	} {
		err := CheckAccess(tt.access)
		var inv *InvalidData
		switch {
		case tt.code == "" && err != nil:
			t.Errorf("CheckAccess(%q): %v", tt.access, err)
		case tt.code != "" && (!errors.As(err, &inv) || inv.Code != tt.code):
			t.Errorf("CheckAccess(%q) = %v, want FKO_ERROR_INVALID_DATA_%s", tt.access, err, tt.code)
		}
	}
}

// TestBuildStaysUnderGnuPGSize: knock never sends a packet fwknopd would
// read as GnuPG's.
func TestBuildStaysUnderGnuPGSize(t *testing.T) {
	k := Keys{Key: []byte("a-key"), HMACKey: []byte("an-hmac-key")}
	m := Message{Random: "1234567890123456", User: "alice", Time: 1e9, Version: Version, Type: AccessMsg, Access: "10.77.0.1,tcp/22"}
	if _, err := Build(m, SHA256, k, rand.Reader); err != nil {
		t.Fatal(err)
	}
	m.Access += strings.Repeat(",tcp/2222", 20)
	if _, err := Build(m, SHA256, k, rand.Reader); err == nil || !strings.Contains(err.Error(), "GnuPG") {
		t.Fatalf("a long access list: %v", err)
	}
}

// TestHMACCheck: HMACCheck (Parse's HMAC check too) takes exactly the
// packets whose HMAC text is the one computed over the rest, for every
// HMAC type, and refuses a changed byte, a short packet, a padded or
// non-canonical HMAC text; it allocates nothing.
func TestHMACCheck(t *testing.T) {
	for _, d := range []Digest{MD5, SHA1, SHA256, SHA384, SHA512, SHA3_256, SHA3_512} {
		k := Keys{Key: []byte("a-key"), HMACKey: []byte("an-hmac-key"), HMAC: d}
		m := Message{Random: "1234567890123456", User: "alice", Time: 1e9, Version: Version, Type: AccessMsg, Access: "10.77.0.1,tcp/22"}
		p, err := Build(m, SHA256, k, rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		c := NewHMACCheck(k)
		if !c.Check([]byte(p)) {
			t.Fatalf("%v: a good packet refused", d)
		}
		n := d.b64Len()
		for i := range p {
			b := []byte(p)
			b[i] ^= 1
			body, mac := string(b[:len(b)-n]), string(b[len(b)-n:])
			if got, want := c.Check(b), d.mac(k.HMACKey, SaltedPrefix+body) == mac; got != want {
				t.Fatalf("%v: byte %d changed: Check %v, the HMAC text compared %v", d, i, got, want)
			}
		}
		if c.Check([]byte(p[:len(p)-1])) || c.Check([]byte(p+"=")) || c.Check([]byte(p[len(p)-5:])) {
			t.Fatalf("%v: a cut or padded packet taken", d)
		}
		if n := testing.AllocsPerRun(100, func() { c.Check([]byte(p)) }); n > 1 { // the []byte conversion here
			t.Fatalf("%v: %v allocations a check", d, n)
		}
	}
	if NewHMACCheck(Keys{Key: []byte("k")}) != nil {
		t.Fatal("a check without an HMAC key")
	}
}

// TestCheckNATHostLength: a NAT access host of 70 bytes is taken and one
// of 71 refused, as fwknop 2.6.10's client takes and refuses -N (seen in
// this machine's fwknop, with hosts "aaa.bbb.com" of those lengths).
func TestCheckNATHostLength(t *testing.T) {
	for _, n := range []int{69, 70, 71} {
		host := strings.Repeat("a", 33) + "." + strings.Repeat("b", n-38) + ".com"
		err := checkNAT(host + ",22")
		if (err == nil) != (n <= maxNATHost) {
			t.Errorf("a host of %d bytes: %v", len(host), err)
		}
	}
}
