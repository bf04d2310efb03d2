package client

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"syscall"
	"time"
)

// Probe settings: each connection attempt is short, so a door that opens
// while an attempt is pending is noticed soon after.
const (
	probeTimeout = 700 * time.Millisecond
	probePause   = 200 * time.Millisecond
)

// WaitResult says what waiting for a door saw.
type WaitResult struct {
	Attempts int
	Refused  int // the port answered with a reset (closed or REJECTed)
	TimedOut int // no answer (DROPped)
	Other    int
	LastErr  error
	Took     time.Duration
}

// String sums the failed attempts up: "refused 12 times, timed out 3 times".
func (r WaitResult) String() string {
	var parts []string
	if r.Refused > 0 {
		parts = append(parts, fmt.Sprintf("refused %d times", r.Refused))
	}
	if r.TimedOut > 0 {
		parts = append(parts, fmt.Sprintf("timed out %d times", r.TimedOut))
	}
	if r.Other > 0 {
		parts = append(parts, fmt.Sprintf("failed %d times (last: %v)", r.Other, r.LastErr))
	}
	if len(parts) == 0 {
		return "no attempt made"
	}
	return strings.Join(parts, ", ")
}

// Dialer opens TCP connections; tests replace it.
type Dialer func(ctx context.Context, network, addr string) (net.Conn, error)

// WaitOpen connects to addr, retrying with short attempts while the door
// is still shut, until wait has passed. Halfway through it calls reknock
// once (the server's command may have missed the first knock, or it
// reopened too late). It returns the connection and what it saw.
func WaitOpen(ctx context.Context, dial Dialer, addr string, wait time.Duration, reknock func()) (net.Conn, WaitResult, error) {
	if dial == nil {
		var d net.Dialer
		dial = d.DialContext
	}
	start := time.Now()
	deadline := start.Add(wait)
	var r WaitResult
	reknocked := reknock == nil
	for {
		if !reknocked && time.Since(start) >= wait/2 {
			reknock()
			reknocked = true
		}
		attempt := min(probeTimeout, time.Until(deadline))
		if attempt <= 0 {
			break
		}
		actx, cancel := context.WithTimeout(ctx, attempt)
		c, err := dial(actx, "tcp", addr)
		cancel()
		r.Attempts++
		if err == nil {
			r.Took = time.Since(start)
			return c, r, nil
		}
		if ctx.Err() != nil {
			return nil, r, ctx.Err()
		}
		r.LastErr = err
		var ne net.Error
		switch {
		case errors.Is(err, syscall.ECONNREFUSED):
			r.Refused++
		case errors.As(err, &ne) && ne.Timeout(), errors.Is(err, context.DeadlineExceeded):
			r.TimedOut++
		default:
			r.Other++
		}
		pause := min(probePause, time.Until(deadline))
		if pause <= 0 {
			break
		}
		select {
		case <-ctx.Done():
			return nil, r, ctx.Err()
		case <-time.After(pause):
		}
	}
	r.Took = time.Since(start)
	return nil, r, fmt.Errorf("%s did not open within %v: %s", addr, wait, r)
}
