package transfer

import (
	"strings"
	"testing"
	"time"
)

func TestParseFwknoprc(t *testing.T) {
	rc := `# ~/.fwknoprc
[default]
DIGEST_TYPE         sha512
HMAC_DIGEST_TYPE    sha256
SPA_SERVER_PORT     40001
VERBOSE             Y

[web]
SPA_SERVER          10.77.0.5
ACCESS              tcp/22,tcp/443
ALLOW_IP            resolve
RESOLVE_URL         https://ip.example/
KEY_BASE64          AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=
HMAC_KEY_BASE64     AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8AAQ==
TIME_OFFSET         -5m
FW_TIMEOUT          60
SERVER_RESOLVE_IPV4 Y
NAT_ACCESS          192.0.2.9:2222

[nohmac]
USE_HMAC            N
SPA_SERVER          10.77.0.6
ACCESS              udp/53
KEY                 a passphrase
HMAC_KEY            ignored without USE_HMAC

[gpg]
SPA_SERVER          h
ACCESS              tcp/22
USE_GPG             Y

[bad port]
SPA_SERVER          h
SPA_SERVER_PORT     70000

[icmp]
SPA_SERVER          h
SPA_SERVER_PROTO    icmp
`
	got, err := ParseFwknoprc("rc", []byte(rc))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 5 {
		t.Fatalf("%d stanzas", len(got))
	}
	web := got[0]
	s := web.Profile.SPA
	if web.Err != nil || web.Profile.Host != "10.77.0.5" || s.Access != "tcp/22,tcp/443" || s.AllowIP != "resolve" ||
		s.DigestType != "sha512" || s.HMACDigestType != "sha256" || s.ServerPort != 40001 || s.FWTimeout != 60 ||
		time.Duration(s.TimeOffset) != -5*time.Minute || web.Profile.Family != 4 || s.NATAccess != "192.0.2.9,2222" {
		t.Errorf("web: %+v %+v %v", web.Profile, s, web.Err)
	}
	if strings.Join(web.Ignored, ";") != "VERBOSE (line 6)" {
		t.Errorf("web ignored %q", web.Ignored)
	}
	if n := got[1]; n.Err != nil || n.Profile.SPA.HasHMAC() || n.Profile.SPA.Key != "a passphrase" {
		t.Errorf("nohmac: %+v %v", n.Profile.SPA, n.Err)
	}
	for i, want := range []string{"rc:30: [gpg]: USE_GPG Y: knock sends Rijndael", "rc:34: [bad port]: SPA_SERVER_PORT 70000", "rc:38: [icmp]: SPA_SERVER_PROTO icmp"} {
		if e := got[2+i].Err; e == nil || !strings.Contains(e.Error(), want) {
			t.Errorf("stanza %d: %v, want %q", 3+i, e, want)
		}
	}
	if _, err := ParseFwknoprc("rc", []byte("KEY x\n")); err == nil || !strings.Contains(err.Error(), "rc:1: ") {
		t.Errorf("a line outside any stanza: %v", err)
	}
}

func FuzzParseFwknoprc(f *testing.F) {
	f.Add("[default]\nDIGEST_TYPE sha256\n[a]\nSPA_SERVER h\nACCESS tcp/22\nKEY k\n")
	f.Add("[x\n")
	f.Fuzz(func(t *testing.T, rc string) {
		stanzas, err := ParseFwknoprc("rc", []byte(rc))
		if err != nil {
			if !strings.HasPrefix(err.Error(), "rc:") {
				t.Fatalf("error without file and line: %v", err)
			}
			return
		}
		for _, s := range stanzas {
			if s.Err == nil {
				if err := s.Profile.Validate(false); err != nil {
					t.Fatalf("stanza %q imported but invalid: %v", s.Name, err)
				}
			} else if !strings.HasPrefix(s.Err.Error(), "rc:") {
				t.Fatalf("stanza error without file and line: %v", s.Err)
			}
		}
	})
}
