package spa

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// libfko's limits on a decrypted message's fields (fko_limits.h), which
// fwknopd 2.6 enforces as it decodes.
const (
	maxUserField    = 64  // MAX_SPA_USERNAME_SIZE, of the base64 field
	maxMessage      = 256 // MAX_SPA_MESSAGE_SIZE: the access and NAT fields, base64 and plain
	maxTimeField    = 12  // MAX_SPA_TIMESTAMP_SIZE
	maxVersionField = 8   // MAX_SPA_VERSION_SIZE
	maxTypeField    = 2   // MAX_SPA_MESSAGE_TYPE_SIZE
	maxIPv4Text     = 16  // MAX_IPV4_STR_LEN, with its terminator
	maxProtoText    = 4   // MAX_PROTO_STR_LEN: "tcp/"
	maxPortText     = 5   // MAX_PORT_STR_LEN
	maxNATHost      = 70  // MAX_HOSTNAME_LEN: fwknop 2.6.10 takes 70, refuses 71 (TestCheckNATHostLength)
	maxClientTime   = 2 << 15
	// MaxPacket is the longest packet fwknopd takes for a Rijndael
	// stanza: from 400 bytes on it reads a packet as GnuPG's
	// (MIN_GNUPG_MSG_SIZE), so Build refuses to make one.
	MaxPacket = 399
)

// InvalidData is libfko's refusal of a message that decrypted but whose
// fields break its rules; fwknopd logs it as "Error creating fko context:
// Args contain invalid data: FKO_ERROR_INVALID_DATA_<Code>".
type InvalidData struct {
	Code   string // DECODE_ACCESS_VALIDFAIL, ...
	Detail string // what was wrong, for a person
}

func (e *InvalidData) Error() string {
	return "Args contain invalid data: FKO_ERROR_INVALID_DATA_" + e.Code + " (" + e.Detail + ")"
}

func invalid(code, format string, a ...any) error {
	return &InvalidData{Code: code, Detail: fmt.Sprintf(format, a...)}
}

// checkFields applies libfko's rules to the raw fields of a plaintext
// (digest removed): sizes, numbers, and how many fields the type has.
func checkFields(f []string) error {
	if len(f[1]) == 0 || len(f[1]) > maxUserField {
		return invalid("DECODE_USERNAME_TOOBIG", "user field of %d bytes: 1 to %d", len(f[1]), maxUserField)
	}
	if len(f[2]) == 0 || len(f[2]) > maxTimeField || strings.Trim(f[2], "0123456789") != "" {
		return invalid("DECODE_TIMESTAMP_DECODEFAIL", "time %.20q: 1 to %d digits", f[2], maxTimeField)
	}
	if len(f[3]) == 0 || len(f[3]) > maxVersionField {
		return invalid("DECODE_VERSION_TOOBIG", "version of %d bytes: 1 to %d", len(f[3]), maxVersionField)
	}
	t, err := strconv.Atoi(f[4])
	if len(f[4]) == 0 || len(f[4]) > maxTypeField || err != nil || t < CommandMsg || t > ClientTimeoutLocalNATAccessMsg {
		return invalid("DECODE_MSGTYPE_DECODEFAIL", "message type %.20q", f[4])
	}
	// After the type: the message, then as many as the type has of NAT
	// access, client timeout and the deprecated server auth.
	most := 2
	if hasNAT(t) {
		most++
	}
	if hasTimeout(t) {
		most++
	}
	if len(f)-5 > most {
		return invalid("DECODE_WRONG_NUM_FIELDS", "%d fields after the message type, at most %d for type %d", len(f)-5, most, t)
	}
	if len(f[5]) == 0 || len(f[5]) > maxMessage {
		return invalid("DECODE_MESSAGE_TOOBIG", "message field of %d bytes: 1 to %d", len(f[5]), maxMessage)
	}
	if hasNAT(t) && len(f) > 6 && (len(f[6]) == 0 || len(f[6]) > maxMessage) {
		return invalid("DECODE_NATACCESS_TOOBIG", "NAT access field of %d bytes: 1 to %d", len(f[6]), maxMessage)
	}
	return nil
}

