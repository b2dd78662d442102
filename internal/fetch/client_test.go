package fetch

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
)

// newServer starts an httptest server on addr ("127.0.0.1" or "127.0.0.2").
func newServer(t *testing.T, addr string, h http.Handler) *httptest.Server {
	t.Helper()
	ln, err := net.Listen("tcp", addr+":0")
	if err != nil && addr != "127.0.0.1" {
		// macOS has only 127.0.0.1 unless more loopback aliases are added.
		t.Skipf("cannot listen on %s: %v", addr, err)
	}
	if err != nil {
		t.Fatalf("listen on %s: %v", addr, err)
	}
	srv := httptest.NewUnstartedServer(h)
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)
	return srv
}

func text(body string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		_, _ = io.WriteString(w, body)
	})
}

func TestClient_Open(t *testing.T) {
	t.Parallel()

	t.Run("OK", func(t *testing.T) {
		t.Parallel()
		var gotUA atomic.Value
		srv := newServer(t, "127.0.0.1", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			gotUA.Store(r.Header.Get("User-Agent"))
			w.Header().Set("Content-Type", "image/png")
			_, _ = io.WriteString(w, "png bytes")
		}))
		c := New(Config{AllowPrivate: true, UserAgent: "lepus-test"})
		resp, err := c.Open(context.Background(), srv.URL+"/a.png?sig=1")
		if err != nil {
			t.Fatalf("open: %v", err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatalf("read: %v", err)
		}
		if string(body) != "png bytes" || resp.ContentType != "image/png" || resp.ContentLength != 9 {
			t.Errorf("got body %q type %q length %d", body, resp.ContentType, resp.ContentLength)
		}
		if resp.URL != srv.URL+"/a.png?sig=1" {
			t.Errorf("URL = %q", resp.URL)
		}
		if ua, _ := gotUA.Load().(string); ua != "lepus-test" {
			t.Errorf("User-Agent = %q", ua)
		}
	})

	t.Run("ErrForbiddenAddressLoopback", func(t *testing.T) {
		t.Parallel()
		var hit atomic.Bool
		srv := newServer(t, "127.0.0.1", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hit.Store(true) }))
		_, err := New(Config{}).Open(context.Background(), srv.URL+"/x?token=secret")
		if !errors.Is(err, ErrForbiddenAddress) {
			t.Fatalf("err = %v, want ErrForbiddenAddress", err)
		}
		msg := err.Error()
		if msg != "this address is not allowed (a private or loopback address; set LEPUS_ALLOW_PRIVATE_URLS=1 to allow it)" {
			t.Errorf("message = %q", msg)
		}
		assertPublic(t, msg)
		if strings.Contains(msg, "secret") {
			t.Errorf("message leaks the query: %q", msg)
		}
		if hit.Load() {
			t.Error("server was reached")
		}
	})

	t.Run("ErrForbiddenAddressLocalhostName", func(t *testing.T) {
		t.Parallel()
		srv := newServer(t, "127.0.0.1", text("x"))
		port := srv.Listener.Addr().(*net.TCPAddr).Port
		_, err := New(Config{}).Open(context.Background(), "http://localhost:"+strconv.Itoa(port)+"/")
		if !errors.Is(err, ErrForbiddenAddress) {
			t.Fatalf("err = %v, want ErrForbiddenAddress", err)
		}
	})

	t.Run("ErrForbiddenAddressReservedEvenWhenPrivateAllowed", func(t *testing.T) {
		t.Parallel()
		// 0.0.0.0 reaches local listeners on Linux; AllowPrivate must not open it.
		srv := newServer(t, "127.0.0.1", text("x"))
		port := srv.Listener.Addr().(*net.TCPAddr).Port
		_, err := New(Config{AllowPrivate: true}).Open(context.Background(), "http://0.0.0.0:"+strconv.Itoa(port)+"/")
		if !errors.Is(err, ErrForbiddenAddress) {
			t.Fatalf("err = %v, want ErrForbiddenAddress", err)
		}
		if !strings.Contains(err.Error(), "reserved") {
			t.Errorf("message = %q", err)
		}
	})

	t.Run("ErrForbiddenAddressRedirectToLoopback", func(t *testing.T) {
		t.Parallel()
		var hit atomic.Bool
		internal := newServer(t, "127.0.0.1", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hit.Store(true) }))
		// The first hop is on 127.0.0.2, which only this test's client
		// allows; the redirect target 127.0.0.1 stays forbidden.
		front := newServer(t, "127.0.0.2", http.RedirectHandler(internal.URL+"/admin", http.StatusFound))
		c := newClient(Config{}, []netip.Prefix{netip.MustParsePrefix("127.0.0.2/32")})

		resp, err := c.Open(context.Background(), front.URL+"/start")
		if err == nil {
			resp.Body.Close()
			t.Fatal("redirect to loopback was followed")
		}
		if !errors.Is(err, ErrForbiddenAddress) {
			t.Fatalf("err = %v, want ErrForbiddenAddress", err)
		}
		if hit.Load() {
			t.Error("internal server was reached")
		}
	})

	t.Run("OKRedirect", func(t *testing.T) {
		t.Parallel()
		dst := newServer(t, "127.0.0.1", text("moved"))
		src := newServer(t, "127.0.0.1", http.RedirectHandler(dst.URL+"/file", http.StatusFound))
		resp, err := New(Config{AllowPrivate: true}).Open(context.Background(), src.URL)
		if err != nil {
			t.Fatalf("open: %v", err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if string(body) != "moved" || resp.URL != dst.URL+"/file" {
			t.Errorf("got %q from %q", body, resp.URL)
		}
	})

	t.Run("ErrTooManyRedirects", func(t *testing.T) {
		t.Parallel()
		var hops atomic.Int32
		var srv *httptest.Server
		srv = newServer(t, "127.0.0.1", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			hops.Add(1)
			http.Redirect(w, r, srv.URL+"/again", http.StatusFound)
		}))
		_, err := New(Config{AllowPrivate: true}).Open(context.Background(), srv.URL)
		if err == nil || !strings.Contains(err.Error(), "redirects") {
			t.Fatalf("err = %v, want a redirect limit error", err)
		}
		if hops.Load() != maxRedirects+1 {
			t.Errorf("server saw %d requests, want %d", hops.Load(), maxRedirects+1)
		}
	})

	t.Run("ErrRedirectScheme", func(t *testing.T) {
		t.Parallel()
		srv := newServer(t, "127.0.0.1", http.RedirectHandler("ftp://example.com/file", http.StatusFound))
		_, err := New(Config{AllowPrivate: true}).Open(context.Background(), srv.URL)
		var ue *URLError
		if !errors.As(err, &ue) {
			t.Fatalf("err = %v, want *URLError", err)
		}
	})

	t.Run("ErrStatus", func(t *testing.T) {
		t.Parallel()
		srv := newServer(t, "127.0.0.1", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "gone", http.StatusNotFound)
		}))
		_, err := New(Config{AllowPrivate: true}).Open(context.Background(), srv.URL+"/x?sig=secret")
		var se *StatusError
		if !errors.As(err, &se) {
			t.Fatalf("err = %v, want *StatusError", err)
		}
		if se.StatusCode != http.StatusNotFound || !strings.Contains(err.Error(), "404") {
			t.Errorf("err = %v", err)
		}
		if strings.Contains(err.Error(), "secret") {
			t.Errorf("message leaks the query: %q", err)
		}
	})

	t.Run("ErrTooLargeDeclared", func(t *testing.T) {
		t.Parallel()
		srv := newServer(t, "127.0.0.1", text(strings.Repeat("a", 100)))
		_, err := New(Config{AllowPrivate: true, MaxBytes: 10}).Open(context.Background(), srv.URL)
		if !errors.Is(err, ErrTooLarge) {
			t.Fatalf("err = %v, want ErrTooLarge", err)
		}
	})

	t.Run("ErrTooLargeStreamed", func(t *testing.T) {
		t.Parallel()
		// No Content-Length: the limit has to be enforced while reading.
		srv := newServer(t, "127.0.0.1", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			for range 10 {
				_, _ = io.WriteString(w, "0123456789")
				w.(http.Flusher).Flush()
			}
		}))
		resp, err := New(Config{AllowPrivate: true, MaxBytes: 50}).Open(context.Background(), srv.URL)
		if err != nil {
			t.Fatalf("open: %v", err)
		}
		defer resp.Body.Close()
		if resp.ContentLength != -1 {
			t.Fatalf("ContentLength = %d, want -1 (chunked)", resp.ContentLength)
		}
		body, err := io.ReadAll(resp.Body)
		if !errors.Is(err, ErrTooLarge) {
			t.Fatalf("read err = %v, want ErrTooLarge", err)
		}
		if len(body) != 50 {
			t.Errorf("read %d bytes before failing, want 50", len(body))
		}
	})

	t.Run("OKExactlyMaxBytes", func(t *testing.T) {
		t.Parallel()
		srv := newServer(t, "127.0.0.1", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.WriteString(w, "0123456789")
			w.(http.Flusher).Flush()
		}))
		resp, err := New(Config{AllowPrivate: true, MaxBytes: 10}).Open(context.Background(), srv.URL)
		if err != nil {
			t.Fatalf("open: %v", err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil || string(body) != "0123456789" {
			t.Errorf("got %q, %v", body, err)
		}
	})

	t.Run("ErrBadURL", func(t *testing.T) {
		t.Parallel()
		_, err := New(Config{AllowPrivate: true}).Open(context.Background(), "ftp://example.com/x")
		var ue *URLError
		if !errors.As(err, &ue) {
			t.Fatalf("err = %v, want *URLError", err)
		}
	})
}

