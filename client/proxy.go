package client

import (
	"errors"
	"io"
	"net"
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
	_, err := io.Copy(out, conn)
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
