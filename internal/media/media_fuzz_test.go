package media_test

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/jpeg"
	"image/png"
	"io"
	"testing"

	"github.com/lepus-ai/lepus/internal/media/mediatest"
	"github.com/lepus-ai/lepus/internal/sample"

	"github.com/lepus-ai/lepus/internal/media/synth"

	"github.com/lepus-ai/lepus/internal/media"
)

// The fuzz targets below feed every parser of uploaded bytes (issue 9).
// Each asserts no panic, a bounded run time (fuzzBudget; the engine's own
// memory limit catches giant allocations) and the parser's invariants. In
// CI only the seeds run, as plain tests.

// FuzzSniffImage feeds the image header checks (SniffImage, CheckImage)
// and the decode (WithDecodedImage): an accepted image has positive
// dimensions within MaxImagePixels, and the sniffer's reader gives back
// every byte.
func FuzzSniffImage(f *testing.F) {
	var jpg bytes.Buffer
	if err := jpeg.Encode(&jpg, mediatest.Photo(40, 30), nil); err != nil {
		f.Fatal(err)
	}
	var pngb bytes.Buffer
	if err := png.Encode(&pngb, mediatest.Photo(30, 40)); err != nil {
		f.Fatal(err)
	}
	for _, s := range [][]byte{jpg.Bytes(), pngb.Bytes(), sample.PortraitPNG(sample.Palettes[0], 48, 64),
		[]byte("RIFF\x00\x00\x00\x00WEBPVP8 "), []byte("\x89PNG\r\n\x1a\n")} {
		for _, g := range mediatest.Garbled(s) {
			f.Add(g)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		defer mediatest.CheckBudget(t)()
		info, rd, err := media.SniffImage(bytes.NewReader(data))
		if all, rerr := io.ReadAll(rd); rerr != nil || !bytes.Equal(all, data) {
			t.Fatalf("sniffed reader gave %d of %d bytes (%v)", len(all), len(data), rerr)
		}
		checkImageInfo(t, "media.SniffImage", info, err)
		info, _, err = media.CheckImage(bytes.NewReader(data), media.ImageRules{MaxPixels: media.MaxImagePixels})
		checkImageInfo(t, "media.CheckImage", info, err)
		err = media.WithDecodedImage(context.Background(), data, func(m image.Image, info media.ImageInfo) error {
			if b := m.Bounds(); b.Dx() != info.Width || b.Dy() != info.Height {
				t.Fatalf("decoded %v, info %dx%d", b, info.Width, info.Height)
			}
			checkImageInfo(t, "media.WithDecodedImage", info, nil)
			return nil
		})
		var re *media.RuleError
		if err != nil && !errors.As(err, &re) {
			t.Fatalf("media.WithDecodedImage: %v is not a *media.RuleError", err)
		}
	})
}

func checkImageInfo(t *testing.T, fn string, info media.ImageInfo, err error) {
	t.Helper()
	if info.Width < 0 || info.Height < 0 {
		t.Fatalf("%s: negative size %dx%d", fn, info.Width, info.Height)
	}
	if err != nil {
		return
	}
	if info.Width == 0 || info.Height == 0 || int64(info.Width)*int64(info.Height) > media.MaxImagePixels {
		t.Fatalf("%s accepted a %dx%d image (budget %d px)", fn, info.Width, info.Height, media.MaxImagePixels)
	}
}

// FuzzAudioDuration feeds AudioDuration every format with every input, as
// a mislabelled upload would reach it.
func FuzzAudioDuration(f *testing.F) {
	for _, s := range [][]byte{synth.SineWAV(0.3, 8000), synth.SilentMP3(0.5, true), synth.SilentMP3(0.3, false), synth.SilentADTS(0.5), synth.SilentM4A(0.3)} {
		for _, g := range mediatest.Garbled(s) {
			f.Add(g)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		defer mediatest.CheckBudget(t)()
		for _, format := range []string{media.AudioMP3, media.AudioWAV, media.AudioM4A, media.AudioAAC} {
			d, err := media.AudioDuration(bytes.NewReader(data), format)
			mediatest.CheckDuration(t, d, err)
		}
		if info, err := media.SniffMedia(data[:min(len(data), 4096)]); err == nil && info.Format == "" {
			t.Fatalf("media.SniffMedia accepted %+v with no format", info)
		}
	})
}
