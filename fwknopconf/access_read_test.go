package fwknopconf

import (
	"errors"
	"io/fs"
	"net/netip"
	"path"
	"strings"
	"testing"
	"time"

	"github.com/knocktools/knock"
	"github.com/knocktools/knock/spa"
)

// memFiles are files for ParseAccess's includes.
type memFiles map[string]string

func (m memFiles) ReadFile(p string) ([]byte, error) {
	if s, ok := m[p]; ok {
		return []byte(s), nil
	}
	return nil, fs.ErrNotExist
}

func (m memFiles) ReadDir(dir string) ([]string, error) {
	var out []string
	for p := range m {
		if path.Dir(p) == dir {
			out = append(out, path.Base(p))
		}
	}
	return out, nil
}

func TestParseAccess(t *testing.T) {
	files := memFiles{
		"/etc/fwknop/more.conf":      "SOURCE 10.77.0.0/16, fd77::/16\nKEY_BASE64 c2VjcmV0LXNlY3JldC0xMjM0NQ==\nHMAC_KEY_BASE64 aG1hYy1rZXktMTIzNDU2Nzg5MA==\nREQUIRE_SOURCE_ADDRESS Y\n",
		"/etc/fwknop/d/b.conf":       "SOURCE 192.168.0.0/255.255.0.0\nKEY b-key-passphrase\nREQUIRE_SOURCE Y\n",
		"/etc/fwknop/d/a.conf":       "SOURCE 10.1.2.3\n%include_keys /etc/fwknop/keys/a\nREQUIRE_SOURCE_ADDRESS Y\n",
		"/etc/fwknop/d/ignored.txt":  "not read",
		"/etc/fwknop/keys/a":         "KEY: a-key-passphrase\nHMAC_KEY a-hmac-key-xyz\nHMAC_DIGEST_TYPE sha512\n",
		"/etc/fwknop/access.conf.in": "",
	}
	a, err := ParseAccess("/etc/fwknop/access.conf", []byte(`# comment
; also a comment
SOURCE              ANY
DESTINATION         10.77.0.2, fd77::2
OPEN_PORTS          tcp/22, udp/53
RESTRICT_PORTS      tcp/23
KEY                 passphrase1234;  the rest is fwknop's comment
HMAC_KEY_BASE64     aG1hYy1rZXktZm9yLXRlc3Q=
HMAC_DIGEST_TYPE    SHA384
ENCRYPTION_MODE     legacy
FW_ACCESS_TIMEOUT   60
MAX_FW_TIMEOUT      120
REQUIRE_USERNAME    alice
REQUIRE_SOURCE_ADDRESS  Y
ACCESS_EXPIRE_EPOCH 2000000000
CMD_CYCLE_OPEN      /usr/sbin/iptables -I INPUT -s $SRC -p $PROTO --dport $PORT -j ACCEPT
CMD_CYCLE_CLOSE     /usr/sbin/iptables -D INPUT -s $SRC -p $PROTO --dport $PORT -j ACCEPT
CMD_CYCLE_TIMER     $TIMEOUT
%include more.conf
%include_folder /etc/fwknop/d/
`), files)
	if err == nil || !strings.Contains(err.Error(), `access.conf:18: CMD_CYCLE_TIMER "$TIMEOUT"`) {
		t.Fatalf("a timer that is no number: %v", err)
	}
	conf := "SOURCE ANY\nKEY passphrase1234\nHMAC_KEY_BASE64 aG1hYy1rZXktZm9yLXRlc3Q=\nHMAC_DIGEST_TYPE SHA384\nENCRYPTION_MODE legacy\n" +
		"DESTINATION 10.77.0.2, fd77::2\nOPEN_PORTS tcp/22, udp/53\nRESTRICT_PORTS tcp/23\nFW_ACCESS_TIMEOUT 60\nMAX_FW_TIMEOUT 120\n" +
		"REQUIRE_USERNAME alice\nREQUIRE_SOURCE_ADDRESS Y\nACCESS_EXPIRE_EPOCH 2000000000\n" +
		"CMD_CYCLE_OPEN /usr/sbin/iptables -I INPUT -s $SRC -j ACCEPT\nCMD_CYCLE_CLOSE NONE\n" +
		"%include more.conf\n%include_folder /etc/fwknop/d/\n"
	if a, err = ParseAccess("/etc/fwknop/access.conf", []byte(conf), files); err != nil {
		t.Fatal(err)
	}
	if len(a.Stanzas) != 4 || strings.Join(a.Files, " ") != "/etc/fwknop/access.conf /etc/fwknop/more.conf /etc/fwknop/d/a.conf /etc/fwknop/keys/a /etc/fwknop/d/b.conf" {
		t.Fatalf("%d stanzas from %q", len(a.Stanzas), a.Files)
	}
	s := a.Stanzas[0]
	if !s.SourceAny || s.DestinationAny || len(s.Destination) != 2 || s.Destination[1] != netip.MustParsePrefix("fd77::2/128") ||
		len(s.OpenPorts) != 2 || s.OpenPorts[1] != (knock.ProtoPort{Proto: "udp", Port: 53}) || s.RestrictPorts[0].String() != "tcp/23" ||
		string(s.Keys.Key) != "passphrase1234" || s.Keys.Mode != spa.Legacy || s.Keys.HMAC != spa.SHA384 || string(s.Keys.HMACKey) != "hmac-key-for-test" ||
		s.FWAccessTimeout != 60 || s.MaxFWTimeout != 120 || s.RequireUsername != "alice" || !s.RequireSourceAddress ||
		!s.AccessExpire.Equal(time.Unix(2000000000, 0)) || !s.CloseNone || s.CmdCycleClose != "" {
		t.Errorf("stanza 1: %+v", s)
	}
	if s := a.Stanzas[1]; len(s.Source) != 2 || s.Source[0] != netip.MustParsePrefix("10.77.0.0/16") || s.Keys.HMAC != spa.SHA256 ||
		s.FWAccessTimeout != DefaultFWAccessTimeout || s.MaxFWTimeout != DefaultMaxFWTimeout || !s.DestinationAny || s.File != "/etc/fwknop/more.conf" {
		t.Errorf("stanza 2: %+v", s)
	}
	if s := a.Stanzas[2]; string(s.Keys.Key) != "a-key-passphrase" || s.Keys.HMAC != spa.SHA512 || s.Source[0] != netip.MustParsePrefix("10.1.2.3/32") {
		t.Errorf("stanza 3 (keys included): %+v", s)
	}
	if s := a.Stanzas[3]; s.Source[0] != netip.MustParsePrefix("192.168.0.0/16") || s.Keys.HMACKey != nil {
		t.Errorf("stanza 4 (dotted mask, no HMAC): %+v", s)
	}
	if len(a.Warnings) != 0 {
		t.Errorf("warnings %q", a.Warnings)
	}
}

