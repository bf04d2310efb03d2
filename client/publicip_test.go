package client

import (
	"bufio"
	"context"
	"encoding/pem"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	neturl "net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// PublicIP over HTTP against Go's own server, in each way it ends a
// body, and the failures a user must be told about.
func TestPublicIP(t *testing.T) {
	srv := httptest.NewServer(myIPMux())
	defer srv.Close()
	tests := []struct {
		url, want, wantErr string
	}{
		{srv.URL + "/myip", "198.51.100.7", ""},
		{srv.URL + "/chunked", "203.0.113.9", ""},
		{srv.URL + "/query?a=1&b=2", "192.0.2.44", ""},
		{srv.URL + "/big", "", "no IPv4 address in its answer"}, // only the first 4096 bytes are read
		{srv.URL + "/nowhere", "", "404 Not Found"},
		{srv.URL + "/moved", "", "302 Found, to /myip (redirects are not followed"},
		{srv.URL + "/none", "", `no IPv4 address in its answer ("no address here")`},
		{"ftp://" + srv.Listener.Addr().String() + "/", "", "want an http:// or https:// URL"},
	}
	for _, tt := range tests {
		got, err := PublicIP(context.Background(), tt.url, 4)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), tt.url) {
				t.Errorf("%s: err = %v, want one naming the URL and %q", tt.url, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got.String() != tt.want {
			t.Errorf("%s: %v, %v; want %s", tt.url, got, err, tt.want)
		}
	}
}

// PublicIP for IPv6 asks over IPv6 and takes the page's first IPv6
// address; a page without one is an error that says which family.
func TestPublicIPv6(t *testing.T) {
	l, err := net.Listen("tcp6", "[::1]:0")
	if err != nil {
		t.Skipf("SKIPPED: no IPv6 loopback here: %v", err)
	}
	srv := httptest.NewUnstartedServer(myIPMux())
	srv.Listener = l
	srv.Start()
	defer srv.Close()
	got, err := PublicIP(context.Background(), srv.URL+"/chunked", 6)
	if err != nil || got.String() != "2001:db8::1" {
		t.Fatalf("got %v, %v; want 2001:db8::1", got, err)
	}
	if _, err := PublicIP(context.Background(), srv.URL+"/myip", 6); err == nil || !strings.Contains(err.Error(), "no IPv6 address in its answer") {
		t.Fatalf("a page with only IPv4: err = %v", err)
	}
	// Over IPv4 it cannot reach an IPv6-only server.
	if _, err := PublicIP(context.Background(), srv.URL+"/chunked", 4); err == nil {
		t.Fatal("asked over IPv4, an IPv6 server answered")
	}
}

// myIPMux serves the pages the PublicIP tests ask.
func myIPMux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("/myip", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("User-Agent") != "knock" || r.Host == "" {
			http.Error(w, "bad request line", http.StatusBadRequest)
			return
		}
		w.Write([]byte("Your address: 198.51.100.7\n")) // Content-Length
	})
	mux.HandleFunc("/chunked", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("you are at "))
		w.(http.Flusher).Flush() // no Content-Length: chunked
		w.Write([]byte("203.0.113.9 (v6 2001:db8::1)"))
	})
	mux.HandleFunc("/big", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(strings.Repeat("x", 10000) + " 192.0.2.1"))
	})
	mux.HandleFunc("/query", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(r.URL.RawQuery + " 192.0.2.44"))
	})
	mux.HandleFunc("/moved", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/myip", http.StatusFound)
	})
	mux.HandleFunc("/none", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("no address here")) })
	return mux
}

