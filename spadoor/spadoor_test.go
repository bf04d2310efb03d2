package spadoor

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"hash"
	"net/netip"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/knocktools/knock/fwknopconf"
	"github.com/knocktools/knock/internal/flood"
	"github.com/knocktools/knock/spa"
)

// The lab's addresses, and a time for the packets.
var now, client, server = time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC), netip.MustParseAddr("10.77.0.1"), netip.MustParseAddr("10.77.0.2")

// memReplays is a replay cache in memory.
type memReplays map[string]bool

func (m memReplays) Seen(d string) bool { return m[d] }
func (m memReplays) Add(e Entry)        { m[e.Digest] = true }

func access(t testing.TB, conf string) []*fwknopconf.AccessEntry {
	t.Helper()
	a, err := fwknopconf.ParseAccess("access.conf", []byte(conf), nil)
	if err != nil {
		t.Fatal(err)
	}
	return a.Stanzas
}

// packet builds a packet as knock builds one.
func packet(t testing.TB, k spa.Keys, mutate func(*spa.Message)) []byte {
	t.Helper()
	m := spa.Message{Random: "1234567890123456", User: "alice", Time: now.Unix(), Version: spa.Version,
		Type: spa.AccessMsg, Access: "10.77.0.1,tcp/22"}
	if mutate != nil {
		mutate(&m)
	}
	p, err := spa.Build(m, spa.SHA256, k, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return []byte(p)
}

var keys = spa.Keys{Key: []byte("a-passphrase-for-tests"), HMACKey: []byte("an-hmac-key-for-the-tests"), HMAC: spa.SHA256}

const stanza = "SOURCE ANY\nKEY a-passphrase-for-tests\nHMAC_KEY an-hmac-key-for-the-tests\nREQUIRE_SOURCE_ADDRESS Y\n"

func TestDecide(t *testing.T) {
	other := spa.Keys{Key: []byte("another-passphrase"), HMACKey: []byte("another-hmac-key-xyz"), HMAC: spa.SHA256}
	for _, tt := range []struct {
		name    string
		conf    string
		keys    spa.Keys
		mutate  func(*spa.Message)
		src     netip.Addr
		ok      bool
		reason  string
		allow   string
		timeout time.Duration
		stanza  int
	}{
		{name: "opens", conf: stanza + "OPEN_PORTS tcp/22\n", ok: true, allow: "10.77.0.1", timeout: 30 * time.Second, stanza: 1},
		{name: "a port OPEN_PORTS lacks", conf: stanza + "OPEN_PORTS tcp/22\n", mutate: func(m *spa.Message) { m.Access = "10.77.0.1,tcp/23" },
			reason: "(stanza #1) One or more requested protocol/ports was denied per access.conf.", stanza: 1},
		{name: "a restricted port", conf: stanza + "RESTRICT_PORTS tcp/22\n", reason: "denied per access.conf", stanza: 1},
		{name: "0.0.0.0 when a source is required", conf: stanza, mutate: func(m *spa.Message) { m.Access = "0.0.0.0,tcp/22" },
			reason: "(stanza #1) Got 0.0.0.0 when valid source IP was required.", stanza: 1},
		{name: "0.0.0.0 opens for the packet's source", conf: strings.Replace(stanza, "REQUIRE_SOURCE_ADDRESS Y", "REQUIRE_SOURCE_ADDRESS N", 1),
			mutate: func(m *spa.Message) { m.Access = "0.0.0.0,tcp/22" }, ok: true, allow: "10.77.0.1", timeout: 30 * time.Second, stanza: 1},
		{name: "the client's timeout, capped", conf: stanza + "MAX_FW_TIMEOUT 60\n", mutate: func(m *spa.Message) { m.Type, m.Timeout = spa.ClientTimeoutAccessMsg, 1000 },
			ok: true, allow: "10.77.0.1", timeout: 60 * time.Second, stanza: 1},
		{name: "too old", conf: stanza, mutate: func(m *spa.Message) { m.Time -= 121 }, reason: "(stanza #1) SPA data time difference is too great (121 seconds).", stanza: 1},
		{name: "the user", conf: stanza + "REQUIRE_USERNAME bob\n", reason: "(stanza #1) Username in SPA data (alice) does not match required username: bob", stanza: 1},
		{name: "wrong keys", conf: stanza, keys: other, reason: "(stanza #1) Error creating fko context: HMAC does not match", stanza: 1},
		{name: "NAT", conf: stanza, mutate: func(m *spa.Message) { m.Type, m.NATAccess = spa.NATAccessMsg, "192.168.1.2,22" }, reason: "requested NAT access, but is not enabled", stanza: 1},
		{name: "a command", conf: stanza, mutate: func(m *spa.Message) { m.Type, m.Access = spa.CommandMsg, "10.77.0.1,touch /tmp/x" }, reason: "SPA Command messages are not allowed", stanza: 1},
		{name: "no stanza for the source", conf: strings.Replace(stanza, "SOURCE ANY", "SOURCE 10.1.0.0/16", 1), reason: "No access data found for source IP: 10.77.0.1"},
		{name: "destination", conf: stanza + "DESTINATION 10.77.0.9\n", reason: "filtered by SOURCE and/or DESTINATION criteria"},
		{name: "expired", conf: stanza + "ACCESS_EXPIRE_EPOCH 1000\n", reason: "(stanza #1) Access stanza has expired", stanza: 1},
		{name: "the first stanza that takes it wins", conf: "SOURCE ANY\nKEY another-passphrase\nHMAC_KEY another-hmac-key-xyz\n" + stanza + "FW_ACCESS_TIMEOUT 45\n",
			ok: true, allow: "10.77.0.1", timeout: 45 * time.Second, stanza: 2},
		{name: "IPv6 source, IPv6 in the message", conf: stanza, src: netip.MustParseAddr("fd77::1"), mutate: func(m *spa.Message) { m.Access = "fd77::1,tcp/22" },
			ok: true, allow: "fd77::1", timeout: 30 * time.Second, stanza: 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			k := keys
			if tt.keys.Key != nil {
				k = tt.keys
			}
			src := client
			if tt.src.IsValid() {
				src = tt.src
			}
			v := &Verifier{Stanzas: access(t, tt.conf), Aging: true, MaxAge: 120 * time.Second, Replays: memReplays{}}
			d := v.Decide(Packet{Src: src, Dst: server, Data: packet(t, k, tt.mutate), Time: now})
			if d.OK != tt.ok || !strings.Contains(d.Reason, tt.reason) || d.Stanza != tt.stanza {
				t.Fatalf("ok %v reason %q stanza %d; want %v %q %d (log %q)", d.OK, d.Reason, d.Stanza, tt.ok, tt.reason, tt.stanza, d.Log)
			}
			if tt.ok && (d.Allow.String() != tt.allow || d.Timeout != tt.timeout || len(d.Ports) != 1 || d.Ports[0].String() != "tcp/22") {
				t.Fatalf("allow %v for %v to %v; want %s for %v", d.Allow, d.Timeout, d.Ports, tt.allow, tt.timeout)
			}
		})
	}
}

