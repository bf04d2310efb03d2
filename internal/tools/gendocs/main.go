// Command gendocs writes the man pages of knock and knockd, rendered from
// their command trees, into a directory: go run ./internal/tools/gendocs DIR.
// The release build runs it; the pages are never edited by hand.
package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"

	"github.com/knocktools/knock/internal/buildinfo"
	"github.com/knocktools/knock/internal/knockcmd"
	"github.com/knocktools/knock/internal/knockdcmd"
	"github.com/knocktools/knock/knockdconf"
	"github.com/knocktools/knock/profiles"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: gendocs DIR")
		os.Exit(2)
	}
	// A fixed date keeps the pages reproducible; SOURCE_DATE_EPOCH, when
	// set, gives the release's.
	date := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	if epoch := os.Getenv("SOURCE_DATE_EPOCH"); epoch != "" {
		var sec int64
		if _, err := fmt.Sscan(epoch, &sec); err == nil {
			date = time.Unix(sec, 0).UTC()
		}
	}
	if err := write(os.Args[1], date); err != nil {
		fmt.Fprintln(os.Stderr, "gendocs:", err)
		os.Exit(1)
	}
}

// write renders every page into dir: a page per command of knock and
// knockd (section 1), with the sections cobra does not write added to the
// two main pages, and knockd.conf(5) from knockdconf's directive table.
func write(dir string, date time.Time) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	source := "knock " + buildinfo.Version()
	for _, root := range []*cobra.Command{knockcmd.NewRootCmd(io.Discard, io.Discard), knockdcmd.NewRootCmd(io.Discard, io.Discard)} {
		root.DisableAutoGenTag = true
		header := &doc.GenManHeader{Section: "1", Date: &date, Source: source, Manual: manual}
		if err := doc.GenManTree(root, header, dir); err != nil {
			return err
		}
	}
	pages, err := filepath.Glob(filepath.Join(dir, "*.1"))
	if err != nil {
		return err
	}
	for _, page := range pages {
		data, err := os.ReadFile(page)
		if err != nil {
			return err
		}
		text := strings.Replace(string(data), ".SH EXAMPLE\n", ".SH EXAMPLES\n", 1)
		switch filepath.Base(page) {
		case "knock.1":
			text = addSections(text, knockSections())
		case "knockd.1":
			text = addSections(text, knockdSections)
		}
		if err := os.WriteFile(page, []byte(text), 0o644); err != nil {
			return err
		}
	}
	conf := fmt.Sprintf(".TH \"KNOCKD.CONF\" \"5\" \"%s\" \"%s\" \"%s\"\n", date.Format("Jan 2006"), source, manual) +
		strings.NewReplacer("@OPTIONS@", knockdconf.ReferenceRoff(knockdconf.OptionsSection),
			"@DOOR@", knockdconf.ReferenceRoff(knockdconf.DoorSection)).Replace(knockdConfPage)
	return os.WriteFile(filepath.Join(dir, "knockd.conf.5"), []byte(conf), 0o644)
}

const manual = "knock port-knocking toolkit"

// addSections puts sections before SEE ALSO (cobra's last), or at the end.
func addSections(page, sections string) string {
	if i := strings.Index(page, ".SH SEE ALSO"); i >= 0 {
		return page[:i] + sections + page[i:]
	}
	return page + sections
}

