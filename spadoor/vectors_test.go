package spadoor

import (
	"os"
	"strings"
	"testing"
	"time"
)

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