func TestParseAccessErrors(t *testing.T) {
	const keys = "KEY_BASE64 c2VjcmV0LXNlY3JldC0xMjM0NQ==\n"
	for _, tt := range []struct{ conf, want string }{
		{"KEY x\n", `a.conf:1: KEY before any SOURCE`},
		{"SOURCE ANY\n", `a.conf:1: stanza SOURCE ANY: no KEY or KEY_BASE64`},
		{"SOURCE ANY\nKEY_BASE64 __CHANGEME__\n", `a.conf:2: KEY_BASE64 is __CHANGEME__`},
		{"SOURCE ANY\nKEY_BASE64 !!!\n", `a.conf:2: KEY_BASE64: not base64`},
		{"SOURCE 10.0.0.300\n" + keys, `a.conf:1: SOURCE "10.0.0.300": "10.0.0.300" is not an address`},
		{"SOURCE 10.0.0.0/33\n" + keys, `/33: want 1-32`},
		{"SOURCE 10.0.0.0/255.0.255.0\n" + keys, `not a mask of leading ones`},
		{"SOURCE ANY,10.0.0.1\n" + keys, `ANY in a list`},
		{"SOURCE ANY\n" + keys + "OPEN_PORTS tcp/22,icmp/1\n", `a.conf:3: OPEN_PORTS "icmp/1": want proto/port`},
		{"SOURCE ANY\n" + keys + "KEY other\n", `a.conf:3: KEY given twice in this stanza (first at line 2)`},
		{"SOURCE ANY\n" + keys + "GPG_DECRYPT_ID ABCD\n", `a.conf:3: GPG_DECRYPT_ID: GnuPG is not served by this knockd`},
		{"SOURCE ANY\n" + keys + "ENABLE_CMD_EXEC Y\n", `a.conf:3: ENABLE_CMD_EXEC Y: command messages are not served`},
		{"SOURCE ANY\n" + keys + "FORCE_NAT 192.168.1.2 22\n", `a.conf:3: FORCE_NAT: NAT is not served`},
		{"SOURCE ANY\n" + keys + "ENCRYPTION_MODE ctr\n", `a.conf:3: ENCRYPTION_MODE ctr: not served`},
		{"SOURCE ANY\n" + keys + "HMAC_DIGEST_TYPE sha999\n", `a.conf:3: HMAC_DIGEST_TYPE: digest "sha999"`},
		{"SOURCE ANY\n" + keys + "FW_ACCESS_TIMEOUT -1\n", `a.conf:3: FW_ACCESS_TIMEOUT "-1": want 0 to`},
		{"SOURCE ANY\n" + keys + "REQUIRE_SOURCE_ADDRESS maybe\n", `want Y or N`},
		{"SOURCE ANY\n" + keys + "SOURCES ANY\n", `a.conf:3: unknown access.conf directive "SOURCES"`},
		{"SOURCE ANY\n" + keys + "KEY\n", `a.conf:3: "KEY": want NAME value`},
		{"SOURCE ANY\n" + keys + "CMD_CYCLE_OPEN true\n", `a.conf:1: CMD_CYCLE_OPEN without CMD_CYCLE_CLOSE`},
		{"SOURCE ANY\n" + keys + "CMD_CYCLE_OPEN true\nCMD_CYCLE_CLOSE true\n", `needs CMD_CYCLE_TIMER`},
		{"SOURCE ANY\n" + keys + "CMD_CYCLE_CLOSE true\n", `CMD_CYCLE_CLOSE without CMD_CYCLE_OPEN`},
		{"SOURCE ANY\nKEY same-key\nHMAC_KEY same-key\n", `the encryption and HMAC keys are the same`},
		{"SOURCE ANY\n" + keys + "ACCESS_EXPIRE 2026-01-01\n", `want MM/DD/YYYY`},
		{"%include nowhere.conf\n", `a.conf:1: %include: nowhere.conf: file does not exist`},
		{"# nothing\n", `a.conf: no stanza`},
	} {
		_, err := ParseAccess("a.conf", []byte(tt.conf), memFiles{})
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q: %v, want %q", tt.conf, err, tt.want)
		}
	}
	// Includes go three deep at most; a loop ends there too.
	loop := memFiles{"/a.conf": "%include /a.conf\n"}
	if _, err := ParseAccess("/a.conf", nil, loop); err == nil || !strings.Contains(err.Error(), "included more than 3 deep") {
		t.Errorf("an include loop: %v", err)
	}
	// What fwknopd warns about, this does too.
	a, err := ParseAccess("a.conf", []byte("SOURCE ANY\nKEY_BASE64 c2VjcmV0LXNlY3JldC0xMjM0NTY3ODkwYWJjZGVm\nENCRYPTION_MODE legacy\nMAX_FW_TIMEOUT 10\n"), nil)
	if err != nil || len(a.Warnings) != 3 || len(a.Stanzas[0].Keys.Key) != 16 {
		t.Errorf("warnings %q, %v", a.Warnings, err)
	}
}