func TestClient_HTTPClient(t *testing.T) {
	t.Parallel()
	srv := newServer(t, "127.0.0.1", text("x"))
	for _, allow := range []bool{false, true} {
		resp, err := New(Config{AllowPrivate: allow}).HTTPClient().Get(srv.URL)
		if resp != nil {
			resp.Body.Close()
		}
		if allow && err != nil {
			t.Errorf("AllowPrivate=true: %v", err)
		}
		if !allow && !errors.Is(err, ErrForbiddenAddress) {
			t.Errorf("AllowPrivate=false: err = %v, want ErrForbiddenAddress", err)
		}
	}
}

func TestGuard_Control(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		allowPrivate bool
		network      string
		address      string
		ok           bool
		msg          string
	}{
		{"PublicHTTPS", false, "tcp4", "93.184.215.14:443", true, ""},
		{"PublicV6", false, "tcp6", "[2606:4700::1111]:80", true, ""},
		{"PublicOtherPort", false, "tcp4", "93.184.215.14:8080", false, "port 8080 is not allowed"},
		{"PublicOtherPortAllowed", true, "tcp4", "93.184.215.14:8080", true, ""},
		{"Private10", false, "tcp4", "10.1.2.3:80", false, "address 10.1.2.3 is private"},
		{"Private10Allowed", true, "tcp4", "10.1.2.3:9000", true, ""},
		{"Private192Allowed", true, "tcp4", "192.168.1.10:80", true, ""},
		{"LinkLocalMetadata", false, "tcp4", "169.254.169.254:80", false, "private or loopback"},
		{"LoopbackV6", false, "tcp6", "[::1]:443", false, "address ::1 is private"},
		{"LoopbackV6Allowed", true, "tcp6", "[::1]:8080", true, ""},
		{"MappedLoopback", false, "tcp6", "[::ffff:127.0.0.1]:80", false, "private or loopback"},
		{"MulticastAlwaysDenied", true, "tcp4", "224.0.0.1:80", false, "reserved"},
		{"UDPDenied", true, "udp4", "10.1.2.3:53", false, "network udp4"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := newGuard(tt.allowPrivate, nil).control(tt.network, tt.address, nil)
			if tt.ok {
				if err != nil {
					t.Fatalf("control: %v", err)
				}
				return
			}
			if !errors.Is(err, ErrForbiddenAddress) {
				t.Fatalf("err = %v, want ErrForbiddenAddress", err)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("message %q does not contain %q", err, tt.msg)
			}
		})
	}
}
