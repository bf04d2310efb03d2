package client

import (
	"bufio"
	"context"
	"crypto/x509"
	"net"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// PublicIPv4 over HTTPS and HTTP against Go's own servers, in each way a
// server may end a body, and the failures a user must be told about.
func TestPublicIPv4(t *testing.T) {
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
	tlsSrv := httptest.NewTLSServer(mux)
	defer tlsSrv.Close()
	plain := httptest.NewServer(mux)
	defer plain.Close()
	roots := x509.NewCertPool()
	roots.AddCert(tlsSrv.Certificate())

	tests := []struct {
		url, want, wantErr string
	}{
		{tlsSrv.URL + "/myip", "198.51.100.7", ""},
		{tlsSrv.URL + "/chunked", "203.0.113.9", ""},
		{plain.URL + "/myip", "198.51.100.7", ""},
		{plain.URL + "/chunked", "203.0.113.9", ""},
		{plain.URL + "/query?a=1&b=2", "192.0.2.44", ""},
		{plain.URL + "/big", "", "no IPv4 address in its answer"}, // only the first 4096 bytes are read
		{plain.URL + "/nowhere", "", "404 Not Found"},
		{plain.URL + "/moved", "", "302 Found, to /myip (redirects are not followed"},
		{plain.URL + "/none", "", `no IPv4 address in its answer ("no address here")`},
		{"ftp://" + plain.Listener.Addr().String() + "/", "", "want an http:// or https:// URL"},
	}
	for _, tt := range tests {
		got, err := publicIPv4(context.Background(), tt.url, roots)
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

	// A certificate nobody vouches for is refused.
	if _, err := publicIPv4(context.Background(), tlsSrv.URL+"/myip", nil); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("untrusted certificate: err = %v", err)
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
			got, err := httpGet(context.Background(), url, nil)
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
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		go func() {
			c, err := ln.Accept()
			if err == nil {
				defer c.Close()
				bufio.NewReader(c).ReadString(0) // reads until knock gives up
			}
		}()
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		if _, err := httpGet(ctx, "http://"+ln.Addr().String()+"/", nil); err != context.DeadlineExceeded {
			t.Fatalf("err = %v, want the deadline", err)
		}
	})
}

// rawServer answers one connection with response, once it has read the
// request's head, and returns its URL.
func rawServer(t *testing.T, response string) string {
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
		defer c.Close()
		r := bufio.NewReader(c)
		for {
			line, err := r.ReadString('\n')
			if err != nil || line == "\r\n" {
				break
			}
		}
		c.Write([]byte(response))
	}()
	return "http://" + ln.Addr().String() + "/"
}

// The sender does not link net/http (its size was a tenth of knock's
// binary, and of its start-up): PublicIPv4 is written on net and
// crypto/tls.
func TestClientDoesNotImportNetHTTP(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, p := range strings.Fields(string(out)) {
		if p == "net/http" {
			t.Fatal("package client depends on net/http")
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
