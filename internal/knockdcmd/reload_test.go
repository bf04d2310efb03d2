package knockdcmd

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/knocktools/knock/knockdconf"
	"github.com/knocktools/knock/server"
)

// SIGHUP's reload keeps the running doors when the file has none (emptied,
// or cut short), and logs which doors were added, removed or changed.
func TestReloadRefusesNoDoorsAndLogsChanges(t *testing.T) {
	path := filepath.Join(t.TempDir(), "knockd.conf")
	write := func(conf string) {
		t.Helper()
		if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
			t.Fatal(err)
		}
		past := time.Now().Add(-time.Minute) // written and left alone
		os.Chtimes(path, past, past)
	}
	write("[ssh]\nsequence = 7000,8000\n[web]\nsequence = 7100\n")
	cfg, err := knockdconf.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	var logged bytes.Buffer
	log := &server.Logger{Verbose: &logged, Now: time.Now}
	srv, err := server.New(cfg, log, &server.Actions{Log: log})
	if err != nil {
		t.Fatal(err)
	}

	write("# emptied by a script still at work\n")
	reload(srv, &options{Config: path}, nil)
	if len(srv.Config().Doors) != 2 || !strings.Contains(logged.String(), "re-reading "+path+" failed, keeping the running configuration: it has no doors, the running configuration 2") {
		t.Fatalf("doors %d, log:\n%s", len(srv.Config().Doors), logged.String())
	}

	write("[ssh]\nsequence = 7000,9000\n[mail]\nsequence = 7200\n")
	reload(srv, &options{Config: path}, nil)
	if want := "re-read " + path + ": 2 doors (added: mail; removed: web; changed: ssh)"; !strings.Contains(logged.String(), want) {
		t.Fatalf("want %q in:\n%s", want, logged.String())
	}
}

// listing answers the firewall listings by command line.
type listing map[string]string

func (l listing) Run(name string, args ...string) (string, string, error) {
	line := name + " " + strings.Join(args, " ")
	if out, ok := l[line]; ok {
		return out, "", nil
	}
	return "", "not here", errors.New("exit status 1")
}

// --check warns for each door that calls knockd fw in auto mode when the
// choice is not clear-cut, and is quiet when it is or the door names its
// backend.
func TestCheckWarnsAboutAmbiguousAutoBackend(t *testing.T) {
	cfg, err := knockdconf.Parse("k.conf", []byte("[a]\nsequence = 1\ncommand = /usr/sbin/knockd fw open --src %IP% --port 22\n"+
		"[b]\nsequence = 2\ncommand = knockd fw open --src %IP% --port 22 --backend nftables\n[c]\nsequence = 3\ncommand = true\n"))
	if err != nil {
		t.Fatal(err)
	}
	both := listing{"nft list tables": "table inet filter\ntable ip filter\n", "iptables -w -S INPUT": "-P INPUT DROP\n"}
	w := fwAutoWarnings(cfg, both)
	if len(w) != 1 || !strings.Contains(w[0], "door [a] calls knockd fw without --backend, and the choice is not clear-cut: it would use iptables") {
		t.Fatalf("warnings %q", w)
	}
	clear := listing{"nft list tables": "table ip filter\n", "iptables -w -S INPUT": "-A INPUT -p tcp --dport 22 -j DROP\n"}
	if w := fwAutoWarnings(cfg, clear); len(w) != 0 {
		t.Fatalf("warnings for a clear choice: %q", w)
	}
}

// --check says which built-in firewall Open_Ports and SPA stanzas would
// use, and warns, as for knockd fw, when auto's choice is in doubt.
func TestCheckSaysTheBuiltinFirewall(t *testing.T) {
	cfg, err := knockdconf.Parse("k.conf", []byte("[a]\nsequence = 1\nOpen_Ports = tcp/22\n"))
	if err != nil {
		t.Fatal(err)
	}
	both := listing{"nft list tables": "table inet filter\ntable ip filter\n", "iptables -w -S INPUT": "-P INPUT DROP\n"}
	line, w := builtinCheck("", cfg, nil, both)
	if line != "built-in firewall: auto, for door a's Open_Ports (would be iptables)" || len(w) != 1 ||
		!strings.Contains(w[0], "the built-in firewall is auto, and the choice is not clear-cut: it would use iptables") {
		t.Fatalf("%q, warnings %q", line, w)
	}
	clear := listing{"nft list tables": "table ip filter\n", "iptables -w -S INPUT": "-A INPUT -p tcp --dport 22 -j DROP\n"}
	if line, w := builtinCheck("", cfg, nil, clear); line != "built-in firewall: auto, for door a's Open_Ports (iptables here)" || len(w) != 0 {
		t.Fatalf("a clear choice: %q, warnings %q", line, w)
	}
	if line, w := builtinCheck("nftables", cfg, nil, both); line != "built-in firewall: nftables, for door a's Open_Ports" || len(w) != 0 {
		t.Fatalf("--firewall nftables: %q, warnings %q", line, w)
	}
}

// Under systemd knockd's lines reach the journal through standard error,
// with syslog priority prefixes, and never twice.
func TestJournalOnStderr(t *testing.T) {
	var stderr bytes.Buffer
	if journal(&options{}, false, &stderr) == nil {
		t.Fatal("no journal for a knockd whose stderr is no terminal")
	}
	for name, o := range map[string]*options{"-v": {Verbose: true}, "-D": {Debug: true}, "--replay": {Replay: "x.pcap"}} {
		if journal(o, false, &stderr) != nil {
			t.Errorf("%s: lines would be written twice", name)
		}
	}
	if journal(&options{}, true, &stderr) != nil {
		t.Error("UseSyslog: lines would be written twice")
	}
	if devnull, err := os.Open(os.DevNull); err == nil {
		defer devnull.Close()
		if journal(&options{}, false, devnull) != nil {
			t.Error("a journal on a character device")
		}
	}
	l := &server.Logger{Journal: journal(&options{}, false, &stderr), Now: time.Now}
	l.Printf("%s: %s: OPEN SESAME", "10.77.0.1", "ssh")
	l.Logf("starting up, listening on %s", "eth0")
	if want := "<5>10.77.0.1: ssh: OPEN SESAME\n<5>starting up, listening on eth0\n"; stderr.String() != want {
		t.Fatalf("stderr %q, want %q", stderr.String(), want)
	}
}

// --check warns about a door command whose program the host lacks, past
// assignments, builtins and what the shell computes.
func TestMissingPrograms(t *testing.T) {
	cfg, err := knockdconf.Parse("k.conf", []byte("[a]\nsequence = 1\ncommand = PATH=/x iptabels -I INPUT -s %IP% -j ACCEPT; echo done | logger -t knockd\n"+
		"stop_command = /usr/sbin/nft add element inet fw4 s { %IP% } && $HOME/bin/x && exit 0\n"))
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{"logger": true, "/usr/sbin/nft": true}
	look := func(p string) (string, error) {
		if have[p] {
			return p, nil
		}
		return "", errors.New("not found")
	}
	w := missingPrograms(cfg, look)
	if len(w) != 1 || !strings.Contains(w[0], "door [a] start_command runs iptabels, which this host does not have") {
		t.Fatalf("warnings %q", w)
	}
}
