package tcpproxy_test

import (
	"bufio"
	"io"
	"net"
	"testing"
	"time"

	"github.com/lepus-ai/lepus/internal/testutil/tcpproxy"
)

// echoServer answers every line with the same line.
func echoServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_, _ = io.Copy(c, c)
			}()
		}
	}()
	return ln.Addr().String()
}

func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	// A safety net against a hung test, not a wait: every read below ends
	// as soon as the proxy forwards or closes.
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	return c
}

// roundTrip sends a line and returns the echoed line or the read error.
func roundTrip(c net.Conn, line string) (string, error) {
	if _, err := io.WriteString(c, line+"\n"); err != nil {
		return "", err
	}
	got, err := bufio.NewReader(c).ReadString('\n')
	return got, err
}

func TestProxy_CutRestore(t *testing.T) {
	t.Parallel()
	p, err := tcpproxy.Listen(echoServer(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close() })

	t.Run("OK", func(t *testing.T) {
		c := dial(t, p.Addr())
		if got, err := roundTrip(c, "hello"); err != nil || got != "hello\n" {
			t.Fatalf("round trip: %q, %v", got, err)
		}
	})

	live := dial(t, p.Addr())
	if _, err := roundTrip(live, "before"); err != nil {
		t.Fatal(err)
	}
	p.Cut()

	t.Run("ErrLiveConnClosed", func(t *testing.T) {
		if _, err := bufio.NewReader(live).ReadByte(); err == nil {
			t.Fatal("read on a live connection after Cut succeeded")
		}
	})
	t.Run("ErrNewConnClosed", func(t *testing.T) {
		c := dial(t, p.Addr())
		if got, err := roundTrip(c, "during"); err == nil {
			t.Fatalf("round trip while cut: %q, want an error", got)
		}
	})

	p.Restore()
	t.Run("OKAfterRestore", func(t *testing.T) {
		c := dial(t, p.Addr())
		if got, err := roundTrip(c, "after"); err != nil || got != "after\n" {
			t.Fatalf("round trip after Restore: %q, %v", got, err)
		}
	})
}

func TestProxy_Close(t *testing.T) {
	t.Parallel()
	p, err := tcpproxy.Listen(echoServer(t))
	if err != nil {
		t.Fatal(err)
	}
	c := dial(t, p.Addr())
	if _, err := roundTrip(c, "x"); err != nil {
		t.Fatal(err)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := bufio.NewReader(c).ReadByte(); err == nil {
		t.Fatal("connection survived Close")
	}
	if c, err := net.Dial("tcp", p.Addr()); err == nil {
		_ = c.Close()
		t.Fatal("dial after Close succeeded")
	}
}

func TestProxy_TargetDown(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	target := ln.Addr().String()
	_ = ln.Close() // nothing listens there now
	p, err := tcpproxy.Listen(target)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close() })
	if got, err := roundTrip(dial(t, p.Addr()), "x"); err == nil {
		t.Fatalf("round trip to a dead target: %q, want an error", got)
	}
}