// A packet taken once is refused after, whatever its stanza decided; one
// that is no SPA data is refused before any key is tried.
func TestDecideReplaysAndJunk(t *testing.T) {
	v := &Verifier{Stanzas: access(t, stanza+"OPEN_PORTS tcp/22\n"), Replays: memReplays{}}
	p := Packet{Src: client, Dst: server, Data: packet(t, keys, nil), Time: now}
	if d := v.Decide(p); !d.OK {
		t.Fatalf("first: %+v", d)
	}
	if d := v.Decide(p); d.OK || d.Reason != "Replay detected from source IP: 10.77.0.1" {
		t.Fatalf("replay: %+v", d)
	}
	denied := Packet{Src: client, Dst: server, Data: packet(t, keys, func(m *spa.Message) { m.Access = "10.77.0.1,tcp/80" }), Time: now}
	v.Decide(denied)
	if d := v.Decide(denied); d.Reason != "Replay detected from source IP: 10.77.0.1" {
		t.Fatalf("a denied packet replayed: %+v", d)
	}
	// A replay is refused as such, as fwknopd refuses it before any
	// stanza, also when a stanza ahead of the one that took it refuses
	// it for another reason (expired) or for its HMAC.
	expired := &Verifier{Stanzas: access(t, "SOURCE ANY\nKEY another-passphrase\nHMAC_KEY another-hmac-key-xyz\n"+
		strings.Replace(stanza, "SOURCE ANY\n", "SOURCE ANY\nACCESS_EXPIRE 01/01/2020\n", 1)+stanza+"OPEN_PORTS tcp/22\n"), Replays: memReplays{}}
	fresh := Packet{Src: client, Dst: server, Data: packet(t, keys, nil), Time: now}
	if d := expired.Decide(fresh); !d.OK || d.Stanza != 3 || len(d.Log) != 2 {
		t.Fatalf("first: %+v", d)
	}
	if d := expired.Decide(fresh); d.OK || d.Reason != "Replay detected from source IP: 10.77.0.1" || d.Log != nil {
		t.Fatalf("replay behind an expired stanza: %+v", d)
	}
	// A forgery: each stanza's refusal, in order (one: the reason alone).
	forgery := Packet{Src: client, Dst: server, Data: forged(t, fresh.Data, 1)[0], Time: now}
	if d := expired.Decide(forgery); d.OK || d.Stanza != 3 || len(d.Log) != 3 || !strings.HasPrefix(d.Log[1], "(stanza #2) Access stanza has expired") ||
		d.Reason != "(stanza #3) Error creating fko context: "+spa.ErrHMAC.Error() {
		t.Fatalf("a forgery: %+v", d)
	}
	if d := v.Decide(forgery); d.OK || d.Log != nil || d.Reason != "(stanza #1) Error creating fko context: "+spa.ErrHMAC.Error() || d.Digest != "" {
		t.Fatalf("a forgery, one stanza: %+v", d)
	}
	for _, junk := range []string{"short", strings.Repeat("A", 2000), "U2FsdGVkX1" + strings.Repeat("A", 200), strings.Repeat("*", 200)} {
		if d := v.Decide(Packet{Src: client, Dst: server, Data: []byte(junk), Time: now}); d.OK || !strings.HasPrefix(d.Reason, "not SPA data") || d.Stanza != 0 {
			t.Errorf("%.20q...: %+v", junk, d)
		}
	}
}

