package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/lepus-ai/lepus/bench/internal/provider"
	"github.com/lepus-ai/lepus/internal/provider/kling"
	"github.com/lepus-ai/lepus/internal/sandbox"
)

// publicHost is the name Lepus is told it is reachable at when callbacks
// are on (LEPUS_PUBLIC_URL). Lepus registers a callback_url only when its
// public URL is not loopback or private, as in production behind a DNS
// name; a name counts as public. .invalid never resolves, so only the
// sandbox's HTTP client (below), which maps it to loopback, can reach it:
// nothing else about Lepus changes.
const publicHost = "lepus-bench.invalid"

// callbackCount counts the sandbox's callback POSTs by outcome.
type callbackCount struct {
	mu         sync.Mutex
	ok, failed int
}

func (c *callbackCount) get() (ok, failed int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ok, c.failed
}

// countingTransport counts the POSTs through it (the sandbox's callbacks).
type countingTransport struct {
	next  http.RoundTripper
	count *callbackCount
}

func (t countingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(req)
	if req.Method == http.MethodPost {
		t.count.mu.Lock()
		if err == nil && resp.StatusCode < 300 {
			t.count.ok++
		} else {
			t.count.failed++
		}
		t.count.mu.Unlock()
	}
	return resp, err
}

// sandboxHTTPClient is the client the sandbox fetches inputs and posts
// callbacks with: publicHost dials 127.0.0.1, everything else as usual.
// It counts the callbacks in count.
func sandboxHTTPClient(count *callbackCount) *http.Client {
	d := &net.Dialer{Timeout: 5 * time.Second}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 64
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		if host, port, err := net.SplitHostPort(addr); err == nil && host == publicHost {
			addr = net.JoinHostPort("127.0.0.1", port)
		}
		return d.DialContext(ctx, network, addr)
	}
	return &http.Client{Transport: countingTransport{next: tr, count: count}, Timeout: 30 * time.Second}
}

// createLog records when the sandbox received each omni-image create POST
// (the first byte of Lepus's provider request reached the provider), by
// external_task_id, before the sandbox validates or fetches anything.
type createLog struct {
	mu       sync.Mutex
	received map[string]time.Time // first attempt, by external_task_id
	attempts int
}

func (l *createLog) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != kling.PathOmniImage {
			next.ServeHTTP(w, r)
			return
		}
		at := time.Now()
		body, err := io.ReadAll(r.Body)
		if err == nil {
			var v struct {
				ExternalTaskID string `json:"external_task_id"`
			}
			_ = json.Unmarshal(body, &v)
			l.mu.Lock()
			l.attempts++
			if _, seen := l.received[v.ExternalTaskID]; !seen {
				l.received[v.ExternalTaskID] = at
			}
			l.mu.Unlock()
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		next.ServeHTTP(w, r)
	})
}

func (l *createLog) snapshot() (map[string]time.Time, int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make(map[string]time.Time, len(l.received))
	for k, v := range l.received {
		out[k] = v
	}
	return out, l.attempts
}

// startProvider runs the sandbox with image latency L and an image
// concurrency cap of k (a create over it gets 1303), serving cached
// results (bench/internal/provider) and logging create receive times.
func startProvider(o options, log *createLog, callbacks *callbackCount) (*provider.Provider, error) {
	return provider.Start(provider.Config{
		Sandbox: sandbox.Config{ImageLatency: o.latency, ImageConcurrency: o.k, HTTPClient: sandboxHTTPClient(callbacks)},
		Wrap:    log.wrap,
	})
}

// providerTask is what the provider knows of one task: when it accepted
// it (its slot taken) and when it ended (its slot freed), in ms.
type providerTask struct {
	externalID      string
	accepted, ended time.Time
	succeeded       bool
}

// providerTasks lists every omni-image task from the sandbox over Kling's
// own list API, by provider task id.
func providerTasks(ctx context.Context, baseURL string) (map[string]providerTask, error) {
	c := kling.NewClient(kling.Config{BaseURL: baseURL, AccessKey: "sandbox-ak", SecretKey: "sandbox-sk"})
	out := map[string]providerTask{}
	const size = 500
	for page := 1; ; page++ {
		ts, err := c.List(ctx, kling.PathOmniImage, page, size)
		if err != nil {
			return nil, err
		}
		for _, t := range ts {
			pt := providerTask{externalID: t.TaskInfo.ExternalTaskID, accepted: time.UnixMilli(t.CreatedAt), succeeded: t.TaskStatus == kling.StatusSucceed}
			if t.Done() {
				pt.ended = time.UnixMilli(t.UpdatedAt)
			}
			out[t.TaskID] = pt
		}
		if len(ts) < size {
			return out, nil
		}
	}
}

// slotSample is the sandbox's image slots in use at one moment.
type slotSample struct {
	at    time.Time
	inUse int
}

// sampleSlots reads the sandbox's image slots in use every interval until
// ctx ends, then sends what it saw.
func sampleSlots(ctx context.Context, sb *sandbox.Sandbox, every time.Duration, out chan<- []slotSample) {
	var ss []slotSample
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		ss = append(ss, slotSample{at: time.Now(), inUse: sb.Stats().ImageSlotsInUse})
		select {
		case <-ctx.Done():
			out <- ss
			return
		case <-tick.C:
		}
	}
}
