package media

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/png"
	"io"
	"math/rand/v2"
	"testing"
	"testing/iotest"

	"github.com/lepus-ai/lepus/internal/media/mediatest"
)

// noisyPNG is large enough (hundreds of KB) that the sniff cannot swallow
// it whole.
func noisyPNG(t *testing.T, w, h int) []byte {
	t.Helper()
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range m.Pix {
		m.Pix[i] = uint8(rng.IntN(256))
	}
	return mediatest.EncodePNG(t, m)
}

// jpegWithBigComments inserts two 60 KB COM segments after SOI, pushing
// the frame header ~120 KB into the file, as big EXIF/ICC blocks do.
func jpegWithBigComments(t *testing.T) []byte {
	t.Helper()
	plain := mediatest.EncodeJPEG(t, mediatest.Photo(320, 480))
	out := append([]byte{}, plain[:2]...)
	for range 2 {
		body := bytes.Repeat([]byte("c"), 60000)
		out = append(out, 0xFF, 0xFE, byte((len(body)+2)>>8), byte(len(body)+2))
		out = append(out, body...)
	}
	return append(out, plain[2:]...)
}

func TestSniffImage(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name       string
		data       []byte
		oneByte    bool
		wantFormat string
		wantW      int
		wantH      int
		wantBytes  bool // the stream fits in the 64 KB sniff window
	}{
		{name: "OK_LargePNG", data: noisyPNG(t, 400, 300), wantFormat: "png", wantW: 400, wantH: 300},
		{name: "OK_SmallPNG", data: mediatest.EncodePNG(t, mediatest.Photo(64, 48)), wantFormat: "png", wantW: 64, wantH: 48, wantBytes: true},
		{name: "OK_JPEGBigHeader", data: jpegWithBigComments(t), wantFormat: "jpeg", wantW: 320, wantH: 480},
		{name: "OK_JPEGOneByteReads", data: jpegWithBigComments(t), oneByte: true, wantFormat: "jpeg", wantW: 320, wantH: 480},
		{name: "OK_WebP", data: mediatest.SolidWebP(333, 444, color.RGBA{1, 2, 3, 255}), wantFormat: "webp", wantW: 333, wantH: 444, wantBytes: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var r io.Reader = bytes.NewReader(tt.data)
			if tt.oneByte {
				r = iotest.OneByteReader(r)
			}
			info, rest, err := SniffImage(r)
			if err != nil {
				t.Fatal(err)
			}
			if info.Format != tt.wantFormat || info.Mime != "image/"+tt.wantFormat || info.Width != tt.wantW || info.Height != tt.wantH {
				t.Errorf("info = %+v", info)
			}
			wantBytes := int64(0)
			if tt.wantBytes {
				wantBytes = int64(len(tt.data))
			}
			if info.Bytes != wantBytes {
				t.Errorf("Bytes = %d, want %d", info.Bytes, wantBytes)
			}
			all, err := io.ReadAll(rest)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(all, tt.data) {
				t.Fatalf("stream passed through as %d bytes, want the original %d", len(all), len(tt.data))
			}
		})
	}
}

func TestSniffImage_ReadsOnlyAPrefix(t *testing.T) {
	t.Parallel()

	data := noisyPNG(t, 400, 300)
	src := &countingReader{r: bytes.NewReader(data)}
	if _, _, err := SniffImage(src); err != nil {
		t.Fatal(err)
	}
	if src.n >= int64(len(data)) {
		t.Fatalf("sniff read %d of %d bytes; it must not consume the stream", src.n, len(data))
	}
}

func TestSniffImage_ErrFormat(t *testing.T) {
	t.Parallel()

	data := []byte("<html>not an image</html>")
	_, rest, err := SniffImage(bytes.NewReader(data))
	var re *RuleError
	if !errors.As(err, &re) || re.Rule != RuleFormat {
		t.Fatalf("error = %v, want format RuleError", err)
	}
	all, _ := io.ReadAll(rest)
	if !bytes.Equal(all, data) {
		t.Fatalf("even on error the reader must yield the whole stream, got %q", all)
	}
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

func TestToPNG(t *testing.T) {
	t.Parallel()

	t.Run("OK_WebP", func(t *testing.T) {
		t.Parallel()
		want := color.RGBA{200, 100, 50, 255}
		out, err := ToPNG(mediatest.SolidWebP(320, 310, want))
		if err != nil {
			t.Fatal(err)
		}
		m, err := png.Decode(bytes.NewReader(out))
		if err != nil {
			t.Fatalf("output is not a PNG: %v", err)
		}
		if m.Bounds().Dx() != 320 || m.Bounds().Dy() != 310 {
			t.Errorf("size %v", m.Bounds())
		}
		r, g, b, a := m.At(160, 155).RGBA()
		if got := (color.RGBA{uint8(r >> 8), uint8(g >> 8), uint8(b >> 8), uint8(a >> 8)}); got != want {
			t.Errorf("colour %v, want %v", got, want)
		}
	})
	t.Run("OK_JPEG", func(t *testing.T) {
		t.Parallel()
		src := mediatest.Photo(300, 400)
		out, err := ToPNG(mediatest.EncodeJPEG(t, src))
		if err != nil {
			t.Fatal(err)
		}
		m, err := png.Decode(bytes.NewReader(out))
		if err != nil {
			t.Fatal(err)
		}
		if d := mediatest.MeanAbsDiff(m, src, src.Bounds()); m.Bounds() != src.Bounds() || d > 4 {
			t.Errorf("bounds %v, mean diff %.2f: not the same picture", m.Bounds(), d)
		}
	})
	t.Run("ErrNotAnImage", func(t *testing.T) {
		t.Parallel()
		_, err := ToPNG([]byte("hello"))
		var re *RuleError
		if !errors.As(err, &re) || re.Rule != RuleFormat {
			t.Fatalf("error = %v", err)
		}
	})
	t.Run("ErrCorrupt", func(t *testing.T) {
		t.Parallel()
		data := mediatest.EncodePNG(t, mediatest.Photo(300, 300))
		if _, err := ToPNG(data[:len(data)/2]); err == nil {
			t.Fatal("truncated PNG converted without error")
		}
	})
}
