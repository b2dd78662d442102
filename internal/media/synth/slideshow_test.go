package synth

import (
	"bytes"
	"image"
	"image/color"
	"strings"
	"testing"

	mp4 "github.com/abema/go-mp4"

	"github.com/lepus-ai/lepus/internal/media"
	"github.com/lepus-ai/lepus/internal/media/mediatest"
)

func writeSlideshow(t *testing.T, images []image.Image, seconds float64, opts MP4Options) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteSlideshowMP4(&buf, images, seconds, opts); err != nil {
		t.Fatalf("WriteSlideshowMP4: %v", err)
	}
	return buf.Bytes()
}

func TestWriteSlideshowMP4(t *testing.T) {
	t.Parallel()

	red, green := mediatest.Solid(160, 120, color.RGBA{220, 20, 20, 255}), mediatest.Solid(60, 120, color.RGBA{20, 200, 20, 255})
	blue := mediatest.Solid(200, 50, color.RGBA{20, 20, 220, 255})
	tests := []struct {
		name     string
		seconds  float64
		opts     MP4Options
		samples  int
		wantIDRs []uint32
	}{
		{"Still", 4.5, MP4Options{}, 45, []uint32{1, 16, 31}},
		{"Motion_OneSecondPerImage", 3, MP4Options{Motion: true, FPS: 10}, 30, []uint32{1, 11, 21}},
		{"Uneven_24fps", 1.01, MP4Options{FPS: 24}, 25, []uint32{1, 9, 17}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			data := writeSlideshow(t, []image.Image{red, green, blue}, tt.seconds, tt.opts)
			got, err := media.MP4Duration(bytes.NewReader(data))
			if err != nil || got != tt.seconds {
				t.Fatalf("duration %v, %v; want %v", got, err, tt.seconds)
			}
			info, err := mp4.Probe(bytes.NewReader(data))
			if err != nil {
				t.Fatalf("go-mp4: %v", err)
			}
			if len(info.Tracks) != 1 || !info.FastStart {
				t.Fatalf("%d tracks, faststart %v; want one video track, moov first", len(info.Tracks), info.FastStart)
			}
			tr := info.Tracks[0]
			if tr.AVC == nil || tr.AVC.Width != 160 || tr.AVC.Height != 112 {
				t.Fatalf("avc %+v, want 160x112 (first image, sides rounded to 16)", tr.AVC)
			}
			if len(tr.Samples) != tt.samples {
				t.Errorf("%d samples, want %d", len(tr.Samples), tt.samples)
			}
			idrs := checkSamples(t, data, tr)
			if stss := syncSamples(t, data); !equalUint32(stss, idrs) {
				t.Errorf("stss %v, but IDR pictures are samples %v", stss, idrs)
			}
			if !equalUint32(idrs, tt.wantIDRs) {
				t.Errorf("IDR samples %v, want %v (one per image)", idrs, tt.wantIDRs)
			}
		})
	}
}

// TestWriteSlideshowMP4_Letterbox decodes the second image's IDR picture:
// a tall green image on a wide canvas has black bars left and right.
func TestWriteSlideshowMP4_Letterbox(t *testing.T) {
	t.Parallel()

	red, green := mediatest.Solid(160, 96, color.RGBA{220, 20, 20, 255}), mediatest.Solid(48, 96, color.RGBA{20, 200, 20, 255})
	data := writeSlideshow(t, []image.Image{red, green}, 1, MP4Options{})
	info, err := mp4.Probe(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	tr := info.Tracks[0]
	off := tr.Chunks[0].DataOffset
	for _, s := range tr.Samples[:5] {
		off += uint64(s.Size)
	}
	second := data[off : off+uint64(tr.Samples[5].Size)]
	dec := newPCMDecoder()
	s := newH264Stream(160, 96, 10)
	for _, ps := range [][]byte{s.sps(), s.pps()} {
		if err := dec.addParamSet(ps); err != nil {
			t.Fatal(err)
		}
	}
	frame, sps, err := dec.decodeAccessUnit(second, 4)
	if err != nil {
		t.Fatalf("decode second image: %v", err)
	}
	img := ycbcrToRGBA(frame, frame.Rect, sps.fullRange, sps.matrix)
	black, greenish := color.RGBA{0, 0, 0, 255}, color.RGBA{20, 200, 20, 255}
	for _, c := range []struct {
		p    image.Point
		want color.RGBA
	}{{image.Pt(10, 48), black}, {image.Pt(150, 48), black}, {image.Pt(80, 10), greenish}, {image.Pt(80, 90), greenish}} {
		if got := img.RGBAAt(c.p.X, c.p.Y); !near(got, c.want, 4) {
			t.Errorf("pixel %v = %v, want %v", c.p, got, c.want)
		}
	}
}

func TestWriteSlideshowMP4_OneImageIsWriteMP4(t *testing.T) {
	t.Parallel()

	img := mediatest.Photo(100, 80)
	opts := MP4Options{Motion: true, FPS: 12}
	if !bytes.Equal(writeSlideshow(t, []image.Image{img}, 1.5, opts), writeTestMP4(t, img, 1.5, opts)) {
		t.Fatal("a one-image slideshow differs from WriteMP4's file")
	}
}

func TestWriteSlideshowMP4_Err(t *testing.T) {
	t.Parallel()

	img := mediatest.Photo(32, 32)
	tests := []struct {
		name    string
		images  []image.Image
		seconds float64
		want    string
	}{
		{"ErrNoImages", nil, 2, "no images"},
		{"ErrNilImage", []image.Image{img, nil}, 2, "image 1 is empty"},
		{"ErrTooShort", []image.Image{img, img, img}, 0.2, "fewer than the 3 images"},
		{"ErrTooLong", []image.Image{img, img}, 3600, "duration"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var buf bytes.Buffer
			err := WriteSlideshowMP4(&buf, tt.images, tt.seconds, MP4Options{})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want one mentioning %q", err, tt.want)
			}
		})
	}
}