// fwknop's own client makes packets each variant of which opens: every
// HMAC digest, legacy mode, a plain and a base64 key, a client timeout,
// -s (0.0.0.0) and -a.
// TestDecideForgeryLog: a forgery's log names each stanza that refused
// it, in order, whether the stanzas around it refused it at the HMAC, let
// it by on SOURCE or refused it for another reason; the log a flood's
// forgeries share is not changed by a caller appending to one.
func TestDecideForgeryLog(t *testing.T) {
	other := "SOURCE ANY\nKEY another-passphrase\nHMAC_KEY another-hmac-key-xyz\n"
	elsewhere := strings.Replace(other, "SOURCE ANY", "SOURCE 10.77.9.9", 1)
	expired := strings.Replace(other, "SOURCE ANY\n", "SOURCE ANY\nACCESS_EXPIRE 01/01/2020\n", 1)
	forgery := Packet{Src: client, Dst: server, Data: forged(t, packet(t, keys, nil), 1)[0], Time: now}
	tests := []struct {
		name    string
		stanzas []string
		log     []int // the stanzas in the log; nil: the reason alone
	}{
		{"one", []string{other}, nil},
		{"three", []string{other, other, other}, []int{1, 2, 3}},
		{"the first elsewhere", []string{elsewhere, other, other}, []int{2, 3}},
		{"the second elsewhere", []string{other, elsewhere, other}, []int{1, 3}},
		{"the last elsewhere", []string{other, other, elsewhere}, []int{1, 2}},
		{"one of two elsewhere", []string{elsewhere, other}, nil},
		{"expired between", []string{other, expired, other}, []int{1, 2, 3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := &Verifier{Stanzas: access(t, strings.Join(tt.stanzas, "\n")), Replays: memReplays{}}
			for range 2 {
				d := v.Decide(forgery)
				if d.OK || len(d.Log) != len(tt.log) {
					t.Fatalf("%+v; want a refusal logged by stanzas %v", d, tt.log)
				}
				for j, n := range tt.log {
					if !strings.HasPrefix(d.Log[j], fmt.Sprintf("(stanza #%d) ", n)) {
						t.Fatalf("log %q; want stanzas %v", d.Log, tt.log)
					}
				}
				_ = append(d.Log, "a caller's line")
			}
		})
	}
}

