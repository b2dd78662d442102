package sandbox_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/lepus-ai/lepus/internal/provider/kling"
	"github.com/lepus-ai/lepus/internal/sandbox"
)

// bundle is one sandbox behind an httptest server with a kling client.
type bundle struct {
	sb     *sandbox.Sandbox
	srv    *httptest.Server
	client *kling.Client
	images *httptest.Server // serves /WxH.png and /WxH.jpg test inputs
	files  *fileServer      // serves bytes put there by host
}

// setup starts a sandbox with short latencies; mutate adjusts the config.
func setup(t *testing.T, mutate func(*sandbox.Config)) *bundle {
	t.Helper()
	cfg := sandbox.Config{ImageLatency: 30 * time.Millisecond, VideoLatency: 40 * time.Millisecond}
	if mutate != nil {
		mutate(&cfg)
	}
	sb := sandbox.New(cfg)
	srv := httptest.NewServer(sb)
	t.Cleanup(func() { srv.Close(); sb.Close() })
	imgs := httptest.NewServer(http.HandlerFunc(serveTestImage))
	t.Cleanup(imgs.Close)
	files := newFileServer(t)
	ak, sk := cfg.AccessKey, cfg.SecretKey
	if ak == "" {
		ak, sk = "sandbox-ak", "sandbox-sk"
	}
	c := kling.NewClient(kling.Config{BaseURL: srv.URL, AccessKey: ak, SecretKey: sk, HTTPClient: srv.Client()})
	return &bundle{sb: sb, srv: srv, client: c, images: imgs, files: files}
}

// img returns the URL of a w×h test image in format ext ("png" or "jpg").
func (b *bundle) img(w, h int, ext string) string {
	return fmt.Sprintf("%s/%dx%d.%s", b.images.URL, w, h, ext)
}

// serveTestImage renders /WxH.png or /WxH.jpg; other paths are 404.
func serveTestImage(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/big.png" { // a PNG signature and 11 MB of padding
		_, _ = w.Write([]byte("\x89PNG\r\n\x1a\n"))
		_, _ = w.Write(make([]byte, 11<<20))
		return
	}
	var wd, ht int
	var ext string
	if _, err := fmt.Sscanf(r.URL.Path, "/%dx%d.%s", &wd, &ht, &ext); err != nil || wd <= 0 || ht <= 0 || wd > 5000 || ht > 5000 {
		http.NotFound(w, r)
		return
	}
	b := encodeTestImage(wd, ht, ext)
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	_, _ = w.Write(b)
}

func encodeTestImage(w, h int, ext string) []byte {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.SetRGBA(x, y, color.RGBA{uint8(x), uint8(y), 128, 255})
		}
	}
	var buf bytes.Buffer
	if ext == "jpg" {
		_ = jpeg.Encode(&buf, img, nil)
	} else {
		_ = png.Encode(&buf, img)
	}
	return buf.Bytes()
}

func base64Image(w, h int) string {
	return base64.StdEncoding.EncodeToString(encodeTestImage(w, h, "png"))
}

// wait polls the task until it ends.
func (b *bundle) wait(t *testing.T, path, id string) *kling.Task {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		task, err := b.client.Get(context.Background(), path, id)
		if err != nil {
			t.Fatalf("Get %s: %v", id, err)
		}
		if task.Done() {
			return task
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("task %s did not end", id)
	return nil
}

// download fetches a result URL and checks its Content-Type and length.
func download(t *testing.T, url, wantType string) []byte {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("download %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("download %s: status %d: %s", url, resp.StatusCode, body)
	}
	if ct := resp.Header.Get("Content-Type"); ct != wantType {
		t.Errorf("Content-Type = %q, want %q", ct, wantType)
	}
	if cl := resp.Header.Get("Content-Length"); cl != strconv.Itoa(len(body)) {
		t.Errorf("Content-Length = %q, body %d bytes", cl, len(body))
	}
	return body
}

// callbackSink records the tasks posted to its URL.
type callbackSink struct {
	srv   *httptest.Server
	mu    sync.Mutex
	tasks []*kling.Task
	got   chan struct{}
}

func newCallbackSink(t *testing.T) *callbackSink {
	t.Helper()
	s := &callbackSink{got: make(chan struct{}, 100)}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		task, err := kling.ParseCallback(r.Body)
		if err != nil {
			t.Errorf("callback: %v", err)
			return
		}
		s.mu.Lock()
		s.tasks = append(s.tasks, task)
		s.mu.Unlock()
		s.got <- struct{}{}
	}))
	t.Cleanup(s.srv.Close)
	return s
}

// waitFor blocks until n callbacks arrived and returns them.
func (s *callbackSink) waitFor(t *testing.T, n int) []*kling.Task {
	t.Helper()
	for range n {
		select {
		case <-s.got:
		case <-time.After(10 * time.Second):
			t.Fatalf("callbacks: timed out waiting for %d", n)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*kling.Task(nil), s.tasks...)
}
