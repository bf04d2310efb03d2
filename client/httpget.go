package client

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/textproto"
	"net/url"
	"strconv"
	"strings"
)

// Limits of what httpGet reads from a server: the status line and headers
// together, and the body it returns (more is left unread).
const (
	httpMaxHead = 64 << 10
	httpMaxBody = 4096
)

// httpGet fetches rawURL (http:// or https://) with one HTTP/1.1 GET and
// returns the start of its body, at most httpMaxBody bytes. It is all the
// HTTP a knock needs (fwknop's -R asks a web page for this host's address),
// written on net and crypto/tls rather than net/http: net/http, its HTTP/2
// and its proxy support made the knock binary 2 MB larger, and every knock
// slower to start by about 4% of a Go program that does nothing.
//
// The server is asked directly, never through HTTP(S)_PROXY: the address
// wanted is the one knock's own packets leave from, not a proxy's.
// Redirects are reported, not followed. roots nil means the system's
// certificate pool.
func httpGet(ctx context.Context, rawURL string, roots *x509.CertPool) ([]byte, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, err
	}
	port := u.Port()
	switch u.Scheme {
	case "https":
		port = orDefault(port, "443")
	case "http":
		port = orDefault(port, "80")
	default:
		return nil, fmt.Errorf("%q: want an http:// or https:// URL", rawURL)
	}
	if u.Hostname() == "" {
		return nil, fmt.Errorf("%q: no host", rawURL)
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", net.JoinHostPort(u.Hostname(), port))
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	// The context bounds the whole exchange, not only the dial.
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	if u.Scheme == "https" {
		tc := tls.Client(conn, &tls.Config{ServerName: u.Hostname(), RootCAs: roots, MinVersion: tls.VersionTLS12})
		if err := tc.HandshakeContext(ctx); err != nil {
			return nil, ctxErr(ctx, err)
		}
		conn = tc
	}
	req := "GET " + u.RequestURI() + " HTTP/1.1\r\nHost: " + u.Host +
		"\r\nUser-Agent: knock\r\nAccept: */*\r\nConnection: close\r\n\r\n"
	if _, err := io.WriteString(conn, req); err != nil {
		return nil, ctxErr(ctx, err)
	}
	body, err := readResponse(conn)
	return body, ctxErr(ctx, err)
}

// orDefault returns a, or def when a is empty.
func orDefault(a, def string) string {
	if a == "" {
		return def
	}
	return a
}

// ctxErr prefers the context's error (a timeout) to the closed
// connection's that it caused.
func ctxErr(ctx context.Context, err error) error {
	if err != nil && ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

// readResponse reads an HTTP/1.x response and returns the start of its
// body when its status is 200.
func readResponse(conn io.Reader) ([]byte, error) {
	lr := &io.LimitedReader{R: conn, N: httpMaxHead} // no endless headers
	br := bufio.NewReader(lr)
	tp := textproto.NewReader(br)
	var (
		code   int
		status string
		h      textproto.MIMEHeader
	)
	for {
		line, err := tp.ReadLine()
		if err != nil {
			return nil, fmt.Errorf("reading the response: %w", unexpected(err))
		}
		proto, rest, _ := strings.Cut(line, " ")
		codeStr, _, _ := strings.Cut(rest, " ")
		code, err = strconv.Atoi(codeStr)
		if !strings.HasPrefix(proto, "HTTP/1.") || len(codeStr) != 3 || err != nil {
			return nil, fmt.Errorf("not an HTTP/1 response: %q", truncate(line, 80))
		}
		status = strings.TrimSpace(rest)
		if h, err = tp.ReadMIMEHeader(); err != nil {
			return nil, fmt.Errorf("reading the response headers: %w", unexpected(err))
		}
		if code >= 200 || code == 101 {
			break
		}
		// 1xx informational responses precede the real one.
	}
	if code != 200 {
		if loc := h.Get("Location"); loc != "" && code/100 == 3 {
			return nil, fmt.Errorf("%s, to %s (redirects are not followed: give that URL)", status, truncate(loc, 200))
		}
		return nil, errors.New(status)
	}
	lr.N = httpMaxHead + httpMaxBody // the body, with room for chunk framing
	if strings.EqualFold(h.Get("Transfer-Encoding"), "chunked") {
		return readChunked(br)
	}
	length := int64(-1) // until the server closes
	if cl := h.Get("Content-Length"); cl != "" {
		n, err := strconv.ParseInt(cl, 10, 64)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("bad Content-Length %q", truncate(cl, 40))
		}
		length = n
	}
	want := int64(httpMaxBody)
	if length >= 0 {
		want = min(length, want)
	}
	b, err := io.ReadAll(io.LimitReader(br, want))
	if err == nil && length >= 0 && int64(len(b)) < want {
		err = io.ErrUnexpectedEOF
	}
	if err != nil {
		return nil, fmt.Errorf("reading the body: %w", err)
	}
	return b, nil
}

// readChunked decodes a chunked body, up to httpMaxBody bytes.
func readChunked(r *bufio.Reader) ([]byte, error) {
	tp := textproto.NewReader(r)
	var out []byte
	for len(out) < httpMaxBody {
		line, err := tp.ReadLine()
		if err != nil {
			return nil, fmt.Errorf("reading a chunk: %w", unexpected(err))
		}
		sizeStr, _, _ := strings.Cut(line, ";") // chunk extensions
		size, err := strconv.ParseUint(strings.TrimSpace(sizeStr), 16, 32)
		if err != nil {
			return nil, fmt.Errorf("bad chunk size %q", truncate(line, 40))
		}
		if size == 0 {
			break
		}
		n := min(int(size), httpMaxBody-len(out))
		start := len(out)
		out = append(out, make([]byte, n)...)
		if _, err := io.ReadFull(r, out[start:]); err != nil {
			return nil, fmt.Errorf("reading a chunk: %w", unexpected(err))
		}
		if n < int(size) {
			break // enough; the rest is left unread
		}
		if line, err := tp.ReadLine(); err != nil || line != "" {
			return nil, errors.New("chunk not followed by CRLF")
		}
	}
	return out, nil
}

// unexpected makes an early end of the response say so.
func unexpected(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}
