package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/lepus-ai/lepus/internal/sandbox"
)

// runningSandbox is a provider sandbox serving on its own loopback listener.
type runningSandbox struct {
	sb   *sandbox.Sandbox
	srv  *http.Server
	url  string
	cfg  sandbox.Config
	done chan struct{}
}

func (r *runningSandbox) stop() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = r.srv.Shutdown(ctx)
	<-r.done
	r.sb.Close()
}

// startSandboxAt starts the provider sandbox on ln, keeping its state in
// stateDir ("" for memory only).
func startSandboxAt(cfg sandbox.Config, ln net.Listener, stateDir string, logger *slog.Logger) (*runningSandbox, error) {
	cfg.Logger = logger.With("component", "sandbox")
	cfg.PublicURL = "http://" + ln.Addr().String()
	cfg.StateDir = stateDir
	sb := sandbox.New(cfg)
	r := &runningSandbox{sb: sb, srv: &http.Server{Handler: sb, ReadHeaderTimeout: 10 * time.Second},
		url: cfg.PublicURL, cfg: cfg, done: make(chan struct{})}
	go func() {
		defer close(r.done)
		if err := r.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logger.Error("sandbox server stopped", "error", err)
		}
	}()
	return r, nil
}

// startSandbox starts the sandbox of `lepus serve`, keeping its tasks in
// <dataDir>/sandbox so that they survive a restart. Its address is
// SANDBOX_ADDR, else the one it had last time (a loopback port picked by
// the system the first time): the results Lepus stored point at the
// sandbox's CDN, and a face swap's video takes its image from there.
func startSandbox(_ context.Context, getenv func(string) string, dataDir string, logger *slog.Logger) (*runningSandbox, error) {
	stateDir := filepath.Join(dataDir, "sandbox")
	if err := os.MkdirAll(stateDir, 0o755); err != nil {
		return nil, fmt.Errorf("sandbox: state dir: %w", err)
	}
	addrFile := filepath.Join(stateDir, "addr")
	cfg, err := sandbox.ConfigFromEnv(getenv)
	if err != nil {
		return nil, err
	}
	addr := cfg.Addr
	var ln net.Listener
	if addr != "" {
		if ln, err = net.Listen("tcp", addr); err != nil {
			return nil, fmt.Errorf("sandbox: listen on %s: %w", addr, err)
		}
	} else {
		b, _ := os.ReadFile(addrFile)
		if last := strings.TrimSpace(string(b)); last != "" {
			if ln, err = listenSoon(last, time.Second); err != nil {
				logger.Warn("sandbox: its last address is taken; result URLs stored before this start will not load",
					"addr", last, "error", err)
			}
		}
		if ln == nil {
			if ln, err = listenLoopback(); err != nil {
				return nil, fmt.Errorf("sandbox: listen: %w", err)
			}
		}
	}
	if err := writeFileAtomic(addrFile, []byte(ln.Addr().String()+"\n")); err != nil {
		logger.Warn("sandbox: cannot remember its address", "error", err)
	}
	return startSandboxAt(cfg, ln, stateDir, logger)
}

// listenSoon listens on addr, trying again for up to wait while it is in
// use: the process before may still be closing it (or, in tests, a child
// forked from this one may hold it until its exec).
func listenSoon(addr string, wait time.Duration) (net.Listener, error) {
	deadline := time.Now().Add(wait)
	for {
		ln, err := net.Listen("tcp", addr)
		if err == nil || !errors.Is(err, syscall.EADDRINUSE) || time.Now().After(deadline) {
			return ln, err
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// listenLoopback listens on a random loopback port below the systems'
// ephemeral ranges (Linux 32768+, macOS and Windows 49152+), where no
// outgoing connection can be holding it when the next start asks for it
// again; 127.0.0.1:0 when none of a few tries is free.
func listenLoopback() (net.Listener, error) {
	for range 20 {
		if ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", 20000+rand.IntN(12000))); err == nil {
			return ln, nil
		}
	}
	return net.Listen("tcp", "127.0.0.1:0")
}

// writeFileAtomic replaces path with data, never leaving half a file.
func writeFileAtomic(path string, data []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// runSandbox runs the provider sandbox alone, for trying Lepus against a
// separate fake provider or for benchmarks.
func runSandbox(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("sandbox", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:8081", "listen address")
	stateDir := fs.String("state-dir", "", "directory keeping tasks across restarts (default: memory only)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	logger, err := newLogger(stderr, "info")
	if err != nil {
		return err
	}
	cfg, err := sandbox.ConfigFromEnv(getenv)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("sandbox: listen on %s: %w", *addr, err)
	}
	r, err := startSandboxAt(cfg, ln, *stateDir, logger)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "sandbox serving Kling's API at %s (access key %q)\n", r.url, r.cfg.AccessKey)
	<-ctx.Done()
	r.stop()
	return nil
}