// checkMessage applies libfko's rules to a message's decoded fields, the
// ones knock's client also holds itself to.
func (m Message) checkMessage() error {
	if err := CheckUser(m.User); err != nil {
		return err
	}
	if m.Type == CommandMsg {
		if _, rest, ok := strings.Cut(m.Access, ","); !ok || rest == "" || !allowIP(m.Access[:strings.IndexByte(m.Access, ',')]) {
			return invalid("DECODE_MESSAGE_VALIDFAIL", "command message %.40q: want IP,command", m.Access)
		}
	} else if err := CheckAccess(m.Access); err != nil {
		return err
	}
	if hasNAT(m.Type) {
		if err := checkNAT(m.NATAccess); err != nil {
			return err
		}
	}
	if hasTimeout(m.Type) && m.Timeout > maxClientTime {
		return invalid("DECODE_TIMEOUT_DECODEFAIL", "client timeout %d: at most %d", m.Timeout, maxClientTime)
	}
	return nil
}

// CheckAccess checks an access message as libfko does ("IP,proto/port"
// items: tcp or udp, ports 1 to 65535), with one addition of ours: the
// IP may be an IPv6 address, which knockd takes (fwknopd does not).
func CheckAccess(access string) error {
	ip, items, ok := strings.Cut(access, ",")
	switch {
	case len(access) >= maxMessage:
		return invalid("DECODE_ACCESS_VALIDFAIL", "access message of %d bytes: under %d", len(access), maxMessage)
	case !allowIP(ip):
		return invalid("DECODE_ACCESS_VALIDFAIL", "access message %.60q: %.40q is no IP address", access, ip)
	case !ok || items == "":
		return invalid("DECODE_ACCESS_VALIDFAIL", "access message %.60q: no proto/port", access)
	}
	for _, item := range strings.Split(items, ",") {
		proto, port, ok := strings.Cut(item, "/")
		if !ok || !(strings.HasPrefix(proto, "tcp") || strings.HasPrefix(proto, "udp") || strings.HasPrefix(proto, "icmp") || strings.HasPrefix(proto, "none")) ||
			len(proto)+1 > maxProtoText || !validPort(port) {
			return invalid("DECODE_ACCESS_VALIDFAIL", "access item %.40q: want tcp/PORT or udp/PORT, PORT 1 to 65535", item)
		}
	}
	return nil
}

// allowIP is libfko's test of the address in a message (a dotted IPv4
// address), or an IPv6 address.
func allowIP(s string) bool {
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return false
	}
	return a.Is6() || len(s) < maxIPv4Text
}

// validPort is libfko's have_port: 1 to 5 digits, 1 to 65535.
func validPort(s string) bool {
	if len(s) == 0 || len(s) > maxPortText || strings.Trim(s, "0123456789") != "" {
		return false
	}
	n, _ := strconv.Atoi(s)
	return n >= 1 && n <= 65535
}

// checkNAT is libfko's check of a NAT access: "host,port".
func checkNAT(nat string) error {
	host, port, _ := strings.Cut(nat, ",")
	if len(nat) >= maxMessage || strings.Count(nat, ",") != 1 || len(host) > maxNATHost ||
		strings.ContainsAny(host, " /?\"'\\") || !validPort(port) {
		return invalid("DECODE_NATACCESS_VALIDFAIL", "NAT access %.60q: want HOST,PORT", nat)
	}
	return nil
}

// CheckUser is libfko's rule for the user name a message carries: 1 to
// 48 bytes (64 in base64), printable ASCII without " / \ [ ] : ; | = , +
// * ? < >.
func CheckUser(u string) error {
	if u == "" || len(encode64([]byte(u))) > maxUserField {
		return invalid("DECODE_USERNAME_TOOBIG", "user of %d bytes: 1 to 48 (%d in base64)", len(u), maxUserField)
	}
	for i := 0; i < len(u); i++ {
		if c := u[i]; c < 0x20 || c > 0x7e || strings.IndexByte(`"/\[]:;|=,+*?<>`, c) >= 0 {
			return invalid("DECODE_USERNAME_VALIDFAIL", "user %.40q: %q is not allowed", u, c)
		}
	}
	return nil
}
