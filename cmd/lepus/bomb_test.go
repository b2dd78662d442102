package main

import (
	"bytes"
	"encoding/json"
	"image/jpeg"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lepus-ai/lepus/internal/sample"
)

// bomb is one 10000x10000 bomb (100 M pixels) shared by the tests.
var bomb = sync.OnceValue(func() []byte { return sample.BombPNG(10000, 10000) })

func TestServe_ImageBomb(t *testing.T) {
	t.Parallel()
	if n := len(bomb()); n > 200<<10 {
		t.Fatalf("the bomb is %d KB; it should be a small file", n>>10)
	}
	s := startServe(t, nil)
	tok := s.token(t, "bomber")
	portrait := sample.PortraitPNG(sample.Palettes[0], 400, 500)
	var jpg bytes.Buffer
	if err := jpeg.Encode(&jpg, sample.Portrait(sample.Palettes[1], 400, 500), nil); err != nil {
		t.Fatal(err)
	}
	cutPNG := portrait[:len(portrait)/2]
	cutJPEG := jpg.Bytes()[:jpg.Len()/2]
	files := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/bomb.png":
			_, _ = w.Write(bomb())
		case "/cut.png":
			_, _ = w.Write(cutPNG)
		case "/cut.jpg":
			_, _ = w.Write(cutJPEG)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(files.Close)
	_, scene := s.upload(t, tok, portrait)
	if scene.URL == "" {
		t.Fatal("the portrait was not uploaded")
	}

	for _, tc := range []struct {
		name string
		data []byte
		word string
	}{
		{"Bomb", bomb(), "megapixels"},
		{"TruncatedPNG", cutPNG, "damaged"},
		{"TruncatedJPEG", cutJPEG, "damaged"},
	} {
		t.Run("Upload"+tc.name, func(t *testing.T) {
			resp, up := s.upload(t, tok, tc.data)
			var p problemResp
			_ = json.NewDecoder(resp.Body).Decode(&p)
			if resp.StatusCode != 422 || !p.mentions("body.file") || !strings.Contains(problemText(p), tc.word) {
				t.Fatalf("status %d %+v (upload %+v); want 422 naming body.file and saying %q", resp.StatusCode, p, up, tc.word)
			}
		})
	}
	for _, tc := range []struct {
		name, field, url, word string
	}{
		{"BombFace", "face_image_url", files.URL + "/bomb.png", "megapixels"},
		{"BombSource", "source_image_url", files.URL + "/bomb.png", "megapixels"},
		{"TruncatedPNG", "source_image_url", files.URL + "/cut.png", "damaged"},
		{"TruncatedJPEG", "source_image_url", files.URL + "/cut.jpg", "damaged"},
	} {
		t.Run("URL"+tc.name, func(t *testing.T) {
			body := map[string]any{"source_image_url": scene.URL, "face_image_url": scene.URL}
			body[tc.field] = tc.url
			var p problemResp
			resp := s.postJSON(t, "/kling/face-swap", tok, body, nil, &p)
			if resp.StatusCode != 422 || !p.mentions("body."+tc.field) || !strings.Contains(problemText(p), tc.word) {
				t.Fatalf("status %d %+v; want 422 naming body.%s and saying %q", resp.StatusCode, p, tc.field, tc.word)
			}
		})
	}
}

// TestServe_ImageBombMemory sends six bombs at once and checks the server's
// heap stays within 64 MB of idle the whole time (before the fix each bomb
// was decoded: 100 MB apiece for this grayscale one, 400+ MB for RGBA).
// Not parallel: it samples this process's memory, which the server shares
// with every other test.
func TestServe_ImageBombMemory(t *testing.T) {
	s := startServe(t, nil)
	tok := s.token(t, "bomber")
	data := bomb()
	if resp, _ := s.upload(t, tok, sample.PortraitPNG(sample.Palettes[0], 400, 500)); resp.StatusCode != 201 {
		t.Fatalf("warm-up upload: status %d", resp.StatusCode)
	}

	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	idle := ms.HeapInuse
	var peak atomic.Uint64
	peak.Store(idle)
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		tick := time.NewTicker(2 * time.Millisecond)
		defer tick.Stop()
		for {
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			if m.HeapInuse > peak.Load() {
				peak.Store(m.HeapInuse)
			}
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	}()
	var wg sync.WaitGroup
	for range 6 {
		wg.Go(func() {
			if resp, _ := s.upload(t, tok, data); resp.StatusCode != 422 {
				t.Errorf("bomb upload: status %d, want 422", resp.StatusCode)
			}
		})
	}
	wg.Wait()
	close(stop)
	<-sampled
	grew := int64(peak.Load()) - int64(idle)
	t.Logf("heap in use: idle %d MB, peak %d MB during six bombs", idle>>20, peak.Load()>>20)
	if grew > 64<<20 {
		t.Fatalf("heap grew %d MB over idle while six bombs were refused; want at most 64 MB", grew>>20)
	}
}