func TestDecideFwknopClientPackets(t *testing.T) {
	if _, err := exec.LookPath("fwknop"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("fwknop (package fwknop-client) is missing: make test installs it")
		}
		t.Skip("fwknop (package fwknop-client) is not installed; make test installs it")
	}
	const key64, hmac64 = "dGhpcy1pcy1hLTMyLWJ5dGUta2V5LWZvci10ZXN0cyE=", "aG1hYy1rZXktZm9yLWZ3a25vcC1jbGllbnQtdGVzdHMtaW4tc3BhZG9vcg=="
	for _, tt := range []struct {
		name, conf string
		args       []string
		allow      string
		timeout    time.Duration
	}{
		{"sha256", "KEY_BASE64 " + key64 + "\nHMAC_KEY_BASE64 " + hmac64 + "\n", []string{"--key-base64-rijndael", key64, "--key-base64-hmac", hmac64, "-a", "10.77.0.5"}, "10.77.0.5", 30 * time.Second},
		{"md5", "KEY_BASE64 " + key64 + "\nHMAC_KEY_BASE64 " + hmac64 + "\nHMAC_DIGEST_TYPE md5\n", []string{"--key-base64-rijndael", key64, "--key-base64-hmac", hmac64, "--hmac-digest-type", "md5", "-a", "10.77.0.5"}, "10.77.0.5", 30 * time.Second},
		{"sha1", "KEY_BASE64 " + key64 + "\nHMAC_KEY_BASE64 " + hmac64 + "\nHMAC_DIGEST_TYPE sha1\n", []string{"--key-base64-rijndael", key64, "--key-base64-hmac", hmac64, "--hmac-digest-type", "sha1", "-a", "10.77.0.5"}, "10.77.0.5", 30 * time.Second},
		{"sha384", "KEY_BASE64 " + key64 + "\nHMAC_KEY_BASE64 " + hmac64 + "\nHMAC_DIGEST_TYPE sha384\n", []string{"--key-base64-rijndael", key64, "--key-base64-hmac", hmac64, "--hmac-digest-type", "sha384", "-a", "10.77.0.5"}, "10.77.0.5", 30 * time.Second},
		{"sha512", "KEY_BASE64 " + key64 + "\nHMAC_KEY_BASE64 " + hmac64 + "\nHMAC_DIGEST_TYPE sha512\n", []string{"--key-base64-rijndael", key64, "--key-base64-hmac", hmac64, "--hmac-digest-type", "sha512", "-a", "10.77.0.5"}, "10.77.0.5", 30 * time.Second},
		{"sha3_256", "KEY_BASE64 " + key64 + "\nHMAC_KEY_BASE64 " + hmac64 + "\nHMAC_DIGEST_TYPE sha3_256\n", []string{"--key-base64-rijndael", key64, "--key-base64-hmac", hmac64, "--hmac-digest-type", "sha3_256", "-a", "10.77.0.5"}, "10.77.0.5", 30 * time.Second},
		{"sha3_512", "KEY_BASE64 " + key64 + "\nHMAC_KEY_BASE64 " + hmac64 + "\nHMAC_DIGEST_TYPE sha3_512\n", []string{"--key-base64-rijndael", key64, "--key-base64-hmac", hmac64, "--hmac-digest-type", "sha3_512", "-a", "10.77.0.5"}, "10.77.0.5", 30 * time.Second},
		{"plain key, no HMAC", "KEY a-plain-passphrase\n", []string{"--key-rijndael", "a-plain-passphrase", "-a", "10.77.0.5"}, "10.77.0.5", 30 * time.Second},
		{"legacy", "KEY shortkey\nENCRYPTION_MODE legacy\n", []string{"--key-rijndael", "shortkey", "-M", "legacy", "-a", "10.77.0.5"}, "10.77.0.5", 30 * time.Second},
		{"client timeout", "KEY_BASE64 " + key64 + "\nHMAC_KEY_BASE64 " + hmac64 + "\nMAX_FW_TIMEOUT 100\n", []string{"--key-base64-rijndael", key64, "--key-base64-hmac", hmac64, "-a", "10.77.0.5", "-f", "1000"}, "10.77.0.5", 100 * time.Second},
		{"-s", "KEY_BASE64 " + key64 + "\nHMAC_KEY_BASE64 " + hmac64 + "\n", []string{"--key-base64-rijndael", key64, "--key-base64-hmac", hmac64, "-s"}, "10.77.0.1", 30 * time.Second},
	} {
		t.Run(tt.name, func(t *testing.T) {
			file := t.TempDir() + "/packet"
			args := append([]string{"-A", "tcp/22", "-D", "127.0.0.1", "--test", "--save-packet", file, "--rc-file", os.DevNull}, tt.args...)
			if out, err := exec.Command("fwknop", args...).CombinedOutput(); err != nil {
				t.Fatalf("fwknop %v: %v\n%s", args, err, out)
			}
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			v := &Verifier{Stanzas: access(t, "SOURCE ANY\n"+tt.conf+"OPEN_PORTS tcp/22\n"), Aging: true, MaxAge: 120 * time.Second}
			d := v.Decide(Packet{Src: client, Dst: server, Data: []byte(strings.TrimSpace(string(data))), Time: time.Now()})
			if !d.OK || d.Allow.String() != tt.allow || d.Timeout != tt.timeout || len(d.Ports) != 1 || d.Ports[0].String() != "tcp/22" {
				t.Fatalf("%+v", d)
			}
		})
	}
}

