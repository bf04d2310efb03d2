package knockdcmd

import (
	"bytes"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/knocktools/knock"
	"github.com/knocktools/knock/internal/flood"
)

// knockd --replay answers "would this traffic open a door?": a dry run
// that prints the commands the doors would run and writes no file (no
// LogFile, no one-time file), while one-time doors move on in memory as
// they would live. --run-commands asks for the real thing.
func TestReplayIsADryRun(t *testing.T) {
	dir := t.TempDir()
	seqs := filepath.Join(dir, "seqs")
	const lines = " 8001,8002\n 9001,9002\n"
	writeFile(t, seqs, lines)
	logFile, opened := filepath.Join(dir, "knockd.log"), filepath.Join(dir, "opened")
	conf := filepath.Join(dir, "knockd.conf")
	writeFile(t, conf, "[options]\n\tLogFile = "+logFile+"\n\tStateDir = "+filepath.Join(dir, "state")+"\n[once]\n\tone_time_sequences = "+seqs+
		"\n\tcommand = echo %IP% >> "+opened+"\n\tstop_command = echo closed %IP%\n\tcmd_timeout = 7\n")
	pcap := filepath.Join(dir, "in.pcap")
	var buf bytes.Buffer
	seq, err := knock.ParseKnockdSequence("8001,8002,9001,9002")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := flood.Write(&buf, flood.Spec{Packets: 20, Sources: 5, FirstSource: netip.MustParseAddr("10.77.1.1"),
		Ports: []uint16{6000}, Dst: netip.MustParseAddr("10.77.0.2"), Gap: 1,
		Knockers: []flood.Knocker{{Src: netip.MustParseAddr("10.77.0.1"), Seq: seq}}}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(pcap, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}

	var stdout, stderr bytes.Buffer
	if code := Run([]string{"--replay", pcap, "-c", conf}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	want := "once: would run: echo 10.77.0.1 >> " + opened + "\n" +
		"once: would run after Cmd_Timeout (7s): echo closed 10.77.0.1\n"
	if stdout.String() != want+want {
		t.Fatalf("stdout:\n%s\nwant both lines of the door twice:\n%s", stdout.String(), want)
	}
	if !strings.Contains(stderr.String(), "2 doors opened") {
		t.Fatalf("stderr: %s", stderr.String())
	}
	for _, f := range []string{logFile, opened, filepath.Join(dir, "state")} {
		if _, err := os.Stat(f); err == nil {
			t.Errorf("a dry run wrote %s", f)
		}
	}
	if b, _ := os.ReadFile(seqs); string(b) != lines {
		t.Errorf("a dry run marked the one-time file:\n%s", b)
	}

	stdout.Reset()
	stderr.Reset()
	if code := Run([]string{"--replay", pcap, "--run-commands", "-c", conf}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if !strings.Contains(stderr.String(), "--run-commands: the doors' commands run for real") {
		t.Errorf("--run-commands is not loud: %s", stderr.String())
	}
	if b, _ := os.ReadFile(opened); string(b) != "10.77.0.1\n10.77.0.1\n" {
		t.Errorf("commands run: %q", b)
	}
	if b, _ := os.ReadFile(seqs); string(b) != "#8001,8002\n#9001,9002\n" {
		t.Errorf("one-time file after a real replay:\n%s", b)
	}
	if b, _ := os.ReadFile(logFile); !strings.Contains(string(b), "OPEN SESAME") {
		t.Errorf("log file after a real replay:\n%s", b)
	}
	if code := Run([]string{"--run-commands", "-c", conf}, &stdout, &stderr); code != 2 {
		t.Errorf("--run-commands without --replay: exit %d", code)
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}
