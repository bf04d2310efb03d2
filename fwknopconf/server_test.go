package fwknopconf

import (
	"os"
	"strings"
	"testing"
)

func TestParseServer(t *testing.T) {
	s, err := ParseServer("fwknopd.conf", []byte(`# fwknopd.conf
PCAP_INTF                   wan0;
PCAP_FILTER                 udp dst port 40001;
ENABLE_SPA_PACKET_AGING     Y;
MAX_SPA_PACKET_AGE          60;
FWKNOP_RUN_DIR              /run/fwknop;
DIGEST_FILE                 $FWKNOP_RUN_DIR/digest.cache;
ENABLE_TCP_SERVER           Y;
TCPSERV_PORT                40002;
ENABLE_IPT_FORWARDING       N;
VERBOSE                     1;
SYSLOG_IDENTITY             fwknopd;
IPT_INPUT_ACCESS            ACCEPT, filter, INPUT, 1, FWKNOP_INPUT, 1;
ACCESS_FILE                 mine.conf;
`))
	if err != nil {
		t.Fatal(err)
	}
	if s.Interface != "wan0" || s.Port != 40001 || !s.Aging || s.MaxAge != 60 || s.DigestFile != "/run/fwknop/digest.cache" ||
		!s.TCPServer || s.TCPPort != 40002 || s.UDPPort != DefaultPort || s.AccessFile != "/etc/fwknop/mine.conf" ||
		s.Firewall["IPT_INPUT_ACCESS"] != "ACCEPT, filter, INPUT, 1, FWKNOP_INPUT, 1" ||
		strings.Join(s.Plumbing, ",") != "SYSLOG_IDENTITY (line 12),VERBOSE (line 11)" {
		t.Errorf("%+v", s)
	}
	def, err := ParseServer("empty.conf", nil)
	if err != nil || def.Port != DefaultPort || !def.DigestPersistence || def.DigestFile != DefaultRunDir+"/digest.cache" || def.AccessFile != DefaultAccessConf {
		t.Errorf("defaults %+v, %v", def, err)
	}
}

func TestParseServerErrors(t *testing.T) {
	for _, tt := range []struct{ conf, want string }{
		{"PCAP_FILTER udp port 62201 or tcp port 62201;\n", `f.conf:1: PCAP_FILTER "udp port 62201 or tcp port 62201": this knockd takes "udp port N"`},
		{"ENABLE_SPA_OVER_HTTP Y;\n", `f.conf:1: ENABLE_SPA_OVER_HTTP Y: SPA over HTTP is not served`},
		{"ENABLE_NFQ_CAPTURE Y;\n", `NFQ capture is not served`},
		{"ENABLE_IPT_FORWARDING Y;\n", `forwarding (NAT) is not served`},
		{"PCAP_INTFF eth0;\n", `f.conf:1: unknown fwknopd.conf key "PCAP_INTFF"`},
		{"MAX_SPA_PACKET_AGE abc;\n", `f.conf:1: MAX_SPA_PACKET_AGE "abc"`},
		{"TCPSERV_PORT 70000;\n", `want a port`},
		{"DIGEST_FILE $NOPE/x;\n", `$NOPE is no key set above`},
		{"PCAP_INTF eth0;\nPCAP_INTF eth1;\n", `f.conf:2: PCAP_INTF given twice (first at line 1)`},
		{"PCAP_INTF\n", `want NAME value`},
	} {
		if _, err := ParseServer("f.conf", []byte(tt.conf)); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q: %v, want %q", tt.conf, err, tt.want)
		}
	}
}

// Debian's fwknopd.conf, as fwknop-server 2.6.10 installs it, is taken
// unchanged (when it is on this machine).
func TestDebianServerConf(t *testing.T) {
	data, err := os.ReadFile("/etc/fwknop/fwknopd.conf")
	if err != nil {
		t.Skip("no /etc/fwknop/fwknopd.conf here (package fwknop-server)")
	}
	if _, err := ParseServer("/etc/fwknop/fwknopd.conf", data); err != nil {
		t.Fatal(err)
	}
}

func FuzzParseServer(f *testing.F) {
	f.Add([]byte("PCAP_INTF eth0;\nPCAP_FILTER udp port 62201;\nDIGEST_FILE $FWKNOP_RUN_DIR/d;\nENABLE_TCP_SERVER N;\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if s, err := ParseServer("f.conf", data); !failed(t, err, "f.conf:") &&
			(s.Port == 0 || s.UDPPort == 0 || s.TCPPort == 0 || s.MaxAge < 1 || s.AccessFile == "" || s.DigestFile == "") {
			t.Fatalf("%+v", s)
		}
	})
}

// failed reports whether a parser failed, its error naming the file and
// line (prefix) as every error must.
func failed(t *testing.T, err error, prefix string) bool {
	t.Helper()
	if err != nil && !strings.HasPrefix(err.Error(), prefix) {
		t.Fatalf("error without the file and line: %v", err)
	}
	return err != nil
}
