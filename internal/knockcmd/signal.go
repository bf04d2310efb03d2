package knockcmd

import (
	"context"
	"os"
	"os/signal"
	"sync"
	"syscall"
)

// signalContext is cancelled by SIGINT or SIGTERM, so that a knock that
// waits (a delay, --wait, proxy, check) ends cleanly on Ctrl-C. It
// installs the handler only when something first waits on it (Done):
// os/signal's receiving goroutine costs a thread of its own at start
// (0.1-0.25 ms measured here, a tenth of a profile knock), and a knock
// that never waits is a few sendmsg calls, for which the default action
// of SIGINT, ending the process, is right.
type signalContext struct {
	context.Context // the parent: values, and no deadline

	mu   sync.Mutex
	ctx  context.Context // nil until something waits
	stop context.CancelFunc
}

func newSignalContext(parent context.Context) *signalContext {
	return &signalContext{Context: parent}
}

// watch installs the handler, once, and returns the context it cancels.
func (c *signalContext) watch() context.Context {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ctx == nil {
		c.ctx, c.stop = signal.NotifyContext(c.Context, os.Interrupt, syscall.SIGTERM)
	}
	return c.ctx
}

// Done installs the signal handler and returns the channel closed on a
// signal (or when the parent is done).
func (c *signalContext) Done() <-chan struct{} { return c.watch().Done() }

// Err is the parent's until Done was called: before that no signal is
// caught, and one ends the process.
func (c *signalContext) Err() error {
	c.mu.Lock()
	ctx := c.ctx
	c.mu.Unlock()
	if ctx == nil {
		return c.Context.Err()
	}
	return ctx.Err()
}

// Stop removes the handler, if it was installed.
func (c *signalContext) Stop() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stop != nil {
		c.stop()
	}
}
