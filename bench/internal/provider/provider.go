// Package provider runs the Kling sandbox (internal/sandbox) on loopback
// for the benchmarks, with a record of every result download.
package provider

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"

	"github.com/lepus-ai/lepus/internal/sandbox"
)

// Config configures Start.
type Config struct {
	// Sandbox configures the fake Kling.
	Sandbox sandbox.Config
	// RenderEach lets the sandbox render every result instead of serving
	// the first one for all (see Provider). Default false.
	RenderEach bool
	// Wrap, when set, wraps the whole handler: a benchmark's own
	// instrumentation of the requests. Default none.
	Wrap func(http.Handler) http.Handler
}

// Provider is the sandbox serving on loopback, with a record of every
// result download: when Lepus asked for it (so, when it saw the task
// succeed) and how long it took to answer.
//
// Result downloads are served like a CDN serves stored files: the sandbox
// renders the first result (all tasks have the same inputs, so the same
// output) and every later download gets those bytes. Otherwise the sandbox
// renders each result on its first download (about 30 ms of CPU each), and
// on a 2-core box 1,000 renders would compete with lepus and measure the
// fake provider instead of Lepus. RenderEach restores that behaviour.
type Provider struct {
	SB         *sandbox.Sandbox
	URL        string
	srv        *http.Server
	renderEach bool

	mu  sync.Mutex
	cdn map[string]CDNHit // by sandbox task id

	renderMu sync.Mutex // held while the first result renders
	cached   *cachedResult
}

// cachedResult is the first rendered result, served for every task.
type cachedResult struct {
	ctype string
	body  []byte
}

// CDNHit is the first result download of one provider task.
type CDNHit struct {
	Start time.Time
	Took  time.Duration
}

// Start serves the sandbox on 127.0.0.1:0.
func Start(cfg Config) (*Provider, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &Provider{
		SB:  sandbox.New(cfg.Sandbox),
		URL: "http://" + ln.Addr().String(),
		cdn: map[string]CDNHit{}, renderEach: cfg.RenderEach,
	}
	h := p.timeCDN(p.SB)
	if cfg.Wrap != nil {
		h = cfg.Wrap(h)
	}
	p.srv = &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := p.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			panic(err)
		}
	}()
	return p, nil
}

// timeCDN records result downloads (GET /sandbox/cdn/{task}/{file}).
func (p *Provider) timeCDN(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rest, ok := strings.CutPrefix(r.URL.Path, "/sandbox/cdn/")
		if !ok {
			next.ServeHTTP(w, r)
			return
		}
		start := time.Now()
		if p.renderEach {
			next.ServeHTTP(w, r)
		} else {
			p.serveCached(w, r, next)
		}
		task, _, _ := strings.Cut(rest, "/")
		p.mu.Lock()
		if _, seen := p.cdn[task]; !seen {
			p.cdn[task] = CDNHit{Start: start, Took: time.Since(start)}
		}
		p.mu.Unlock()
	})
}

// serveCached answers a result download with the first rendered result,
// rendering it through next if no download has succeeded yet.
func (p *Provider) serveCached(w http.ResponseWriter, r *http.Request, next http.Handler) {
	p.renderMu.Lock()
	c := p.cached
	if c == nil {
		rec := httptest.NewRecorder()
		next.ServeHTTP(rec, r)
		if rec.Code != http.StatusOK {
			p.renderMu.Unlock()
			http.Error(w, rec.Body.String(), rec.Code)
			return
		}
		c = &cachedResult{ctype: rec.Header().Get("Content-Type"), body: rec.Body.Bytes()}
		p.cached = c
	}
	p.renderMu.Unlock()
	w.Header().Set("Content-Type", c.ctype)
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(c.body))
}

// CDNTimes returns a copy of the downloads recorded so far.
func (p *Provider) CDNTimes() map[string]CDNHit {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make(map[string]CDNHit, len(p.cdn))
	for k, v := range p.cdn {
		out[k] = v
	}
	return out
}

// Running is the sandbox's count of tasks submitted and not yet ended.
func (p *Provider) Running() int { return p.SB.Stats().Running }

// Close stops serving and stops the sandbox's timers.
func (p *Provider) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = p.srv.Shutdown(ctx)
	p.SB.Close()
}