func FuzzParseAccess(f *testing.F) {
	f.Add([]byte("SOURCE ANY\nKEY_BASE64 c2VjcmV0LXNlY3JldC0xMjM0NQ==\nOPEN_PORTS tcp/22\nREQUIRE_SOURCE_ADDRESS Y\n"))
	f.Add([]byte("SOURCE 10.0.0.0/255.255.255.0, fd77::/16\nKEY abcdefgh\nHMAC_KEY 12345678\nCMD_CYCLE_OPEN a\nCMD_CYCLE_CLOSE NONE\n%include_keys k\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		a, err := ParseAccess("a.conf", data, memFiles{"k": "HMAC_DIGEST_TYPE md5\n"})
		var pe *fs.PathError
		switch {
		case err != nil && !strings.HasPrefix(err.Error(), "a.conf") && !strings.HasPrefix(err.Error(), "k:") && !errors.As(err, &pe):
			t.Fatalf("error without the file: %v", err)
		case err != nil:
			return
		}
		for _, s := range a.Stanzas {
			if s.Keys.Validate() != nil || s.FWAccessTimeout < 1 || s.MaxFWTimeout < 1 || s.SourceAny == (len(s.Source) > 0) {
				t.Fatalf("stanza %+v", s)
			}
			if s.CmdCycleOpen != "" && !s.CloseNone && (s.CmdCycleClose == "" || s.CmdCycleTimer < 1) {
				t.Fatalf("command cycle %+v", s)
			}
		}
	})
}