// knockSections are knock(1)'s ENVIRONMENT, FILES and EXIT STATUS; its
// EXAMPLES are the root command's.
func knockSections() string {
	var b strings.Builder
	b.WriteString(".SH ENVIRONMENT\n.TP\n.B KNOCK_CONFIG\nthe profile file, when --config does not name one\n")
	for _, o := range profiles.KnockOptions() {
		if v := o.Var(); v != "" {
			fmt.Fprintf(&b, ".TP\n.B %s\n%s (a flag wins over it; it wins over the profile)\n", v, roff(o.Help))
		}
	}
	b.WriteString(".TP\n.B VISUAL, EDITOR\nthe editor of knock profile edit\n" +
		".TP\n.B USER, LOGNAME\nthe user name an SPA packet carries (as fwknop's)\n")
	b.WriteString(`.SH FILES
.TP
.I ~/.config/knock/config.yaml
the profiles ($XDG_CONFIG_HOME/knock/config.yaml; on macOS and Windows the user configuration directory), mode 0600, written atomically
.TP
.I ~/.config/knock/config.yaml.lock
the lock that serializes writers of the profile file
.SH EXIT STATUS
.TP
.B 0
the knock was sent (with \-\-wait and knock check: the port opened); the command did what it was asked
.TP
.B 1
a failure while working: a host that does not resolve, a door that did not open in time, a profile file that cannot be read or written, an import that imported nothing
.TP
.B 2
a command line that cannot be understood: an unknown flag, a bad port, sequence or option value, options that exclude each other
.PP
knock ssh exits with ssh's status.
`)
	return b.String()
}

const knockdSections = `.SH EXAMPLES
.PP
.RS
.nf
sudo knockd \-c /etc/knockd.conf \-i eth0 \-v     # foreground, log lines on stdout
sudo knockd \-d                                 # background, PidFile written
knockd \-\-check \-c /etc/knockd.conf             # validate and list the doors understood
knockd \-\-replay capture.pcap \-c knockd.conf \-v # what would this traffic open? (a dry run)
.fi
.RE
.SH ENVIRONMENT
.TP
.B GOMEMLIMIT
the Go runtime's soft memory limit, when neither MemoryLimit nor \-\-memory\-limit sets one
.SH FILES
.TP
.I /etc/knockd.conf
the configuration (knockd.conf(5))
.TP
.I /var/run/knockd.pid
the PID file of a daemon knockd (PidFile)
.TP
.I /var/lib/knockd/time\-windows
the windows time\-based doors have used (StateDir), kept across restarts
.TP
.I /etc/default/knockd
KNOCKD_OPTS, the flags of the packaged knockd.service
.SH EXIT STATUS
.TP
.B 0
knockd ended as asked (SIGTERM, SIGINT), or \-\-check found the configuration good
.TP
.B 1
a configuration that cannot be used (each error with its file and line), a capture that cannot be opened, a failed command of knockd fw
.TP
.B 2
a command line that cannot be understood, or input knockd fw refuses
`

const knockdConfPage = `.SH NAME
knockd.conf \- the configuration of knockd
.SH SYNOPSIS
.I /etc/knockd.conf
.SH DESCRIPTION
knockd.conf is knockd 0.8's file, which this knockd reads unchanged, strictly: every error names the file, the line and the token.
The file is line oriented; blank lines and lines starting with # are skipped (a # after a value is part of the value).
.B [options]
holds the global options; any other
.B [name]
starts a door. Keys are case\-insensitive and written Key = value.
Directives marked [not in knockd 0.8] are this knockd's own.
.SH OPTIONS
@OPTIONS@.SH DOORS
@DOOR@.SH EXAMPLES
.PP
.RS
.nf
[options]
        UseSyslog

[openSSH]
        Sequence      = 7000,8000,9000
        Seq_Timeout   = 5
        TCPFlags      = syn
        Start_Command = /usr/sbin/iptables \-I INPUT \-s %IP% \-p tcp \-\-dport 22 \-j ACCEPT
        Cmd_Timeout   = 10
        Stop_Command  = /usr/sbin/iptables \-D INPUT \-s %IP% \-p tcp \-\-dport 22 \-j ACCEPT
.fi
.RE
.PP
knock profile export \-\-knockd writes the door of a client's profile; knock gen prints a random sequence.
.SH FILES
.TP
.I /etc/knockd.conf
the file knockd reads unless \-c names another
.SH SEE ALSO
knockd(1), knock(1), iptables(8), nft(8)
`

// roff escapes a text for a man page.
func roff(s string) string { return strings.ReplaceAll(strings.ReplaceAll(s, `\`, `\e`), "-", `\-`) }
