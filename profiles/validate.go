package profiles

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"unicode"
)

// FieldError is a validation error of one profile field. Its message is
// whole ("host \"-oX\": ..."); Field lets a file parser point at the line
// of that key.
type FieldError struct {
	Field string
	Err   error
}

func (e *FieldError) Error() string { return e.Err.Error() }
func (e *FieldError) Unwrap() error { return e.Err }

// fieldErr is a FieldError for field with a formatted message.
func fieldErr(field, format string, a ...any) error {
	return &FieldError{Field: field, Err: fmt.Errorf(format, a...)}
}

// fieldOf returns the field an error is about, or "".
func fieldOf(err error) string {
	var fe *FieldError
	if errors.As(err, &fe) {
		return fe.Field
	}
	return ""
}

// The values below reach ssh (as arguments and in ssh_config), a shell
// (ssh runs ProxyCommand with sh -c) and knockd.conf files written by
// "profile export". Profile files are shared and imported, so every such
// value is checked where it enters: a newline in a user name would start
// a new ssh_config line, a host such as "-oProxyCommand=..." would be an
// ssh option.

// ValidateHost checks a host: a DNS name (letters, digits, '-' and '_' in
// dot-separated labels that neither start nor end with '-') or an IP
// literal, without brackets. An IPv6 zone ("fe80::1%eth0") is allowed
// with a plain interface name.
func ValidateHost(h string) error {
	if h == "" {
		return errors.New("empty")
	}
	if i := strings.IndexFunc(h, func(r rune) bool { return r < 0x21 || r > 0x7e }); i >= 0 {
		return fmt.Errorf("%s at byte %d: a host is a DNS name or an IP address", describeRune([]rune(h[i:])[0]), i+1)
	}
	if strings.HasPrefix(h, "-") {
		return errors.New("starts with '-', which ssh would read as an option")
	}
	if strings.HasPrefix(h, "[") {
		return errors.New("write an IPv6 address without brackets")
	}
	if a, err := netip.ParseAddr(h); err == nil {
		if z := a.Zone(); z != "" && !plainWord(z) {
			return fmt.Errorf("zone %q: want an interface name", z)
		}
		return nil
	}
	if strings.Contains(h, ":") {
		return errors.New("not an IP address (a port belongs in the profile's port, not the host)")
	}
	name := strings.TrimSuffix(h, ".")
	if len(name) > 253 {
		return errors.New("longer than the 253 characters of a DNS name")
	}
	for _, label := range strings.Split(name, ".") {
		if err := validateLabel(label); err != nil {
			return err
		}
	}
	return nil
}

func validateLabel(l string) error {
	switch {
	case l == "":
		return errors.New("empty label (two dots in a row, or a leading dot)")
	case len(l) > 63:
		return fmt.Errorf("label %q is longer than 63 characters", l)
	case l[0] == '-' || l[len(l)-1] == '-':
		return fmt.Errorf("label %q starts or ends with '-'", l)
	}
	for _, r := range l {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return fmt.Errorf("%q in label %q: a DNS name has letters, digits, '-' and '_' (write IDNs as xn--...)", r, l)
		}
	}
	return nil
}

// plainWord reports whether s is letters, digits, '.', '_' and '-' only.
func plainWord(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}

// ValidateUser checks a login name for ssh: letters, digits and . _ - @ +
// (enough for POSIX names, user@realm and the like), not starting with
// '-'. Quotes, '%', '\\', white space and control characters have meanings
// in ssh_config or to a shell, so they are refused rather than escaped.
func ValidateUser(u string) error {
	if u == "" {
		return nil
	}
	if strings.HasPrefix(u, "-") {
		return errors.New("starts with '-', which ssh would read as an option")
	}
	for i, r := range u {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("._-@+", r)) {
			return fmt.Errorf("%s at byte %d: a user name has letters, digits and . _ - @ +", describeRune(r), i+1)
		}
	}
	if len(u) > 256 {
		return errors.New("longer than 256 bytes")
	}
	return nil
}

// ValidateText checks free text that is printed (description) or names
// a file (secret_file): any characters but control characters, which
// would end a line of a file we write or drive the user's terminal.
func ValidateText(s string) error {
	for i, r := range s {
		if unicode.IsControl(r) || r == unicode.ReplacementChar || r == '\u2028' || r == '\u2029' {
			return fmt.Errorf("%s at byte %d: control characters are not allowed", describeRune(r), i+1)
		}
	}
	return nil
}

// describeRune names a character for an error message.
func describeRune(r rune) string {
	switch r {
	case '\n':
		return "a newline"
	case '\r':
		return "a carriage return"
	case '\t':
		return "a tab"
	case ' ':
		return "a space"
	}
	if unicode.IsControl(r) || !unicode.IsPrint(r) {
		return fmt.Sprintf("control character %U", r)
	}
	return fmt.Sprintf("%q", r)
}