func FuzzDecide(f *testing.F) {
	stanzas := accessF(f)
	m := spa.Message{Random: "1234567890123456", User: "alice", Time: now.Unix(), Version: spa.Version, Type: spa.AccessMsg, Access: "10.77.0.1,tcp/22"}
	p, _ := spa.Build(m, spa.SHA256, keys, rand.Reader)
	f.Add([]byte(p))
	f.Add([]byte(strings.Repeat("A", 200)))
	f.Fuzz(func(t *testing.T, data []byte) {
		// A verifier of its own for each input: a replay cache shared
		// between inputs would make an input's outcome depend on the
		// ones before it, and the fuzzer's minimizing chase that.
		v := &Verifier{Stanzas: stanzas, Aging: true, MaxAge: 120 * time.Second, Replays: memReplays{}}
		d := v.Decide(Packet{Src: client, Dst: server, Data: data, Time: now})
		if d.OK && (!d.Allow.IsValid() || len(d.Ports) == 0 || d.Timeout <= 0 || d.Timeout > 300*time.Second) {
			t.Fatalf("%+v", d)
		}
		if !d.OK && d.Reason == "" {
			t.Fatalf("refused without a reason: %+v", d)
		}
	})
}

func accessF(f *testing.F) []*fwknopconf.AccessEntry {
	a, err := fwknopconf.ParseAccess("access.conf", []byte(stanza), nil)
	if err != nil {
		f.Fatal(err)
	}
	return a.Stanzas
}

// forged is n forged packets of a real packet's length.
func forged(_ testing.TB, real []byte, n int) [][]byte { return flood.Forgeries(len(real), n, 26) }

// BenchmarkDecideForged is the cost of refusing a forged packet (valid
// base64 of a real packet's length, a wrong HMAC) with 1 and 20 stanzas
// whose SOURCE takes it, beside the floor: the HMAC each stanza must
// compute (BenchmarkHMACFloor), measured in the same run. Issue 26 aims at
// 1.3x the floor (x-floor), a figure to report, not a gate.
//
//	go test ./spadoor -run '^$' -bench 'DecideForged|HMACFloor' -benchmem
func BenchmarkDecideForged(b *testing.B) {
	real := packet(b, keys, nil)
	pkts := forged(b, real, 4096)
	floor := flood.HMACFloorNs(len(real) + len("U2FsdGVkX1") - 43)
	for _, n := range []int{1, 20} {
		b.Run(strconv.Itoa(n)+"-stanzas", func(b *testing.B) {
			conf := strings.Repeat("SOURCE ANY\nKEY another-passphrase\nHMAC_KEY another-hmac-key-xyz\n", n-1) + stanza
			v := &Verifier{Stanzas: access(b, conf), Aging: true, MaxAge: 120 * time.Second, Replays: memReplays{}}
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				if d := v.Decide(Packet{Src: client, Dst: server, Data: pkts[i%len(pkts)], Time: now}); d.OK {
					b.Fatal("a forged packet taken")
				}
			}
			per := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
			b.ReportMetric(per/(float64(n)*floor), "x-floor")
			fmt.Printf("forged packet, %d stanza(s): %.0f ns, %.2fx the floor of %d HMAC(s) at %.0f ns\n"+
				"  command: go test ./spadoor -run '^$' -bench 'DecideForged|HMACFloor' -benchmem\n", n, per, per/(float64(n)*floor), n, floor)
		})
	}
}

