package media

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/color"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/lepus-ai/lepus/internal/sample"

	"github.com/lepus-ai/lepus/internal/media/mediatest"
)

// bomb is one 10000x10000 bomb shared by the tests (building it takes a
// moment of CPU).
var bomb = sync.OnceValue(func() []byte { return sample.BombPNG(10000, 10000) })

func TestBombPNG(t *testing.T) {
	t.Parallel()

	data := bomb()
	if len(data) > 200<<10 {
		t.Fatalf("bomb is %d bytes; it should be a small file", len(data))
	}
	info, _, err := CheckImage(bytes.NewReader(sample.BombPNG(64, 48)), ImageRules{})
	if err != nil || info.Width != 64 || info.Height != 48 {
		t.Fatalf("a small image built like the bomb: %+v, %v", info, err)
	}
	if err := WithDecodedImage(context.Background(), sample.BombPNG(64, 48), func(image.Image, ImageInfo) error { return nil }); err != nil {
		t.Fatalf("a small image built like the bomb does not decode: %v", err)
	}
}

func TestCheckImage_ErrPixels(t *testing.T) {
	t.Parallel()

	info, _, err := CheckImage(bytes.NewReader(bomb()), ImageRules{MaxBytes: 20 << 20, MaxPixels: MaxImagePixels})
	var re *RuleError
	if !errors.As(err, &re) || re.Rule != RulePixels {
		t.Fatalf("error = %v, want a pixels RuleError", err)
	}
	if info.Width != 10000 || info.Height != 10000 || !strings.Contains(re.Message, "10000x10000") {
		t.Errorf("info %+v, message %q", info, re.Message)
	}
}

// truncated returns images whose header is intact but whose pixels are
// cut short or damaged: CheckImage accepts them, a full decode does not.
func truncated(t *testing.T) map[string][]byte {
	t.Helper()
	png := mediatest.EncodePNG(t, mediatest.Photo(400, 300))
	jpg := mediatest.EncodeJPEG(t, mediatest.Photo(400, 300))
	webp := mediatest.SolidWebP(400, 300, color.RGBA{1, 2, 3, 255})
	badWebP := append([]byte{}, webp...)
	for i := 21 + 5; i < len(badWebP); i++ { // past the VP8L size fields
		badWebP[i] = 0xFF
	}
	return map[string][]byte{
		"PNG":         png[:len(png)/2],
		"JPEG":        jpg[:len(jpg)/2],
		"WebP":        webp[:len(webp)-4],
		"WebPCorrupt": badWebP,
	}
}

func TestWithDecodedImage(t *testing.T) {
	t.Parallel()

	t.Run("OK", func(t *testing.T) {
		t.Parallel()
		var got image.Rectangle
		err := WithDecodedImage(context.Background(), mediatest.EncodeJPEG(t, mediatest.Photo(320, 400)), func(img image.Image, info ImageInfo) error {
			if info.Format != "jpeg" || info.Width != 320 || info.Height != 400 {
				t.Errorf("info %+v", info)
			}
			got = img.Bounds()
			return nil
		})
		if err != nil || got.Dx() != 320 || got.Dy() != 400 {
			t.Fatalf("bounds %v, err %v", got, err)
		}
	})
	t.Run("ErrPixels", func(t *testing.T) {
		t.Parallel()
		err := WithDecodedImage(context.Background(), bomb(), func(image.Image, ImageInfo) error {
			t.Error("a bomb reached the callback")
			return nil
		})
		var re *RuleError
		if !errors.As(err, &re) || re.Rule != RulePixels {
			t.Fatalf("error = %v, want a pixels RuleError", err)
		}
	})
	for name, data := range truncated(t) {
		t.Run("ErrDamaged"+name, func(t *testing.T) {
			t.Parallel()
			if _, _, err := CheckImage(bytes.NewReader(data), ImageRules{}); err != nil {
				t.Fatalf("the header should still read: %v", err)
			}
			err := WithDecodedImage(context.Background(), data, func(image.Image, ImageInfo) error {
				t.Error("a damaged image reached the callback")
				return nil
			})
			var re *RuleError
			if !errors.As(err, &re) || re.Rule != RuleFormat || !strings.Contains(re.Message, "damaged") {
				t.Fatalf("error = %v, want a format RuleError", err)
			}
		})
	}
	t.Run("ErrCanceled", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		err := WithDecodedImage(ctx, mediatest.EncodePNG(t, mediatest.Photo(300, 300)), func(image.Image, ImageInfo) error { return nil })
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("error = %v, want context.Canceled", err)
		}
	})
}

// TestWithDecodedImage_Slots checks that decodes wait for a slot, and that
// a caller whose context ends stops waiting.
func TestWithDecodedImage_Slots(t *testing.T) {
	t.Parallel()

	data := mediatest.EncodePNG(t, mediatest.Photo(300, 300))
	release := make(chan struct{})
	held := make(chan struct{}, decodeSlots)
	var wg sync.WaitGroup
	for range decodeSlots {
		wg.Go(func() {
			_ = WithDecodedImage(context.Background(), data, func(image.Image, ImageInfo) error {
				held <- struct{}{}
				<-release
				return nil
			})
		})
	}
	for range decodeSlots {
		<-held
	}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		errc <- WithDecodedImage(ctx, data, func(image.Image, ImageInfo) error {
			t.Error("decoded while every slot was held")
			return nil
		})
	}()
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("error = %v, want context.Canceled", err)
	}
	close(release)
	wg.Wait()
}

// TestDecode_BombsStayOnDisk sends six bombs at once through the checks an
// upload makes and checks the heap barely moves. Not parallel: it reads
// process-wide memory statistics.
func TestDecode_BombsStayOnDisk(t *testing.T) {
	data := bomb()
	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)

	var wg sync.WaitGroup
	for range 6 {
		wg.Go(func() {
			if _, _, err := CheckImage(bytes.NewReader(data), ImageRules{MaxBytes: 20 << 20, MaxPixels: MaxImagePixels}); err == nil {
				t.Error("CheckImage accepted a bomb")
			}
			if _, _, err := DecodeImage(data); err == nil {
				t.Error("DecodeImage decoded a bomb")
			}
			if _, err := ToPNG(data); err == nil {
				t.Error("ToPNG converted a bomb")
			}
		})
	}
	wg.Wait()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 16<<20 {
		t.Fatalf("six bombs allocated %d MB; a header check should allocate next to nothing", grew>>20)
	}
}
