package fwknopconf

import (
	"strings"
	"testing"
)

func TestParseRC(t *testing.T) {
	rc, err := ParseRC("rc", []byte("# c\n[default]\nVERBOSE Y\n\n[srv]\nSPA_SERVER: 10.77.0.2\nkey\tsecret value\n"))
	if err != nil {
		t.Fatal(err)
	}
	if rc.Default == nil || rc.Default.Line != 2 || len(rc.Stanzas) != 1 {
		t.Fatalf("%+v", rc)
	}
	st := rc.Stanzas[0]
	want := []Directive{{"SPA_SERVER", "10.77.0.2", 6}, {"KEY", "secret value", 7}}
	if st.Name != "srv" || len(st.Directives) != 2 || st.Directives[0] != want[0] || st.Directives[1] != want[1] {
		t.Fatalf("%+v", st)
	}
	for text, msg := range map[string]string{
		"[srv\nX 1\n": `rc:1: stanza header "[srv" has no closing ]`,
		"X 1\n":       `rc:1: "X 1" is outside any [stanza]`,
	} {
		if _, err := ParseRC("rc", []byte(text)); err == nil || err.Error() != msg {
			t.Errorf("%q: %v, want %s", text, err, msg)
		}
	}
}

func FuzzParseRC(f *testing.F) {
	f.Add([]byte("[default]\nUSE_HMAC Y\n[s]\nSPA_SERVER h\nACCESS tcp/22\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		rc, err := ParseRC("rc", data)
		if failed(t, err, "rc:") {
			return
		}
		all := rc.Stanzas
		if rc.Default != nil {
			all = append(all, rc.Default)
		}
		for _, st := range all {
			for _, d := range st.Directives {
				if d.Key == "" || d.Key != strings.ToUpper(d.Key) || strings.ContainsAny(d.Key, " \t") || d.Line < st.Line {
					t.Fatalf("directive %+v of [%s]", d, st.Name)
				}
			}
		}
	})
}

func TestAccessStanzaFormat(t *testing.T) {
	got, err := AccessStanza{Source: "ANY", OpenPorts: "tcp/22", KeyBase64: "a2V5", HMACKeyBase64: "aG1hYw==", HMACDigestType: "SHA512", FWAccessTimeout: 30}.Format()
	want := "SOURCE                  ANY\nOPEN_PORTS              tcp/22\nKEY_BASE64              a2V5\nHMAC_KEY_BASE64         aG1hYw==\nHMAC_DIGEST_TYPE        SHA512\nFW_ACCESS_TIMEOUT       30\n"
	if err != nil || got != want {
		t.Fatalf("got\n%s%v\nwant\n%s", got, err, want)
	}
	// A value cannot end its line and start a directive of its own.
	if _, err := (AccessStanza{Source: "ANY", Key: "k\nCMD_CYCLE_OPEN touch /tmp/x"}).Format(); err == nil {
		t.Fatal("a key with a line break was written")
	}
}

// TestPhoneKeys: the line Fwknop2 scans holds the keys a stanza has, each
// as NAME:value, space-separated.
func TestPhoneKeys(t *testing.T) {
	for _, tt := range []struct {
		a    AccessStanza
		want string
	}{
		{AccessStanza{KeyBase64: "a2V5", HMACKeyBase64: "aG1hYw==", OpenPorts: "tcp/22"}, "KEY_BASE64:a2V5 HMAC_KEY_BASE64:aG1hYw=="},
		{AccessStanza{Key: "passphrase", HMACKey: "hmac"}, "KEY:passphrase HMAC_KEY:hmac"},
		{AccessStanza{KeyBase64: "a2V5"}, "KEY_BASE64:a2V5"},
	} {
		if got := tt.a.PhoneKeys(); got != tt.want {
			t.Errorf("%+v: %q, want %q", tt.a, got, tt.want)
		}
	}
}
