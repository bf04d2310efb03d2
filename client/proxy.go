package client

import (
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
)

// closeWriter is a connection that can shut down its sending side alone.
type closeWriter interface {
	CloseWrite() error
}

// Pipe carries a connection for ssh's ProxyCommand: what arrives on in goes
// to conn, what conn sends goes to out. When in ends, conn's sending side is
// shut (a half-close), so the server sees the end of input but can still
// answer; when conn ends, Pipe returns, and ssh sees a clean end. Errors
// other than the ordinary ends are returned.
func Pipe(conn net.Conn, in io.Reader, out io.Writer) error {
	upDone := make(chan error, 1)
	go func() {
		_, err := io.Copy(conn, in)
		if cw, ok := conn.(closeWriter); ok {
			if cerr := cw.CloseWrite(); err == nil {
				err = cerr
			}
		}
		upDone <- err
	}()
	err := download(out, conn)
	conn.Close()
	if errors.Is(err, net.ErrClosed) {
		err = nil
	}
	// The server closed: whatever stdin still had is moot. Do not wait for
	// the upload (stdin may never end), but report its failure if it
	// already had one.
	select {
	case uerr := <-upDone:
		if err == nil && uerr != nil && !errors.Is(uerr, net.ErrClosed) && !errors.Is(uerr, io.ErrClosedPipe) {
			err = uerr
		}
	default:
	}
	return err
}

// ErrReset is a connection the server's side reset: most often a door
// that closed under it, on a firewall that does not keep established
// connections.
var ErrReset = errors.New("the connection was reset by the server's side (a door that closed under it, on a firewall without a rule for established connections? knockd fw open adds one)")

// download copies conn to out until conn ends. A reset of conn is
// ErrReset; a failed write to out (ssh, its reader, has gone, and says
// why itself) ends the copy without an error of its own.
func download(out io.Writer, conn net.Conn) error {
	buf := make([]byte, 32<<10)
	for {
		n, rerr := conn.Read(buf)
		if n > 0 {
			if _, werr := out.Write(buf[:n]); werr != nil {
				if errors.Is(werr, syscall.EPIPE) || errors.Is(werr, io.ErrClosedPipe) {
					return nil
				}
				return werr
			}
		}
		switch {
		case rerr == nil:
		case errors.Is(rerr, io.EOF):
			return nil
		case errors.Is(rerr, syscall.ECONNRESET):
			return fmt.Errorf("%w: %v", ErrReset, rerr)
		default:
			return rerr
		}
	}
}
