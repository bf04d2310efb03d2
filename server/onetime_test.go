package server

import (
	"bytes"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"

	"github.com/knocktools/knock"
)

func TestOneTimeSequences(t *testing.T) {
	path := filepath.Join(t.TempDir(), "seqs")
	content := "# my sequences\n 1000,2000,3000\n\n not a sequence\n 4000:udp,5000\n 6000\n"
	os.WriteFile(path, []byte(content), 0o640)
	seqs, err := LoadOneTime(path)
	if err != nil || knockdStrings(seqs) != "1000:tcp,2000:tcp,3000:tcp 4000:udp,5000:tcp 6000:tcp" {
		t.Fatalf("load: %v %v", seqs, err)
	}
	steps := []string{"4000:udp,5000:tcp 6000:tcp", "6000:tcp", ""}
	for _, want := range steps {
		next, err := UseOneTime(path)
		if err != nil {
			t.Fatal(err)
		}
		if got := knockdStrings(next); got != want {
			t.Fatalf("next = %q, want %q", got, want)
		}
	}
	b, _ := os.ReadFile(path)
	if want := "# my sequences\n#1000,2000,3000\n\n not a sequence\n#4000:udp,5000\n#6000\n"; string(b) != want {
		t.Fatalf("file:\n%s\nwant:\n%s", b, want)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o640 {
		t.Fatalf("mode changed to %v", fi.Mode())
	}
	if next, _ := UseOneTime(path); len(next) != 0 {
		t.Fatal("used up file still gives sequences")
	}
}

func knockdStrings(seqs []knock.Sequence) string {
	var out []string
	for _, s := range seqs {
		out = append(out, s.KnockdString())
	}
	return strings.Join(out, " ")
}

// filterSource is a live capture that records the kernel filters it is
// given, and when each was installed relative to the file's rewrites.
type filterSource struct {
	file    string
	filters [][]uint16 // TCP ports of each SetPorts
	files   []string   // the one-time file's text when each was set
}

func (f *filterSource) ReadPacketData() ([]byte, gopacket.CaptureInfo, error) {
	return nil, gopacket.CaptureInfo{}, io.EOF
}
func (f *filterSource) LinkType() LinkType { return LinkTypeEthernet }
func (f *filterSource) Close() error       { return nil }
func (f *filterSource) SetPorts(tcp, udp []uint16) error {
	f.filters = append(f.filters, slices.Clone(tcp))
	b, _ := os.ReadFile(f.file)
	f.files = append(f.files, string(b))
	return nil
}

// The next one-time sequence is live before any file I/O: the kernel
// filter lets its packets through from the start, the tracker moves to
// it the moment the current one is used, and the filter is refilled
// before the file is rewritten. A knocker who goes on at once, even if
// the rewrite fails, opens the next door.
func TestOneTimeNextIsLiveBeforeTheFile(t *testing.T) {
	dir := t.TempDir()
	seqFile := filepath.Join(dir, "seqs")
	var lines []string
	for i := range 8 {
		lines = append(lines, " "+itoa(8001+10*i)+","+itoa(8002+10*i))
	}
	os.WriteFile(seqFile, []byte(strings.Join(lines, "\n")+"\n"), 0o600)
	var logged bytes.Buffer
	srv := newTestServer(t, "[once]\none_time_sequences = "+seqFile+"\nseq_timeout = 5\n", &logged)
	srv.SetLocal([]netip.Addr{me})
	src := &filterSource{file: seqFile}
	srv.setLive("eth0", src)
	want := []uint16{8001, 8002, 8011, 8012, 8021, 8022, 8031, 8032, 8041, 8042}
	if !slices.Equal(src.filters[0], want) {
		t.Fatalf("first filter %v, want the current sequence and %d next: %v", src.filters[0], oneTimeLookahead, want)
	}
	src.filters, src.files = nil, nil

	hit := func(port uint16, at time.Duration) {
		h := Packet{Src: netip.MustParseAddr("10.77.0.1"), Dst: me, Proto: knock.TCP, Port: port, Flags: knock.SYN, Time: t0.Add(at)}
		srv.Handle(&h)
	}
	hit(8001, 0)
	hit(8002, time.Millisecond)
	// The first filter after the use already drops the used sequence and
	// takes the next one in, and it was set before the file was rewritten.
	if len(src.filters) == 0 || src.filters[0][0] != 8011 || slices.Contains(src.filters[0], 8001) || !slices.Contains(src.filters[0], 8052) {
		t.Fatalf("filters after the first use: %v", src.filters)
	}
	if strings.HasPrefix(src.files[0], "#") {
		t.Fatalf("the filter moved only after the file was rewritten:\n%s", src.files[0])
	}
	// The next sequence at once, then the one after it with the file
	// gone (the rewrite fails): from memory.
	hit(8011, 2*time.Millisecond)
	hit(8012, 3*time.Millisecond)
	os.Remove(seqFile)
	hit(8021, 4*time.Millisecond)
	hit(8022, 5*time.Millisecond)
	if got := srv.Stats().Opened; got != 3 {
		t.Fatalf("opened %d, want 3\n%s", got, logged.String())
	}
	if got := strings.Count(logged.String(), "OPEN SESAME"); got != 3 {
		t.Fatalf("%d OPEN SESAME lines for 3 opens:\n%s", got, logged.String())
	}
	if !strings.Contains(logged.String(), "no such file") {
		t.Fatalf("the failed rewrite is not logged:\n%s", logged.String())
	}
}

// An admin's edit of the file wins over the sequences held in memory.
func TestOneTimeFileEditWins(t *testing.T) {
	dir := t.TempDir()
	seqFile := filepath.Join(dir, "seqs")
	os.WriteFile(seqFile, []byte(" 8001\n 8011\n"), 0o600)
	srv := newTestServer(t, "[once]\none_time_sequences = "+seqFile+"\n", nil)
	srv.SetLocal([]netip.Addr{me})
	os.WriteFile(seqFile, []byte(" 8001\n 9011\n"), 0o600) // edited after start
	hit := func(port uint16) {
		h := Packet{Src: netip.MustParseAddr("10.77.0.1"), Dst: me, Proto: knock.TCP, Port: port, Flags: knock.SYN, Time: t0}
		srv.Handle(&h)
	}
	hit(8001)
	hit(8011)
	hit(9011)
	if got := srv.Stats().Opened; got != 2 {
		t.Fatalf("opened %d, want 2 (8001, then the edited 9011)", got)
	}
	if b, _ := os.ReadFile(seqFile); string(b) != "#8001\n#9011\n" {
		t.Fatalf("file %q", b)
	}
	if d := srv.tracker.Doors[0]; !d.Disabled {
		t.Fatal("door still enabled with every sequence used")
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

func FuzzOneTime(f *testing.F) {
	f.Add([]byte(" 1,2\n#3\n 4:udp"))
	f.Fuzz(func(t *testing.T, data []byte) {
		seq, off, ok := nextOneTime(data)
		if ok && (len(seq) == 0 || off >= len(data)) {
			t.Fatalf("bad result %v %d", seq, off)
		}
		all := unusedOneTime(data)
		if ok != (len(all) > 0) || ok && !slices.Equal(all[0], seq) {
			t.Fatalf("unused %v, next %v %v", all, seq, ok)
		}
	})
}

// When a one-time door moves to its next sequence, every attempt in
// progress there ends: a stranger who sent the first knocks of the line
// a real knocker then used cannot finish with the last knock of the next
// line (knocks 2 and 3 of both lines are at the same stage).
func TestOneTimeUseEndsAttempts(t *testing.T) {
	seqFile := filepath.Join(t.TempDir(), "seqs")
	os.WriteFile(seqFile, []byte(" 8001,8002,8003\n 9001,9002,9003\n"), 0o600)
	var logged bytes.Buffer
	srv := newTestServer(t, "[once]\none_time_sequences = "+seqFile+"\nseq_timeout = 5\n", &logged)
	srv.SetLocal([]netip.Addr{me})
	stranger, owner := netip.MustParseAddr("10.77.0.66"), netip.MustParseAddr("10.77.0.1")
	at := time.Duration(0)
	hit := func(src netip.Addr, port uint16) {
		at += time.Millisecond
		h := Packet{Src: src, Dst: me, Proto: knock.TCP, Port: port, Flags: knock.SYN, Time: t0.Add(at)}
		srv.Handle(&h)
	}
	hit(stranger, 8001)
	hit(stranger, 8002)
	hit(owner, 8001)
	hit(owner, 8002)
	hit(owner, 8003) // opens, the door moves to 9001,9002,9003
	hit(stranger, 9003)
	if got := srv.Stats().Opened; got != 1 {
		t.Fatalf("opened %d times, want 1 (the owner's):\n%s", got, logged.String())
	}
	if strings.Contains(logged.String(), "10.77.0.66: once: OPEN SESAME") {
		t.Fatalf("the stranger got in:\n%s", logged.String())
	}
	// The stranger's next attempt starts afresh, and the owner can go on.
	hit(owner, 9001)
	hit(owner, 9002)
	hit(owner, 9003)
	if got := srv.Stats().Opened; got != 2 {
		t.Fatalf("opened %d times, want 2:\n%s", got, logged.String())
	}
}

// An admin who appends sequences (echo >> FILE, no lock) while knockd
// uses the file loses none of them: knockd marks the used line in place.
func TestOneTimeConcurrentAppend(t *testing.T) {
	path := filepath.Join(t.TempDir(), "seqs")
	var initial strings.Builder
	for i := range 100 {
		initial.WriteString(" " + itoa(10000+i) + "\n")
	}
	os.WriteFile(path, []byte(initial.String()), 0o600)
	const appended = 300
	done := make(chan error)
	go func() {
		for i := range appended {
			f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
			if err != nil {
				done <- err
				return
			}
			_, err = f.WriteString(" " + itoa(20000+i) + "\n")
			f.Close()
			if err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	for range 60 {
		if _, err := UseOneTime(path); err != nil {
			t.Fatal(err)
		}
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	if len(lines) != 100+appended {
		t.Fatalf("%d lines, want %d: lines appended meanwhile were lost", len(lines), 100+appended)
	}
	for i := range appended {
		if want := itoa(20000 + i); !slices.Contains(lines, " "+want) && !slices.Contains(lines, "#"+want) {
			t.Fatalf("appended line %s lost", want)
		}
	}
	if used := strings.Count(string(b), "#"); used != 60 {
		t.Fatalf("%d lines marked, want 60", used)
	}
}

// knockd runs as root: a One_Time_Sequences file, a LogFile or a PID file
// that is a symbolic link planted by someone else is refused, and the
// file it points to is left as it was.
func TestNoWriteThroughSymlinks(t *testing.T) {
	dir := t.TempDir()
	victim := filepath.Join(dir, "victim")
	os.WriteFile(victim, []byte(" 8001\n"), 0o600)
	link := filepath.Join(dir, "link")
	if err := os.Symlink(victim, link); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadOneTime(link); err == nil || !strings.Contains(err.Error(), "symbolic link") {
		t.Errorf("LoadOneTime through a link: %v", err)
	}
	if _, err := UseOneTime(link); err == nil || !strings.Contains(err.Error(), "symbolic link") {
		t.Errorf("UseOneTime through a link: %v", err)
	}
	if l, err := NewLogger(link, false); err == nil {
		l.Close()
		t.Errorf("LogFile through a link accepted")
	}
	if b, _ := os.ReadFile(victim); string(b) != " 8001\n" {
		t.Fatalf("victim changed: %q", b)
	}
	if fi, _ := os.Stat(victim); fi.Mode().Perm() != 0o600 {
		t.Fatalf("victim's mode changed: %v", fi.Mode())
	}
}
