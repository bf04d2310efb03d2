package sshconfig

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/knocktools/knock/profiles"
)

// sshKeyword is one keyword line of an ssh_config Host block.
type sshKeyword struct{ key, value string }

// parseSSHConfig reads a Host block the way OpenSSH's readconf does: one
// directive a line (a line ends at '\n'; trailing white space, '\r'
// among it, is stripped), blank lines and lines starting with '#'
// skipped, the keyword ended by white space or '=', and ProxyCommand
// taking the rest of the line. Any other value must be one plain word:
// quotes, '#', '\\' or white space in it would be read as syntax, so
// they fail the parse instead of being interpreted.
func parseSSHConfig(t *testing.T, text string) []sshKeyword {
	t.Helper()
	var out []sshKeyword
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimLeft(strings.TrimRight(line, " \t\r\f\v"), " \t\r\f\v")
		if line == "" || line[0] == '#' {
			continue
		}
		end := strings.IndexAny(line, " \t=")
		if end < 0 {
			t.Fatalf("keyword without a value: %q", line)
		}
		key, rest := line[:end], strings.TrimLeft(line[end:], " \t")
		rest = strings.TrimLeft(strings.TrimPrefix(rest, "="), " \t")
		if !strings.EqualFold(key, "ProxyCommand") && strings.ContainsAny(rest, " \t\"'#\\=\r\v\f") {
			t.Fatalf("%s value %q is not one plain word", key, rest)
		}
		out = append(out, sshKeyword{key, rest})
	}
	return out
}

// expandPercent undoes ssh's '%' expansion of HostName ("%%" is '%');
// any other token in a value we wrote is a failure.
func expandPercent(t *testing.T, s string) string {
	t.Helper()
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			b.WriteByte(s[i])
			continue
		}
		if i+1 >= len(s) || s[i+1] != '%' {
			t.Fatalf("%q holds a %% token", s)
		}
		b.WriteByte('%')
		i++
	}
	return b.String()
}

// checkSSHConfig asserts that block holds exactly the keywords it means.
func checkSSHConfig(t *testing.T, block, name string, p profiles.Profile, proxy string) {
	t.Helper()
	want := []sshKeyword{{"Host", name}, {"HostName", p.Host}, {"Port", strconv.Itoa(int(p.ServicePort()))}}
	if p.User != "" {
		want = append(want, sshKeyword{"User", p.User})
	}
	want = append(want, sshKeyword{"ProxyCommand", proxy})
	got := parseSSHConfig(t, block)
	if len(got) != len(want) {
		t.Fatalf("block\n%s\nreads as %q, want %q", block, got, want)
	}
	for i := range want {
		v := got[i].value
		if want[i].key == "HostName" {
			v = expandPercent(t, v)
		}
		if got[i].key != want[i].key || v != want[i].value {
			t.Fatalf("block\n%s\nline %d reads as %s %q, want %s %q", block, i+1, got[i].key, v, want[i].key, want[i].value)
		}
	}
}

// FuzzSSHConfig: for any profile that validates, "knock ssh-config"
// writes a block that reads back, by ssh's rules, as exactly the
// keywords it intended, and the ProxyCommand's paths survive ssh's '%'
// expansion and the shell.
func FuzzSSHConfig(f *testing.F) {
	f.Add("prod", "prod.example.com", "admin", uint16(2222), "/usr/bin/knock", "")
	f.Add("a", "fe80::1%eth0", "", uint16(0), "/opt/my knock/knock", "/home/u/.config/knock/config.yaml")
	f.Add("evil", "h", "root\n    ProxyCommand sh -c 'touch /tmp/x'", uint16(22), "/k", "")
	f.Add("evil", "-oProxyCommand=x", "root", uint16(22), "/k", "")
	f.Add("evil", "h\r", "r\r", uint16(22), "/k%h", "/c\nProxyCommand x")
	f.Add("p", "10.77.0.2", "u", uint16(22), "/a'b/%p/$(x)", "/c#d")
	f.Add("0", "::", "", uint16(33), "=", "0")         // ssh drops a leading '='
	f.Add("p", "h", "", uint16(22), "PATH=/tmp/x", "") // sh reads it as an assignment
	f.Fuzz(func(t *testing.T, name, host, user string, port uint16, exe, cfg string) {
		p := profiles.Profile{Host: host, User: user, Port: port, Sequence: []string{"7000"}}
		if profiles.ValidateName(name, nil) != nil || p.Validate(false) != nil {
			return
		}
		proxy, err := ProxyCommand(exe, cfg, name)
		if err != nil {
			if !strings.ContainsFunc(exe+cfg, func(r rune) bool { return r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) }) {
				t.Fatalf("ProxyCommand refused for %q %q: %v", exe, cfg, err)
			}
			return
		}
		block, err := Host(name, p, proxy)
		if err != nil {
			t.Fatalf("a valid profile refused: %v", err)
		}
		checkSSHConfig(t, block, name, p, proxy)
		checkProxyWords(t, proxy, exe, cfg, name)
	})
}

