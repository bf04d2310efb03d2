//go:build unix

package server

import (
	"net"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// listenDevLog makes path a datagram syslog socket.
func listenDevLog(t *testing.T, path string) *net.UnixConn {
	t.Helper()
	c, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// stopDevLog stops a syslog socket as a daemon that exits does: no one
// can send to it any more, whoever holds a copy.
func stopDevLog(t *testing.T, c *net.UnixConn) {
	t.Helper()
	rc, err := c.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	if err := rc.Control(func(fd uintptr) { err = syscall.Shutdown(int(fd), syscall.SHUT_RD) }); err != nil {
		t.Fatal(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
}

func readMsg(t *testing.T, c *net.UnixConn) string {
	t.Helper()
	buf := make([]byte, 1024)
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, err := c.Read(buf)
	if err != nil {
		t.Fatal(err)
	}
	return string(buf[:n])
}

// The syslog lines are knockd 0.8's, byte for byte, and a syslog daemon
// that restarts (a new socket at the same path) gets the next line.
func TestSyslogWriter(t *testing.T) {
	dir, err := os.MkdirTemp("", "syslog") // socket paths must be short
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	path := filepath.Join(dir, "log")
	paths := []string{filepath.Join(dir, "missing"), path}
	if _, err := dialSyslog(paths...); err == nil {
		t.Fatal("dialSyslog succeeded with no syslog socket")
	}
	sock := listenDevLog(t, path)
	w, err := dialSyslog(paths...)
	if err != nil {
		t.Fatal(err)
	}
	w.now = func() time.Time { return time.Date(2026, 3, 5, 7, 8, 9, 0, time.UTC) }
	log := &Logger{syslog: w, Now: time.Now}
	log.Printf("%s: %s: OPEN SESAME", "10.77.0.1", "ssh")
	if got, want := readMsg(t, sock), "<29>Mar  5 07:08:09 knockd: 10.77.0.1: ssh: OPEN SESAME"; got != want {
		t.Errorf("syslog message %q, want %q", got, want)
	}

	// The daemon restarts. Its old socket is shut down before it is
	// closed: a command another test forks can hold a copy of it until
	// the child execs (under qemu-user, where fork is a whole fork, for
	// long enough to matter), and a socket closed but still held takes
	// the next message and loses it. held stands for such a child here.
	held, err := sock.File()
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	stopDevLog(t, sock)
	os.Remove(path)
	sock = listenDevLog(t, path)
	log.Printf("shutting down")
	if got, want := readMsg(t, sock), "<29>Mar  5 07:08:09 knockd: shutting down"; got != want {
		t.Errorf("after a syslog restart: %q, want %q", got, want)
	}
}
