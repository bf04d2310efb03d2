package knockdcmd

import (
	"bytes"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/knocktools/knock/fwknopconf"
)

// TestKeygen: knockd keygen prints a stanza knockd reads, with new keys
// of fwknop --key-gen's sizes each time, and with --qr the keys for a
// phone on standard error; flags that would make a stanza knockd refuses
// exit 2.
func TestKeygen(t *testing.T) {
	var keys []string
	for range 2 {
		var out, errs bytes.Buffer
		if code := Run([]string{"keygen", "--open-ports", "tcp/2222,udp/53", "--source", "10.77.0.0/16", "--qr"}, &out, &errs); code != 0 {
			t.Fatalf("exit %d: %s", code, errs.String())
		}
		a, err := fwknopconf.ParseAccess("keygen", out.Bytes(), nil)
		if err != nil || len(a.Stanzas) != 1 {
			t.Fatalf("the stanza does not read back: %v\n%s", err, out.String())
		}
		s := a.Stanzas[0]
		if len(s.Keys.Key) != 32 || len(s.Keys.HMACKey) != 64 || len(s.OpenPorts) != 2 || s.SourceAny {
			t.Fatalf("stanza %+v from\n%s", s, out.String())
		}
		if !strings.Contains(errs.String(), "Fwknop2") || !strings.Contains(errs.String(), "▀") {
			t.Fatalf("no QR code on stderr:\n%s", errs.String())
		}
		keys = append(keys, base64.StdEncoding.EncodeToString(s.Keys.Key))
	}
	if keys[0] == keys[1] {
		t.Fatal("the same key twice")
	}
	for _, args := range [][]string{{"--open-ports", "tcp/99999"}, {"--source", "ANY\nKEY x"}, {"--fw-timeout", "-3"}} {
		var out, errs bytes.Buffer
		if code := Run(append([]string{"keygen"}, args...), &out, &errs); code != 2 || out.Len() != 0 {
			t.Errorf("keygen %q: exit %d, stdout %q", args, code, out.String())
		}
	}
}
