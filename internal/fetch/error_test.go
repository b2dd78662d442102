package fetch

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// leaky matches what a public message must never hold: an IP address, a
// resolver or socket detail, or a raw Go error.
var leaky = regexp.MustCompile(`\d+\.\d+\.\d+\.\d+|\[?::1\]?|dial tcp|lookup |:53\b|read tcp|i/o timeout|Get "|fetch: |net/http|context deadline`)

// assertPublic fails when msg holds anything an API client must not read.
func assertPublic(t *testing.T, msg string) {
	t.Helper()
	if m := leaky.FindString(msg); m != "" {
		t.Errorf("message %q leaks %q", msg, m)
	}
}

// TestClient_OpenMessages: every failure reads as something the person who
// supplied the URL can act on, and keeps its cause for errors.Is and logs.
func TestClient_OpenMessages(t *testing.T) {
	t.Parallel()
	closedPort := func(t *testing.T) string {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		return addr
	}
	slow := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	})

	tests := []struct {
		name string
		cfg  Config
		url  func(t *testing.T) string
		want string
		is   error
	}{
		{"NotFound", Config{AllowPrivate: true}, func(t *testing.T) string {
			return newServer(t, "127.0.0.1", http.NotFoundHandler()).URL + "/x?sig=secret"
		}, "could not download: HTTP 404 Not Found", nil},
		{"RefusedLoopback", Config{}, func(t *testing.T) string {
			return newServer(t, "127.0.0.1", text("x")).URL + "/face.png"
		}, "this address is not allowed (a private or loopback address; set LEPUS_ALLOW_PRIVATE_URLS=1 to allow it)", ErrForbiddenAddress},
		{"RefusedLocalhostName", Config{}, func(t *testing.T) string {
			port := newServer(t, "127.0.0.1", text("x")).Listener.Addr().(*net.TCPAddr).Port
			return "http://localhost:" + strconv.Itoa(port) + "/"
		}, "this address is not allowed (a private or loopback address; set LEPUS_ALLOW_PRIVATE_URLS=1 to allow it)", ErrForbiddenAddress},
		{"RefusedPort", Config{}, func(t *testing.T) string {
			return "http://93.184.215.14:8080/"
		}, "this address is not allowed (port 8080: only 80 and 443; set LEPUS_ALLOW_PRIVATE_URLS=1 to allow it)", ErrForbiddenAddress},
		{"RefusedReserved", Config{AllowPrivate: true}, func(t *testing.T) string {
			return "http://0.0.0.0:" + strconv.Itoa(newServer(t, "127.0.0.1", text("x")).Listener.Addr().(*net.TCPAddr).Port) + "/"
		}, "this address is not allowed (a reserved address)", ErrForbiddenAddress},
		{"ConnectionRefused", Config{AllowPrivate: true}, func(t *testing.T) string {
			return "http://" + closedPort(t) + "/x"
		}, "could not connect", nil},
		{"TimedOut", Config{AllowPrivate: true, Timeout: 200 * time.Millisecond}, func(t *testing.T) string {
			return newServer(t, "127.0.0.1", slow).URL
		}, "could not download: timed out", nil},
		{"TooLarge", Config{AllowPrivate: true, MaxBytes: 10}, func(t *testing.T) string {
			return newServer(t, "127.0.0.1", text(strings.Repeat("a", 100))).URL
		}, "could not download: the file is larger than 10 bytes", ErrTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			resp, err := New(tt.cfg).Open(context.Background(), tt.url(t))
			if err == nil {
				resp.Body.Close()
				t.Fatal("open succeeded")
			}
			if err.Error() != tt.want {
				t.Errorf("message = %q, want %q", err, tt.want)
			}
			assertPublic(t, err.Error())
			if strings.Contains(err.Error(), "secret") {
				t.Errorf("message leaks the query: %q", err)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("err = %v, want errors.Is %v", err, tt.is)
			}
		})
	}

	t.Run("UnknownHost", func(t *testing.T) {
		t.Parallel()
		// .invalid never resolves (RFC 6761). Without DNS at all the lookup
		// fails differently; either way the resolver's address, which Go
		// puts in the error ("lookup x on 10.0.0.53:53"), stays out.
		_, err := New(Config{Timeout: 10 * time.Second}).Open(context.Background(), "https://no-such-host.invalid/a.png")
		if err == nil || !strings.HasPrefix(err.Error(), "could not") {
			t.Fatalf("err = %v, want a could not connect/download message", err)
		}
		assertPublic(t, err.Error())
	})

	t.Run("Canceled", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := New(Config{AllowPrivate: true}).Open(ctx, newServer(t, "127.0.0.1", text("x")).URL)
		if !errors.Is(err, context.Canceled) || err.Error() != "the download was canceled" {
			t.Fatalf("err = %v", err)
		}
	})

	t.Run("BodyTimeout", func(t *testing.T) {
		t.Parallel()
		srv := newServer(t, "127.0.0.1", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.WriteString(w, "start")
			w.(http.Flusher).Flush()
			<-r.Context().Done()
		}))
		resp, err := New(Config{AllowPrivate: true, Timeout: 300 * time.Millisecond}).Open(context.Background(), srv.URL)
		if err != nil {
			t.Fatalf("open: %v", err)
		}
		defer resp.Body.Close()
		_, err = io.ReadAll(resp.Body)
		if err == nil || err.Error() != "could not download: timed out" {
			t.Fatalf("read err = %v", err)
		}
	})
}

// TestError_LogValue: logs keep the cause a client never sees.
func TestError_LogValue(t *testing.T) {
	t.Parallel()
	srv := newServer(t, "127.0.0.1", text("x"))
	_, err := New(Config{}).Open(context.Background(), srv.URL)
	var buf strings.Builder
	slog.New(slog.NewTextHandler(&buf, nil)).Warn("download failed", "error", err)
	if !strings.Contains(buf.String(), "address 127.0.0.1 is private or loopback") {
		t.Errorf("log = %q, want the address", buf.String())
	}
}
