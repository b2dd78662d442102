package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
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

// startSandbox starts the provider sandbox on addr (default 127.0.0.1:0).
func startSandboxAt(getenv func(string) string, addr string, logger *slog.Logger) (*runningSandbox, error) {
	cfg, err := sandbox.ConfigFromEnv(getenv)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("sandbox: listen on %s: %w", addr, err)
	}
	cfg.Logger = logger.With("component", "sandbox")
	cfg.PublicURL = "http://" + ln.Addr().String()
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

func startSandbox(_ context.Context, getenv func(string) string, _ string, logger *slog.Logger) (*runningSandbox, error) {
	addr := getenv("SANDBOX_ADDR")
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	return startSandboxAt(getenv, addr, logger)
}

// runSandbox runs the provider sandbox alone, for trying Lepus against a
// separate fake provider or for benchmarks.
func runSandbox(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("sandbox", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:8081", "listen address")
	if err := fs.Parse(args); err != nil {
		return err
	}
	logger, err := newLogger(stderr, "info")
	if err != nil {
		return err
	}
	r, err := startSandboxAt(getenv, *addr, logger)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "sandbox serving Kling's API at %s (access key %q)\n", r.url, r.cfg.AccessKey)
	<-ctx.Done()
	r.stop()
	return nil
}
