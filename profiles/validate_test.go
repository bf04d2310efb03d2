package profiles

import (
	"strings"
	"testing"
	"unicode"
)

func TestValidateHost(t *testing.T) {
	good := []string{"prod.example.com", "prod.example.com.", "h", "10.77.0.2", "fd77::2", "::1",
		"fe80::1%eth0", "fe80::1%br-lan.10", "xn--bcher-kva.example", "_ssh.example", "a-b.c-d", "1.2.3.4.nip.io"}
	for _, h := range good {
		if err := ValidateHost(h); err != nil {
			t.Errorf("ValidateHost(%q) = %v, want nil", h, err)
		}
	}
	bad := map[string]string{
		"":                               "empty",
		"-oProxyCommand=touch x":         "a space",
		"-oProxyCommand=x":               "starts with '-'",
		"-F/path":                        "starts with '-'",
		"h\r":                            "a carriage return",
		"h\nProxyCommand x":              "a newline",
		"h\tx":                           "a tab",
		"h\x00":                          "control character U+0000",
		"büro.example":                   "at byte 2",
		"[::1]":                          "without brackets",
		"h:22":                           "not an IP address",
		"a..b":                           "empty label",
		".a":                             "empty label",
		"-a.b":                           "starts with '-'",
		"a.-b":                           "starts or ends with '-'",
		"a.b-":                           "starts or ends with '-'",
		"h%x":                            "'%' in label",
		"h'x":                            `'\'' in label`,
		"h\"x":                           `'"' in label`,
		"h#x":                            `'#' in label`,
		"h=x":                            `'=' in label`,
		"h/x":                            `'/' in label`,
		"fe80::1%a b":                    "a space",
		"fe80::1%a'b":                    "zone",
		strings.Repeat("a", 64):          "longer than 63",
		strings.Repeat("a.", 127) + "ab": "longer than the 253",
	}
	for h, want := range bad {
		err := ValidateHost(h)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ValidateHost(%q) = %v, want an error containing %q", h, err, want)
		}
	}
}

func TestValidateUser(t *testing.T) {
	for _, u := range []string{"", "root", "admin", "a.b", "first_last", "ops-1", "user@REALM.EXAMPLE", "j+k"} {
		if err := ValidateUser(u); err != nil {
			t.Errorf("ValidateUser(%q) = %v, want nil", u, err)
		}
	}
	bad := map[string]string{
		"root\n    ProxyCommand sh -c 'touch /tmp/x'": "a newline at byte 5",
		"root\r":         "a carriage return at byte 5",
		"-oProxyCommand": "starts with '-'",
		"a b":            "a space",
		"a\tb":           "a tab",
		`a"b`:            `'"' at byte 2`,
		"a'b":            `'\'' at byte 2`,
		"a%h":            "'%' at byte 2",
		`dom\user`:       `'\\' at byte 4`,
		"a#b":            "'#' at byte 2",
		"a=b":            "'=' at byte 2",
		"a$b":            "'$' at byte 2",
		"ä":              "at byte 1",
	}
	for u, want := range bad {
		err := ValidateUser(u)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ValidateUser(%q) = %v, want an error containing %q", u, err, want)
		}
	}
}

// TestValidateNamesTheField: every check of a value that reaches ssh
// says which field it is about, so a file parser can point at its line.
func TestValidateNamesTheField(t *testing.T) {
	base := Profile{Host: "h", Sequence: []string{"1"}}
	tests := []struct {
		field string
		edit  func(*Profile)
	}{
		{"host", func(p *Profile) { p.Host = "-x" }},
		{"user", func(p *Profile) { p.User = "a\nb" }},
		{"description", func(p *Profile) { p.Description = "\x1b]0;pwned\x07" }},
		{"secret_file", func(p *Profile) { p.Sequence = nil; p.SecretFile = "/a\nb" }},
		{"sequence", func(p *Profile) { p.Sequence = []string{"70000"} }},
		{"ttl", func(p *Profile) { p.TTL = 256 }},
	}
	for _, tt := range tests {
		p := base
		tt.edit(&p)
		err := p.Validate(false)
		if got := fieldOf(err); got != tt.field {
			t.Errorf("%s: error %v names field %q", tt.field, err, got)
		}
	}
}

// FuzzValidateHost: a host that passes cannot carry anything ssh, an
// ssh_config line or a shell word would read as syntax.
func FuzzValidateHost(f *testing.F) {
	for _, s := range []string{"prod.example.com", "fe80::1%eth0", "-oProxyCommand=x", "h\r", "10.0.0.1", "a_b.c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		if ValidateHost(h) != nil {
			return
		}
		if h == "" || h[0] == '-' {
			t.Fatalf("accepted %q", h)
		}
		for _, r := range h {
			if unicode.IsSpace(r) || unicode.IsControl(r) || r > unicode.MaxASCII || strings.ContainsRune("'\"\\#=;&|`$<>(){}*?!,/@", r) {
				t.Fatalf("accepted %q with %q", h, r)
			}
		}
		if strings.Contains(h, "%") && !strings.Contains(h, ":") {
			t.Fatalf("accepted a '%%' outside an IPv6 zone: %q", h)
		}
	})
}

func FuzzValidateUser(f *testing.F) {
	for _, s := range []string{"root", "a@b", "-l", "a\nb", "a b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, u string) {
		if ValidateUser(u) != nil || u == "" {
			return
		}
		if u[0] == '-' {
			t.Fatalf("accepted %q", u)
		}
		for _, r := range u {
			if !(unicode.IsLetter(r) || unicode.IsDigit(r) || strings.ContainsRune("._-@+", r)) || r > unicode.MaxASCII {
				t.Fatalf("accepted %q with %q", u, r)
			}
		}
	})
}
