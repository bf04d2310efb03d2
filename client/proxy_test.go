package client

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// serve accepts one connection on a loopback listener and hands it to fn.
func serve(t *testing.T, fn func(c *net.TCPConn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		fn(c.(*net.TCPConn))
	}()
	return ln.Addr().String()
}

func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestPipeHalfCloseLargeTransfer(t *testing.T) {
	// The server reads everything until the client's half-close, then
	// sends it all back and closes: only a real half-close lets it answer.
	addr := serve(t, func(c *net.TCPConn) {
		data, _ := io.ReadAll(c)
		c.Write(data)
		c.Close()
	})
	payload := make([]byte, 8<<20)
	rand.Read(payload)
	var out bytes.Buffer
	if err := Pipe(dial(t, addr), bytes.NewReader(payload), &out); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out.Bytes(), payload) {
		t.Fatalf("got %d bytes back, want the %d sent", out.Len(), len(payload))
	}
}

func TestPipeServerClosesFirst(t *testing.T) {
	addr := serve(t, func(c *net.TCPConn) {
		c.Write([]byte("SSH-2.0-bye\r\n"))
		c.Close()
	})
	// stdin stays open, as ssh's pipe does: Pipe must still return.
	stdin, w := io.Pipe()
	defer w.Close()
	var out bytes.Buffer
	done := make(chan error, 1)
	go func() { done <- Pipe(dial(t, addr), stdin, &out) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Pipe did not return after the server closed")
	}
	if out.String() != "SSH-2.0-bye\r\n" {
		t.Fatalf("out %q", out.String())
	}
}

func TestPipeEmptyInput(t *testing.T) {
	addr := serve(t, func(c *net.TCPConn) {
		n, _ := io.Copy(io.Discard, c) // sees EOF at once
		c.Write([]byte{byte('0' + n)})
		c.Close()
	})
	var out bytes.Buffer
	if err := Pipe(dial(t, addr), strings.NewReader(""), &out); err != nil {
		t.Fatal(err)
	}
	if out.String() != "0" {
		t.Fatalf("out %q", out.String())
	}
}

func TestWaitOpenSeesTheDoorOpen(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // closed for now: refused
	var reknocks atomic.Int32
	go func() {
		time.Sleep(700 * time.Millisecond)
		ln2, err := net.Listen("tcp", addr)
		if err != nil {
			return
		}
		t.Cleanup(func() { ln2.Close() })
		ln2.Accept()
	}()
	c, r, err := WaitOpen(context.Background(), nil, addr, 5*time.Second, func() { reknocks.Add(1) })
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	if r.Refused == 0 || r.Took < 500*time.Millisecond {
		t.Fatalf("result %+v", r)
	}
	if reknocks.Load() != 0 {
		t.Fatal("re-knocked before half the wait had passed")
	}
}

func TestWaitOpenGivesUpWithinWait(t *testing.T) {
	var reknocks atomic.Int32
	timeouts := 0
	dialer := func(ctx context.Context, _, _ string) (net.Conn, error) {
		timeouts++
		if timeouts%2 == 0 {
			return nil, &net.OpError{Op: "dial", Err: errors.New("connection refused: " + "x"), Source: nil}
		}
		<-ctx.Done()
		return nil, ctx.Err()
	}
	start := time.Now()
	_, r, err := WaitOpen(context.Background(), dialer, "10.77.0.2:22", 2*time.Second, func() { reknocks.Add(1) })
	if err == nil {
		t.Fatal("no error")
	}
	if took := time.Since(start); took > 2500*time.Millisecond {
		t.Fatalf("gave up after %v, wait was 2s", took)
	}
	if reknocks.Load() != 1 {
		t.Fatalf("re-knocked %d times, want once", reknocks.Load())
	}
	if r.TimedOut == 0 || !strings.Contains(err.Error(), "10.77.0.2:22 did not open within 2s: timed out") {
		t.Fatalf("err %v, result %+v", err, r)
	}
}

// A connection the server's side resets (a door closing under it on a
// firewall that rejects with a reset) is reported as such, not as a
// failed write to standard output.
func TestPipeNamesAReset(t *testing.T) {
	addr := serve(t, func(c *net.TCPConn) {
		c.Write([]byte("SSH-2.0-test\r\n"))
		io.ReadFull(c, make([]byte, 1)) // the client is there
		c.SetLinger(0)                  // close with a reset
		c.Close()
	})
	conn := dial(t, addr)
	var out bytes.Buffer
	stdin, w := io.Pipe()
	defer w.Close()
	go w.Write([]byte("x"))
	err := Pipe(conn, stdin, &out)
	if !errors.Is(err, ErrReset) || !strings.Contains(err.Error(), "established connections") {
		t.Fatalf("err = %v", err)
	}
	if out.String() != "SSH-2.0-test\r\n" {
		t.Fatalf("out %q", out.String())
	}
}

// When ssh has gone (its end of the pipe closed), the proxy ends quietly:
// ssh says what happened.
func TestPipeReaderGone(t *testing.T) {
	addr := serve(t, func(c *net.TCPConn) {
		c.Write([]byte("data"))
		time.Sleep(100 * time.Millisecond)
		c.Close()
	})
	r, w := io.Pipe()
	r.Close()
	if err := Pipe(dial(t, addr), strings.NewReader(""), w); err != nil {
		t.Fatalf("err = %v", err)
	}
}