// checkProxyWords undoes ssh's '%' expansion (with %h and %p as ssh
// fills them) and splits the command as sh would (single quotes, or
// Windows' double quotes), and wants back exactly the words meant.
func checkProxyWords(t *testing.T, proxy, exe, cfg, name string) {
	t.Helper()
	expanded := strings.NewReplacer("%%", "%", "%h", "HOST", "%p", "22").Replace(proxy)
	want := []string{exe}
	if cfg != "" {
		want = append(want, "--config", cfg)
	}
	want = append(want, "proxy", "--profile", name, "HOST", "22")
	got, ok := splitQuoted(expanded, runtime.GOOS == "windows")
	if !ok || strings.Join(got, "\x00") != strings.Join(want, "\x00") {
		t.Fatalf("ProxyCommand %q splits as %q, want %q", proxy, got, want)
	}
}

// splitQuoted splits s into words: POSIX sh's single quotes and bare
// words made only of characters sh gives no meaning (what shellQuote
// leaves bare), or Windows' double quotes with \" inside.
func splitQuoted(s string, windows bool) ([]string, bool) {
	var words []string
	for len(s) > 0 {
		if s[0] == ' ' {
			s = s[1:]
			continue
		}
		var w strings.Builder
		for len(s) > 0 && s[0] != ' ' {
			switch {
			case !windows && s[0] == '\'':
				end := strings.IndexByte(s[1:], '\'')
				if end < 0 {
					return nil, false
				}
				w.WriteString(s[1 : 1+end])
				s = s[2+end:]
			case !windows && s[0] == '\\' && len(s) > 1:
				w.WriteByte(s[1])
				s = s[2:]
			case windows && s[0] == '"':
				s = s[1:]
				for len(s) > 0 && s[0] != '"' {
					if strings.HasPrefix(s, `\"`) {
						s = s[1:]
					}
					w.WriteByte(s[0])
					s = s[1:]
				}
				if len(s) == 0 {
					return nil, false
				}
				s = s[1:]
			default:
				if !windows && strings.ContainsRune("\"`$;&|<>(){}*?[]#~!=\\\t\n", rune(s[0])) {
					return nil, false // would mean something to sh
				}
				w.WriteByte(s[0])
				s = s[1:]
			}
		}
		words = append(words, w.String())
	}
	return words, true
}

// TestSSHConfigWithSSH asks ssh itself: "ssh -G -F FILE NAME" of each
// block differs from "ssh -G" of an empty file in exactly hostname,
// port, user and proxycommand, with the values meant. ssh -G resolves
// nothing and connects nowhere.
func TestSSHConfigWithSSH(t *testing.T) {
	ssh, err := exec.LookPath("ssh")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("ssh missing under CI (scripts/deps.sh installs openssh-client)")
		}
		t.Skip("SKIPPED: ssh is not installed; install openssh-client to check ssh-config against ssh")
	}
	dir := t.TempDir()
	cases := []struct {
		name     string
		p        profiles.Profile
		exe, cfg string
	}{
		{"prod", profiles.Profile{Host: "prod.example.com", User: "admin", Port: 2222}, "/usr/bin/knock", ""},
		{"zone", profiles.Profile{Host: "fe80::1%eth0"}, "/opt/my knock/knock", dir + "/a b/config.yaml"},
		{"v6", profiles.Profile{Host: "fd77::2", User: "a.b@REALM"}, "/k%h%p%%", "/c/%d/$HOME/`id`/'q'/#x"},
		{"dot.name_1", profiles.Profile{Host: "_ssh.example.", User: "u+1"}, "/k", "/c;rm -rf ~&|<>"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			proxy, err := ProxyCommand(c.exe, c.cfg, c.name)
			if err != nil {
				t.Fatal(err)
			}
			block, err := Host(c.name, c.p, proxy)
			if err != nil {
				t.Fatal(err)
			}
			checkSSHConfig(t, block, c.name, c.p, proxy)
			file := filepath.Join(dir, c.name+".conf")
			if err := os.WriteFile(file, []byte(block), 0o600); err != nil {
				t.Fatal(err)
			}
			got := sshG(t, ssh, file, c.name)
			base := sshG(t, ssh, os.DevNull, c.name)
			want := map[string]string{"hostname": c.p.Host, "port": strconv.Itoa(int(c.p.ServicePort())), "proxycommand": proxy}
			if c.p.User != "" {
				want["user"] = c.p.User
			}
			for k, v := range got {
				if w, ok := want[k]; ok {
					if v != w {
						t.Errorf("ssh reads %s as %q, want %q", k, v, w)
					}
				} else if base[k] != v {
					t.Errorf("ssh reads %s %q from the block (without it: %q)", k, v, base[k])
				}
			}
			for k := range want {
				if _, ok := got[k]; !ok {
					t.Errorf("ssh -G shows no %s", k)
				}
			}
		})
	}
}

// sshG runs ssh -G and returns its settings, keyword to value (keywords
// that ssh prints several times joined by newlines).
func sshG(t *testing.T, ssh, file, host string) map[string]string {
	t.Helper()
	cmd := exec.Command(ssh, "-G", "-F", file, host)
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir())
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("ssh -G -F %s %s: %v", file, host, err)
	}
	m := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		k, v, _ := strings.Cut(line, " ")
		if old, ok := m[k]; ok {
			v = old + "\n" + v
		}
		m[k] = v
	}
	return m
}
