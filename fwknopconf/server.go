package fwknopconf

import (
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// Server is fwknopd.conf as this knockd reads it: the keys it honours
// (the capture, packet aging, the digest cache, the UDP and TCP servers,
// where access.conf is, the firewall keys that map onto knockd's), the
// keys of fwknopd's own plumbing (accepted, and listed as changing
// nothing here), and the keys that switch on what knockd does not serve,
// refused. A key fwknopd does not know is an error.
type Server struct {
	Path string

	Interface         string // PCAP_INTF
	Port              uint16 // the UDP port PCAP_FILTER captures (default 62201)
	Aging             bool   // ENABLE_SPA_PACKET_AGING (default Y)
	MaxAge            int    // MAX_SPA_PACKET_AGE, seconds (default 120)
	DigestPersistence bool   // ENABLE_DIGEST_PERSISTENCE (default Y)
	DigestFile        string // DIGEST_FILE (default $FWKNOP_RUN_DIR/digest.cache)
	UDPServer         bool   // ENABLE_UDP_SERVER: a socket instead of a capture
	UDPPort           uint16 // UDPSERV_PORT (default 62201)
	TCPServer         bool   // ENABLE_TCP_SERVER: SPA over TCP connections too
	TCPPort           uint16 // TCPSERV_PORT (default 62201)
	AccessFile        string // ACCESS_FILE (default $FWKNOP_CONF_DIR/access.conf)
	AccessFolder      string // ACCESS_FOLDER: every *.conf file in it, as more access.conf
	DestinationRule   bool   // ENABLE_DESTINATION_RULE: rules name the packet's destination too

	// Firewall is what the firewall keys say, by key (IPT_INPUT_ACCESS,
	// FIREWALL_EXE, ...), for the SPA doors' built-in firewall.
	Firewall map[string]string
	// Plumbing names the keys set that change nothing here, "NAME (line N)".
	Plumbing []string
}

// Defaults of fwknopd 2.6.
const (
	DefaultPort       = 62201
	DefaultMaxAge     = 120
	DefaultRunDir     = "/var/run/fwknop"
	DefaultConfDir    = "/etc/fwknop"
	DefaultServerConf = DefaultConfDir + "/fwknopd.conf"
	DefaultAccessConf = DefaultConfDir + "/access.conf"
)

// serverKey is how a fwknopd.conf key is taken.
type serverKey int

const (
	honoured serverKey = iota + 1
	firewallKey
	plumbing
	refusedIfYes // a Y/N that switches on what is not served
)

// serverKeys are fwknopd 2.6's keys (those of its iptables and firewalld
// builds, its BSD firewalls' as plumbing), and why some are refused.
var serverKeys = sync.OnceValue(func() map[string]serverKey {
	return map[string]serverKey{
		"PCAP_INTF": honoured, "PCAP_FILTER": honoured, "ENABLE_SPA_PACKET_AGING": honoured, "MAX_SPA_PACKET_AGE": honoured,
		"ENABLE_DIGEST_PERSISTENCE": honoured, "DIGEST_FILE": honoured, "DIGEST_DB_FILE": honoured,
		"ENABLE_UDP_SERVER": honoured, "UDPSERV_PORT": honoured, "ENABLE_TCP_SERVER": honoured, "TCPSERV_PORT": honoured,
		"FWKNOP_RUN_DIR": honoured, "FWKNOP_CONF_DIR": honoured, "ACCESS_FILE": honoured, "ACCESS_FOLDER": honoured,
		"ENABLE_DESTINATION_RULE": honoured,

		"FIREWALL_EXE": firewallKey, "IPT_INPUT_ACCESS": firewallKey, "FIREWD_INPUT_ACCESS": firewallKey,
		"FLUSH_IPT_AT_INIT": firewallKey, "FLUSH_IPT_AT_EXIT": firewallKey, "FLUSH_FIREWD_AT_INIT": firewallKey,
		"FLUSH_FIREWD_AT_EXIT": firewallKey, "ENABLE_IPT_COMMENT_CHECK": firewallKey, "ENABLE_FIREWD_COMMENT_CHECK": firewallKey,
		"ENABLE_RULE_PREPEND": firewallKey,

		"VERBOSE": plumbing, "LOCALE": plumbing, "SYSLOG_IDENTITY": plumbing, "SYSLOG_FACILITY": plumbing,
		"PCAP_DISPATCH_COUNT": plumbing, "PCAP_LOOP_SLEEP": plumbing, "ENABLE_PCAP_PROMISC": plumbing,
		"MAX_SNIFF_BYTES": plumbing, "ENABLE_PCAP_ANY_DIRECTION": plumbing, "EXIT_AT_INTF_DOWN": plumbing,
		"RULES_CHECK_THRESHOLD": plumbing, "CMD_EXEC_TIMEOUT": plumbing, "UDPSERV_SELECT_TIMEOUT": plumbing,
		"FWKNOP_PID_FILE": plumbing, "LOCK_FILE": plumbing, "PCAP_FILE": plumbing, "GPG_HOME_DIR": plumbing,
		"GPG_EXE": plumbing, "SUDO_EXE": plumbing, "ENABLE_NAT_DNS": plumbing, "ENABLE_IPT_LOCAL_NAT": plumbing,
		"ENABLE_FIREWD_LOCAL_NAT": plumbing, "SNAT_TRANSLATE_IP": plumbing, "ENABLE_X_FORWARDED_FOR": plumbing,
		"IPT_OUTPUT_ACCESS": plumbing, "IPT_FORWARD_ACCESS": plumbing, "IPT_DNAT_ACCESS": plumbing,
		"IPT_SNAT_ACCESS": plumbing, "IPT_MASQUERADE_ACCESS": plumbing, "FIREWD_OUTPUT_ACCESS": plumbing,
		"FIREWD_FORWARD_ACCESS": plumbing, "FIREWD_DNAT_ACCESS": plumbing, "FIREWD_SNAT_ACCESS": plumbing,
		"FIREWD_MASQUERADE_ACCESS": plumbing, "NFQ_INTERFACE": plumbing, "NFQ_PORT": plumbing, "NFQ_TABLE": plumbing,
		"NFQ_QUEUE_NUMBER": plumbing, "IPFW_START_RULE_NUM": plumbing, "IPFW_MAX_RULES": plumbing,
		"FLUSH_IPFW_AT_INIT": plumbing, "FLUSH_IPFW_AT_EXIT": plumbing, "IPFW_ACTIVE_SET_NUM": plumbing,
		"IPFW_EXPIRE_SET_NUM": plumbing, "IPFW_EXPIRE_PURGE_INTERVAL": plumbing, "IPFW_ADD_CHECK_STATE": plumbing,
		"PF_ANCHOR_NAME": plumbing, "PF_EXPIRE_INTERVAL": plumbing, "EXTERNAL_CMD_OPEN": plumbing,
		"EXTERNAL_CMD_CLOSE": plumbing, "EXTERNAL_CMD_ALARM": plumbing, "ENABLE_EXT_CMD_PREFIX": plumbing,
		"EXT_CMD_PREFIX": plumbing, "FAULT_INJECTION_TAG": plumbing,

		"ENABLE_SPA_OVER_HTTP": refusedIfYes, "ENABLE_NFQ_CAPTURE": refusedIfYes, "ENABLE_IPT_FORWARDING": refusedIfYes,
		"ENABLE_FIREWD_FORWARDING": refusedIfYes, "ENABLE_IPT_SNAT": refusedIfYes, "ENABLE_FIREWD_SNAT": refusedIfYes,
		"ENABLE_IPT_OUTPUT": refusedIfYes, "ENABLE_FIREWD_OUTPUT": refusedIfYes, "ENABLE_EXTERNAL_CMDS": refusedIfYes,
	}
})

// refusedWhy says what a refusedIfYes key switches on.
var refusedWhy = sync.OnceValue(func() map[string]string {
	return map[string]string{
		"ENABLE_SPA_OVER_HTTP": "SPA over HTTP", "ENABLE_NFQ_CAPTURE": "NFQ capture",
		"ENABLE_IPT_FORWARDING": "forwarding (NAT)", "ENABLE_FIREWD_FORWARDING": "forwarding (NAT)",
		"ENABLE_IPT_SNAT": "SNAT", "ENABLE_FIREWD_SNAT": "SNAT", "ENABLE_IPT_OUTPUT": "OUTPUT chain rules",
		"ENABLE_FIREWD_OUTPUT": "OUTPUT chain rules", "ENABLE_EXTERNAL_CMDS": "external commands (use CMD_CYCLE_OPEN in access.conf)",
	}
})

// pcapFilter is what PCAP_FILTER may say: SPA packets to one UDP port.
var pcapFilter = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^udp\s+(?:dst\s+)?port\s+(\d+)$`) })

// ParseServer reads fwknopd.conf text; path names it in errors. Values
// may start with $NAME, another key's value (fwknopd expands one such
// variable at the start of a value).
func ParseServer(path string, data []byte) (*Server, error) {
	s := &Server{Path: path, Port: DefaultPort, Aging: true, MaxAge: DefaultMaxAge, DigestPersistence: true,
		UDPPort: DefaultPort, TCPPort: DefaultPort, Firewall: map[string]string{}}
	vals := map[string]string{"FWKNOP_RUN_DIR": DefaultRunDir, "FWKNOP_CONF_DIR": DefaultConfDir}
	seen := map[string]int{}
	err := lines(path, data, func(n int, key, value string) error {
		name := strings.ToUpper(key)
		class, known := serverKeys()[name]
		if !known {
			return lineErr(path, n, "unknown fwknopd.conf key %q", key)
		}
		if prev, dup := seen[name]; dup {
			return lineErr(path, n, "%s given twice (first at line %d)", name, prev)
		}
		seen[name] = n
		if v, ok := strings.CutPrefix(value, "$"); ok {
			i := strings.IndexFunc(v, func(r rune) bool { return !(r >= 'A' && r <= 'Z' || r == '_') })
			if i < 0 {
				i = len(v)
			}
			ref, ok := vals[v[:i]]
			if !ok {
				return lineErr(path, n, "%s: $%s is no key set above", name, v[:i])
			}
			value = ref + v[i:]
		}
		vals[name] = value
		switch class {
		case plumbing:
			s.Plumbing = append(s.Plumbing, fmt.Sprintf("%s (line %d)", name, n))
			return nil
		case firewallKey:
			s.Firewall[name] = value
			return nil
		case refusedIfYes:
			on, err := yesNo(name, value)
			if err != nil {
				return lineErr(path, n, "%v", err)
			}
			if on {
				return lineErr(path, n, "%s Y: %s is not served by this knockd", name, refusedWhy()[name])
			}
			return nil
		}
		if err := s.set(name, value); err != nil {
			return lineErr(path, n, "%v", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if s.DigestFile == "" {
		s.DigestFile = filepath.Join(vals["FWKNOP_RUN_DIR"], "digest.cache")
	}
	if s.AccessFile == "" {
		s.AccessFile = "access.conf"
	}
	if !filepath.IsAbs(s.AccessFile) {
		s.AccessFile = filepath.Join(vals["FWKNOP_CONF_DIR"], s.AccessFile)
	}
	slices.Sort(s.Plumbing)
	return s, nil
}

func (s *Server) set(name, v string) (err error) {
	port := func() (uint16, error) {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 65535 {
			return 0, fmt.Errorf("%s %q: want a port, 1-65535", name, v)
		}
		return uint16(n), nil
	}
	switch name {
	case "PCAP_INTF":
		s.Interface = v
	case "PCAP_FILTER":
		m := pcapFilter().FindStringSubmatch(strings.ToLower(strings.TrimSpace(v)))
		n := 0
		if m != nil {
			n, err = strconv.Atoi(m[1])
		}
		if m == nil || err != nil || n < 1 || n > 65535 {
			return fmt.Errorf("PCAP_FILTER %q: this knockd takes \"udp port N\" or \"udp dst port N\" (its kernel filter is its own)", v)
		}
		s.Port = uint16(n)
	case "ENABLE_SPA_PACKET_AGING":
		s.Aging, err = yesNo(name, v)
	case "MAX_SPA_PACKET_AGE":
		s.MaxAge, err = seconds(name, v, 1)
	case "ENABLE_DIGEST_PERSISTENCE":
		s.DigestPersistence, err = yesNo(name, v)
	case "DIGEST_FILE", "DIGEST_DB_FILE":
		s.DigestFile = v
	case "ENABLE_UDP_SERVER":
		s.UDPServer, err = yesNo(name, v)
	case "UDPSERV_PORT":
		s.UDPPort, err = port()
	case "ENABLE_TCP_SERVER":
		s.TCPServer, err = yesNo(name, v)
	case "TCPSERV_PORT":
		s.TCPPort, err = port()
	case "ACCESS_FILE":
		s.AccessFile = v
	case "ACCESS_FOLDER":
		s.AccessFolder = v
	case "ENABLE_DESTINATION_RULE":
		s.DestinationRule, err = yesNo(name, v)
	case "FWKNOP_RUN_DIR", "FWKNOP_CONF_DIR":
		if !filepath.IsAbs(v) {
			return fmt.Errorf("%s %q: want an absolute path", name, v)
		}
	}
	return err
}
