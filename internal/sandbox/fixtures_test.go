package sandbox_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	mp4 "github.com/abema/go-mp4"

	"github.com/lepus-ai/lepus/internal/media"
	"github.com/lepus-ai/lepus/internal/media/synth"
	"github.com/lepus-ai/lepus/internal/provider/kling"
	"github.com/lepus-ai/lepus/internal/sample"
)

// fileServer serves byte slices at chosen paths, like a bucket of user
// uploads. Sizes registered with claim send only a Content-Length header
// (and no body), so size limits can be tested without allocating them.
type fileServer struct {
	srv    *httptest.Server
	mu     sync.Mutex
	files  map[string][]byte
	claims map[string]int64
}

func newFileServer(t *testing.T) *fileServer {
	t.Helper()
	f := &fileServer{files: map[string][]byte{}, claims: map[string]int64{}}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		data, ok := f.files[r.URL.Path]
		claim, claimed := f.claims[r.URL.Path]
		f.mu.Unlock()
		switch {
		case claimed:
			w.Header().Set("Content-Length", strconv.FormatInt(claim, 10))
			w.WriteHeader(http.StatusOK)
		case ok:
			http.ServeContent(w, r, r.URL.Path, time.Time{}, bytes.NewReader(data))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(f.srv.Close)
	return f
}

// host serves data at /name and returns its URL.
func (b *bundle) host(name string, data []byte) string {
	b.files.mu.Lock()
	defer b.files.mu.Unlock()
	b.files.files["/"+name] = data
	return b.files.srv.URL + "/" + name
}

// claim serves /name as a file of n bytes that never arrives.
func (b *bundle) claim(name string, n int64) string {
	b.files.mu.Lock()
	defer b.files.mu.Unlock()
	b.files.claims["/"+name] = n
	return b.files.srv.URL + "/" + name
}

// gradient is a faceless w×h picture.
func gradient(w, h int) image.Image {
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			m.SetRGBA(x, y, color.RGBA{uint8(x * 255 / w), uint8(y * 255 / h), 90, 255})
		}
	}
	return m
}

// portrait is a w×h picture with one detectable face.
func portrait(w, h int) image.Image { return sample.Portrait(sample.Palettes[0], w, h) }

// mustPNG encodes img as PNG.
func mustPNG(t *testing.T, img image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// mp4Of encodes img as a still MP4 of secs seconds whose long side is
// maxSide (rounded down to 16).
func mp4Of(t *testing.T, img image.Image, secs float64, maxSide int) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := synth.WriteMP4(&buf, img, secs, synth.MP4Options{MaxSide: maxSide}); err != nil {
		t.Fatalf("write mp4: %v", err)
	}
	return buf.Bytes()
}

// undecodable turns the first picture of an MP4 written by media into a
// NAL unit media cannot decode (an SEI), as a real encoder's stream is to
// it; the file stays a valid MP4 of the same length.
func undecodable(t *testing.T, data []byte) []byte {
	t.Helper()
	out := bytes.Clone(data)
	i := bytes.Index(out, []byte("mdat"))
	if i < 0 || len(out) < i+9 || out[i+8]&0x1F != 5 {
		t.Fatal("no IDR picture at the start of mdat")
	}
	out[i+8] = out[i+8]&0xE0 | 6
	if _, err := synth.FirstFrame(bytes.NewReader(out)); !errors.Is(err, synth.ErrUndecodable) {
		t.Fatalf("patched mp4: FirstFrame err = %v, want ErrUndecodable", err)
	}
	return out
}

// wav returns a 16-bit PCM WAV of secs seconds of a quiet tone.
func wav(secs float64, rate, channels int) []byte {
	frames := int(secs * float64(rate))
	data := make([]byte, frames*channels*2)
	for i := range frames {
		v := int16(1000 * ((i / 20) % 2))
		for c := range channels {
			binary.LittleEndian.PutUint16(data[(i*channels+c)*2:], uint16(v))
		}
	}
	var b bytes.Buffer
	b.WriteString("RIFF")
	_ = binary.Write(&b, binary.LittleEndian, uint32(36+len(data)))
	b.WriteString("WAVEfmt ")
	for _, v := range []any{uint32(16), uint16(1), uint16(channels), uint32(rate),
		uint32(rate * channels * 2), uint16(channels * 2), uint16(16)} {
		_ = binary.Write(&b, binary.LittleEndian, v)
	}
	b.WriteString("data")
	_ = binary.Write(&b, binary.LittleEndian, uint32(len(data)))
	b.Write(data)
	return b.Bytes()
}

// pngHeader is a PNG whose header claims w×h px (no pixel data): enough for
// a check that reads only the header.
func pngHeader(w, h int) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	ihdr := binary.BigEndian.AppendUint32(nil, uint32(w))
	ihdr = binary.BigEndian.AppendUint32(ihdr, uint32(h))
	ihdr = append(ihdr, 8, 2, 0, 0, 0) // 8-bit RGB
	chunk := append([]byte("IHDR"), ihdr...)
	_ = binary.Write(&b, binary.BigEndian, uint32(len(ihdr)))
	b.Write(chunk)
	_ = binary.Write(&b, binary.BigEndian, crc32.ChecksumIEEE(chunk))
	return b.Bytes()
}

// mp4Seconds reads the length of an MP4.
func mp4Seconds(t *testing.T, data []byte) float64 {
	t.Helper()
	secs, err := media.MP4Duration(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("mp4 duration: %v", err)
	}
	return secs
}

// mp4Tracks counts the tracks of an MP4.
func mp4Tracks(t *testing.T, data []byte) int {
	t.Helper()
	info, err := mp4.Probe(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("probe mp4: %v", err)
	}
	return len(info.Tracks)
}

// create submits body to path and fails the test on error.
func (b *bundle) create(t *testing.T, path string, body any) *kling.Task {
	t.Helper()
	task, err := b.client.Create(context.Background(), path, body)
	if err != nil {
		t.Fatalf("Create %s: %v", path, err)
	}
	return task
}

// succeed creates a task, waits for it and requires it to succeed.
func (b *bundle) succeed(t *testing.T, path string, body any) *kling.Task {
	t.Helper()
	task := b.wait(t, path, b.create(t, path, body).TaskID)
	if task.TaskStatus != kling.StatusSucceed {
		t.Fatalf("%s: status %s (%s)", path, task.TaskStatus, task.TaskStatusMsg)
	}
	return task
}

// video returns the single video of a succeeded task, downloaded, and checks
// its length against the task's duration and want.
func (b *bundle) video(t *testing.T, task *kling.Task, want float64) (kling.Video, []byte) {
	t.Helper()
	if len(task.TaskResult.Videos) != 1 {
		t.Fatalf("videos = %+v", task.TaskResult.Videos)
	}
	v := task.TaskResult.Videos[0]
	body := download(t, v.URL, "video/mp4")
	got := mp4Seconds(t, body)
	if got < want-0.05 || got > want+0.05 {
		t.Errorf("mp4 lasts %.3f s, want %g", got, want)
	}
	if d, err := strconv.ParseFloat(v.Duration, 64); err != nil || d < want-0.05 || d > want+0.05 {
		t.Errorf("videos[0].duration = %q, want %g", v.Duration, want)
	}
	return v, body
}
