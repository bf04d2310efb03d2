package client

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"net/textproto"
	neturl "net/url"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// Limits of what is read from a server: the status line and headers
// together, and the body (more is left unread).
const (
	httpMaxHead = 64 << 10
	httpMaxBody = 4096
)

// publicIPTimeout bounds the whole request.
const publicIPTimeout = 10 * time.Second

// PublicIP asks url for this host's public address of the family given
// (4 or 6), as fwknop's -R does for IPv4: the request goes over that
// family, and the page's first address of it is the answer.
//
// As fwknop does, an http:// URL is asked from here and an https:// one
// through an HTTPS client of the system's: curl, else wget (fwknop runs
// wget). knock links no TLS stack for this one request: net/http and
// crypto/tls made its binary 2.7 MB larger, and every knock slower to
// start by about 5% of a Go program that does nothing. The server is
// asked directly, never through HTTP(S)_PROXY: the address wanted is the
// one the SPA packet leaves from, not a proxy's.
func PublicIP(ctx context.Context, url string, family int) (netip.Addr, error) {
	return publicIP(ctx, url, family, exec.LookPath)
}

// publicIP is PublicIP finding curl and wget with lookPath.
func publicIP(ctx context.Context, url string, family int, lookPath func(string) (string, error)) (netip.Addr, error) {
	if family != 6 {
		family = 4
	}
	ctx, cancel := context.WithTimeout(ctx, publicIPTimeout)
	defer cancel()
	var body []byte
	u, err := neturl.Parse(url)
	switch {
	case err != nil:
	case u.Scheme == "https": // any case: Parse lowers it
		body, err = httpsGet(ctx, url, family, lookPath)
	default:
		body, err = httpGet(ctx, u, family)
	}
	if err != nil {
		return netip.Addr{}, fmt.Errorf("resolving our address at %s: %w", url, err)
	}
	inWord := func(r rune) bool { return r >= '0' && r <= '9' || r == '.' }
	if family == 6 {
		inWord = func(r rune) bool {
			return r >= '0' && r <= '9' || r >= 'a' && r <= 'f' || r >= 'A' && r <= 'F' || r == ':' || r == '.'
		}
	}
	for _, w := range strings.FieldsFunc(string(body), func(r rune) bool { return !inWord(r) }) {
		if a, err := netip.ParseAddr(w); err == nil && a.Is4() == (family == 4) && !a.Is4In6() {
			return a, nil
		}
	}
	return netip.Addr{}, fmt.Errorf("resolving our address at %s: no IPv%d address in its answer (%s)", url, family, strconv.Quote(string(body[:min(len(body), 80)])))
}

// httpsClients are the programs httpsGet tries, in order, with the
// arguments that make each fetch one URL to stdout the way httpGet does:
// no proxy, no redirect, HTTPS only, certificates checked, one try,
// bounded in time, an error for a status other than success.
var httpsClients = []struct {
	name string
	args func(url string, family int) []string
}{
	{"curl", func(url string, family int) []string {
		return []string{"-" + strconv.Itoa(family), "--silent", "--show-error", "--fail", "--proto", "=https", "--noproxy", "*",
			"--globoff",                       // the URL is one URL: no {a,b} or [1-9] sets of them
			"--location", "--max-redirs", "0", // a redirect is an error, as for wget
			"--max-time", strconv.Itoa(int(publicIPTimeout / time.Second)), "--user-agent", "knock", "--", url}
	}},
	{"wget", func(url string, family int) []string {
		return []string{"--inet" + strconv.Itoa(family) + "-only", "--no-verbose", "--output-document=-", "--https-only", "--max-redirect=0", "--no-proxy",
			"--tries=1", "--timeout=" + strconv.Itoa(int(publicIPTimeout/time.Second)), "--user-agent=knock", "--", url}
	}},
}

// httpsGet fetches url over IP family 4 or 6 with the first of
// httpsClients that lookPath finds, and returns the start of the body.
func httpsGet(ctx context.Context, url string, family int, lookPath func(string) (string, error)) ([]byte, error) {
	for _, c := range httpsClients {
		path, err := lookPath(c.name)
		if err != nil {
			continue
		}
		cmd := exec.CommandContext(ctx, path, c.args(url, family)...)
		var stderr bytes.Buffer
		cmd.Stderr = &limitedBuffer{buf: &stderr, n: 1024}
		out, err := cmd.StdoutPipe()
		if err != nil {
			return nil, err
		}
		if err := cmd.Start(); err != nil {
			return nil, fmt.Errorf("%s: %w", c.name, err)
		}
		body, _ := io.ReadAll(io.LimitReader(out, httpMaxBody))
		_, _ = io.Copy(io.Discard, out) // the rest, so that it can exit
		if err := cmd.Wait(); err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			msg := strings.TrimSpace(stderr.String())
			if i := strings.LastIndexByte(msg, '\n'); i >= 0 {
				msg = msg[i+1:] // curl and wget say what failed last
			}
			if msg == "" {
				return nil, fmt.Errorf("%s: %w", c.name, err)
			}
			return nil, fmt.Errorf("%s: %s (%w)", c.name, truncate(msg, 200), err)
		}
		return body, nil
	}
	return nil, errors.New("an https:// URL is asked through curl or wget (as fwknop -R asks through wget), and neither is on PATH: install one, give allow_ip this host's public address, or use an http:// resolve_url")
}

// limitedBuffer keeps the first n bytes written to it and takes the rest
// without keeping it.
type limitedBuffer struct {
	buf *bytes.Buffer
	n   int
}

func (l *limitedBuffer) Write(p []byte) (int, error) {
	if room := l.n - l.buf.Len(); room > 0 {
		l.buf.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

// httpGet fetches u (http://) over IP family 4 or 6 with one HTTP/1.1
// GET and returns the start of its body, at most httpMaxBody bytes:
// written on net rather than net/http, for the same reason. Redirects
// are reported, not followed.
func httpGet(ctx context.Context, u *neturl.URL, family int) ([]byte, error) {
	if u.Scheme != "http" {
		return nil, fmt.Errorf("%q: want an http:// or https:// URL", u.Redacted())
	}
	if u.Hostname() == "" {
		return nil, fmt.Errorf("%q: no host", u.Redacted())
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp"+strconv.Itoa(family), net.JoinHostPort(u.Hostname(), cmp.Or(u.Port(), "80")))
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	// The context bounds the whole exchange, not only the dial.
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	req := "GET " + u.RequestURI() + " HTTP/1.1\r\nHost: " + u.Host +
		"\r\nUser-Agent: knock\r\nAccept: */*\r\nConnection: close\r\n\r\n"
	if _, err := io.WriteString(conn, req); err != nil {
		return nil, ctxErr(ctx, err)
	}
	body, err := readResponse(conn)
	return body, ctxErr(ctx, err)
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
		return readChunked(tp)
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

// readChunked decodes a chunked body from tp, up to httpMaxBody bytes.
func readChunked(tp *textproto.Reader) ([]byte, error) {
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
		if _, err := io.ReadFull(tp.R, out[start:]); err != nil {
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