// BenchmarkHMACFloor is the HMAC-SHA256 of a real packet's length that a
// stanza must compute before it can refuse a forged packet.
func BenchmarkHMACFloor(b *testing.B) {
	mac, msg, sum := floorHMAC(b)
	b.ReportAllocs()
	for b.Loop() {
		mac.Reset()
		mac.Write(msg)
		sum = mac.Sum(sum[:0])
	}
}

func floorHMAC(tb testing.TB) (hash.Hash, []byte, []byte) {
	real := packet(tb, keys, nil)
	mac := hmac.New(sha256.New, keys.HMACKey)
	return mac, append([]byte("U2FsdGVkX1"), real[:len(real)-43]...), make([]byte, 0, mac.Size())
}

// TestDecideConcurrently: Decide is safe to run at once (knockd verifies
// on several cores): a packet's copies decided together are taken once,
// the rest refused as replays, with a replay cache (without one, each is
// taken, as fwknopd takes them); and no forgery among them is taken.
func TestDecideConcurrently(t *testing.T) {
	for _, replays := range []Replays{&memReplaysSync{m: memReplays{}}, nil} {
		v := &Verifier{Stanzas: access(t, "SOURCE ANY\nKEY another-passphrase\nHMAC_KEY another-hmac-key-xyz\n"+stanza), Replays: replays}
		good := packet(t, keys, nil)
		bad := forged(t, good, 64)
		var wg sync.WaitGroup
		var mu sync.Mutex
		taken, replayed := 0, 0
		for i := range 64 {
			wg.Add(2)
			go func() {
				defer wg.Done()
				d := v.Decide(Packet{Src: client, Dst: server, Data: good, Time: now})
				mu.Lock()
				defer mu.Unlock()
				switch {
				case d.OK:
					taken++
				case strings.HasPrefix(d.Reason, "Replay detected"):
					replayed++
				default:
					t.Errorf("a copy refused for %q", d.Reason)
				}
			}()
			go func() {
				defer wg.Done()
				if d := v.Decide(Packet{Src: client, Dst: server, Data: bad[i], Time: now}); d.OK {
					t.Error("a forgery taken")
				}
			}()
		}
		wg.Wait()
		if replays != nil && (taken != 1 || replayed != 63) {
			t.Errorf("with a replay cache: %d taken, %d replays; want 1 and 63", taken, replayed)
		}
		if replays == nil && taken != 64 {
			t.Errorf("without one: %d taken, %d replays; want every copy taken, as fwknopd without digest persistence", taken, replayed)
		}
	}
}

// memReplaysSync is memReplays behind a lock.
type memReplaysSync struct {
	mu sync.Mutex
	m  memReplays
}

func (r *memReplaysSync) Seen(d string) bool { r.mu.Lock(); defer r.mu.Unlock(); return r.m.Seen(d) }
func (r *memReplaysSync) Add(e Entry)        { r.mu.Lock(); defer r.mu.Unlock(); r.m.Add(e) }

// TestFwknopFuzzingPackets: the hostile packets of fwknop's test suite,
// with their key, are refused as fwknopd refuses them.
func TestFwknopFuzzingPackets(t *testing.T) {
	data, err := os.ReadFile("testdata/fwknop-fuzzing.txt")
	if err != nil {
		t.Fatal(err)
	}
	v := &Verifier{Stanzas: access(t, "SOURCE ANY\nKEY fwknoptest\nFW_ACCESS_TIMEOUT 3\nENCRYPTION_MODE legacy\n")}
	for _, line := range strings.Split(string(data), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, "|")
		if len(f) != 3 {
			t.Fatalf("testdata line %q: want 3 fields", line)
		}
		d := v.Decide(Packet{Src: client, Dst: server, Data: []byte(f[1]), Time: time.Unix(1400000000, 0)})
		if d.OK || !strings.Contains(d.Reason, f[2]) {
			t.Errorf("%s: ok %v, reason %q; fwknopd refuses it with %q", f[0], d.OK, d.Reason, f[2])
		}
	}
}