// https:// goes through the system's curl and wget, for real, against an
// HTTPS server on loopback: each trusts it when told to (CURL_CA_BUNDLE,
// a wgetrc's ca_certificate), refuses it otherwise, reports a failing
// status, and does not follow a redirect.
func TestPublicIPHTTPSThroughCurlAndWget(t *testing.T) {
	srv := httptest.NewUnstartedServer(myIPMux())
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshakes
	srv.StartTLS()
	defer srv.Close()
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	wgetrc := filepath.Join(t.TempDir(), "wgetrc")
	if err := os.WriteFile(wgetrc, []byte("ca_certificate = "+ca+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, prog := range []string{"curl", "wget"} {
		t.Run(prog, func(t *testing.T) {
			path, err := exec.LookPath(prog)
			if err != nil {
				if os.Getenv("CI") == "true" {
					t.Fatalf("%s missing under CI (scripts/deps.sh installs it)", prog)
				}
				t.Skipf("SKIPPED: %s is not installed", prog)
			}
			only := func(name string) (string, error) {
				if name == prog {
					return path, nil
				}
				return "", exec.ErrNotFound
			}
			get := func(page string) (string, error) {
				ctx, cancel := context.WithTimeout(context.Background(), publicIPTimeout)
				defer cancel()
				b, err := httpsGet(ctx, srv.URL+page, 4, only)
				return string(b), err
			}
			// Not trusted: refused.
			if body, err := get("/myip"); err == nil || !strings.Contains(err.Error(), prog+": ") {
				t.Fatalf("untrusted certificate: %q, %v", body, err)
			}
			t.Setenv("CURL_CA_BUNDLE", ca)
			t.Setenv("WGETRC", wgetrc)
			if body, err := get("/myip"); err != nil || body != "Your address: 198.51.100.7\n" {
				t.Fatalf("trusted: %q, %v", body, err)
			}
			if body, err := get("/chunked"); err != nil || !strings.Contains(body, "203.0.113.9") {
				t.Fatalf("chunked: %q, %v", body, err)
			}
			if body, err := get("/big"); err != nil || len(body) != httpMaxBody {
				t.Fatalf("big page: %d bytes, %v; want the first %d", len(body), err, httpMaxBody)
			}
			if _, err := get("/nowhere"); err == nil || !strings.Contains(err.Error(), "404") {
				t.Fatalf("404: err = %v", err)
			}
			if body, err := get("/moved"); err == nil {
				t.Fatalf("redirect followed: %q", body)
			}
		})
	}
}

// httpsGet hands curl, else wget, the URL as the single word after "--",
// and says what to do when neither is installed.
func TestHTTPSGetPicksAProgram(t *testing.T) {
	dir := t.TempDir()
	fake := func(name string) string {
		p := filepath.Join(dir, name)
		script := "#!/bin/sh\nfor a in \"$@\"; do printf '%s\\n' \"$a\"; done\necho 192.0.2.3\n"
		if err := os.WriteFile(p, []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
		return p
	}
	curl, wget := fake("curl"), fake("wget")
	find := func(have ...string) func(string) (string, error) {
		return func(name string) (string, error) {
			for _, h := range have {
				if filepath.Base(h) == name {
					return h, nil
				}
			}
			return "", exec.ErrNotFound
		}
	}
	url := "https://myip.lab/?q=a b"
	for _, tt := range []struct {
		have []string
		want string
	}{
		{[]string{curl, wget}, "--noproxy"}, // curl first
		{[]string{wget}, "--no-proxy"},
	} {
		out, err := httpsGet(context.Background(), url, 4, find(tt.have...))
		if err != nil {
			t.Fatal(err)
		}
		args := strings.Split(strings.TrimSpace(string(out)), "\n")
		if len(args) < 3 || args[len(args)-3] != "--" || args[len(args)-2] != url || !slices.Contains(args, tt.want) {
			t.Fatalf("%v ran with %q", tt.have, args)
		}
	}
	// Over IPv6: each is told to use it only.
	for prog, want := range map[string]string{curl: "-6", wget: "--inet6-only"} {
		out, err := httpsGet(context.Background(), url, 6, find(prog))
		if err != nil || !slices.Contains(strings.Split(string(out), "\n"), want) {
			t.Fatalf("%s over IPv6 ran with %q (%v), without %s", prog, out, err, want)
		}
	}
	if _, err := httpsGet(context.Background(), url, 4, find()); err == nil || !strings.Contains(err.Error(), "install one") {
		t.Fatalf("neither installed: err = %v", err)
	}
	// The scheme in any case (a profile's URL is checked by url.Parse,
	// which lowers it) goes the same way, and curl takes the URL as one.
	got, err := publicIP(context.Background(), "HTTPS://myip.lab/{a,b}", 4, find(curl))
	if err != nil || got.String() != "192.0.2.3" {
		t.Fatalf("HTTPS:// URL: %v, %v", got, err)
	}
	out, _ := httpsGet(context.Background(), url, 4, find(curl))
	if !slices.Contains(strings.Split(string(out), "\n"), "--globoff") {
		t.Fatalf("curl ran with %q, without --globoff", out)
	}
}

// Responses Go's server does not send: a body ended by closing the
// connection, 1xx responses first, garbage, an early end, a server that
// never answers.
func TestHTTPGetRawServers(t *testing.T) {
	tests := []struct {
		name, response string
		want, wantErr  string
	}{
		{"close-delimited", "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\n192.0.2.5\n", "192.0.2.5\n", ""},
		{"100 continue first", "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n192.0.2.6trailing", "192.0.2.6", ""},
		{"chunk extension", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4;x=y\r\n192.\r\n5\r\n0.2.7\r\n0\r\n\r\n", "192.0.2.7", ""},
		{"not http", "SSH-2.0-OpenSSH_9.2\r\n", "", "not an HTTP/1 response"},
		{"early end", "HTTP/1.1 200 OK\r\nContent-Length: 9\r\n", "", "unexpected EOF"},
		{"short body", "HTTP/1.1 200 OK\r\nContent-Length: 90\r\n\r\n192.0.2.8", "", "unexpected EOF"},
		{"bad chunk", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "", "bad chunk size"},
		{"server error", "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n", "", "503 Service Unavailable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			url := rawServer(t, tt.response)
			u, _ := neturl.Parse(url)
			got, err := httpGet(context.Background(), u, 4)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || string(got) != tt.want {
				t.Fatalf("got %q, %v; want %q", got, err, tt.want)
			}
		})
	}

	t.Run("silent server", func(t *testing.T) {
		addr := serve(t, func(c *net.TCPConn) {
			defer c.Close()
			bufio.NewReader(c).ReadString(0) // reads until knock gives up
		})
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		if _, err := httpGet(ctx, &neturl.URL{Scheme: "http", Host: addr, Path: "/"}, 4); err != context.DeadlineExceeded {
			t.Fatalf("err = %v, want the deadline", err)
		}
	})
}

// rawServer answers one connection with response, once it has read the
// request's head, and returns its URL.
func rawServer(t *testing.T, response string) string {
	t.Helper()
	return "http://" + serve(t, func(c *net.TCPConn) {
		defer c.Close()
		r := bufio.NewReader(c)
		for {
			line, err := r.ReadString('\n')
			if err != nil || line == "\r\n" {
				break
			}
		}
		c.Write([]byte(response))
	}) + "/"
}

// The sender links neither net/http nor crypto/tls (together a quarter of
// knock's binary, and about 5% of its start-up): see PublicIP.
func TestClientDoesNotImportNetHTTPOrTLS(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, p := range strings.Fields(string(out)) {
		if p == "net/http" || p == "crypto/tls" {
			t.Fatalf("package client depends on %s", p)
		}
	}
}

// FuzzReadResponse: whatever a server sends, the reader returns an error
// or at most httpMaxBody bytes, and never panics.
func FuzzReadResponse(f *testing.F) {
	f.Add([]byte("HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n192.0.2.6"))
	f.Add([]byte("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4;x=y\r\n192.\r\n5\r\n0.2.7\r\n0\r\n\r\n"))
	f.Add([]byte("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.0 200 OK\r\n\r\nbody"))
	f.Add([]byte("HTTP/1.1 301 Moved\r\nLocation: https://example.org/\r\n\r\n"))
	f.Fuzz(func(t *testing.T, resp []byte) {
		body, err := readResponse(strings.NewReader(string(resp)))
		if err == nil && len(body) > httpMaxBody {
			t.Fatalf("%d bytes of body", len(body))
		}
	})
}
