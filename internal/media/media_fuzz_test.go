package media

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/jpeg"
	"image/png"
	"io"
	"math"
	"testing"
	"time"

	mp4 "github.com/abema/go-mp4"

	synth "github.com/lepus-ai/lepus/internal/sample"
)

// The fuzz targets below feed every parser of uploaded bytes (issue 9).
// Each asserts no panic, a bounded run time (fuzzBudget; the engine's own
// memory limit catches giant allocations) and the parser's invariants. In
// CI only the seeds run, as plain tests.

// fuzzBudget is how long one input may take; the seeds take milliseconds.
const fuzzBudget = 2 * time.Second

// hangLimit is when an input counts as hung: the process is crashed, so
// the fuzzing engine keeps the input as a crasher instead of waiting.
const hangLimit = 20 * time.Second

// checkBudget starts timing an input; the returned func, deferred, fails
// one that took longer than fuzzBudget.
func checkBudget(t *testing.T) func() {
	t.Helper()
	start := time.Now()
	hung := time.AfterFunc(hangLimit, func() { panic("fuzz input hung for " + hangLimit.String()) })
	return func() {
		hung.Stop()
		if d := time.Since(start); d > fuzzBudget {
			t.Fatalf("took %v (budget %v)", d, fuzzBudget)
		}
	}
}

// garbled returns data truncated at a few points and with a byte flipped
// in its middle, the usual damage of an upload.
func garbled(data []byte) [][]byte {
	out := [][]byte{data}
	for _, n := range []int{len(data) / 2, len(data) - 1, 64, 8} {
		if n > 0 && n < len(data) {
			out = append(out, append([]byte{}, data[:n]...))
		}
	}
	if len(data) > 0 {
		flip := append([]byte{}, data...)
		flip[len(flip)/2] ^= 0xFF
		out = append(out, flip)
	}
	return out
}

// checkDuration asserts a duration is a finite number of seconds >= 0.
func checkDuration(t *testing.T, d float64, err error) {
	t.Helper()
	if err != nil && d != 0 {
		t.Fatalf("duration %v with error %v", d, err)
	}
	if math.IsNaN(d) || math.IsInf(d, 0) || d < 0 {
		t.Fatalf("duration %v is not a finite, non-negative number", d)
	}
}

func fuzzMP4Seeds(f *testing.F) [][]byte {
	var seeds [][]byte
	for _, o := range []MP4Options{{MaxSide: 32}, {MaxSide: 48, FPS: 24, Motion: true}} {
		var buf bytes.Buffer
		if err := WriteMP4(&buf, testPhoto(64, 48), 0.5, o); err != nil {
			f.Fatal(err)
		}
		seeds = append(seeds, buf.Bytes())
	}
	var show bytes.Buffer
	if err := WriteSlideshowMP4(&show, []image.Image{testPhoto(32, 32), testPhoto(48, 32)}, 0.4, MP4Options{MaxSide: 32}); err != nil {
		f.Fatal(err)
	}
	seeds = append(seeds, show.Bytes(), SilentM4A(0.2))
	var muxed bytes.Buffer
	if err := MuxAudio(&muxed, bytes.NewReader(seeds[0]), SilentADTS(0.5), AudioAAC); err != nil {
		f.Fatal(err)
	}
	seeds = append(seeds, muxed.Bytes())
	var all [][]byte
	for _, s := range seeds {
		all = append(all, garbled(s)...)
	}
	return all
}

// FuzzSniffImage feeds the image header checks (SniffImage, CheckImage)
// and the decode (WithDecodedImage): an accepted image has positive
// dimensions within MaxImagePixels, and the sniffer's reader gives back
// every byte.
func FuzzSniffImage(f *testing.F) {
	var jpg bytes.Buffer
	if err := jpeg.Encode(&jpg, testPhoto(40, 30), nil); err != nil {
		f.Fatal(err)
	}
	var pngb bytes.Buffer
	if err := png.Encode(&pngb, testPhoto(30, 40)); err != nil {
		f.Fatal(err)
	}
	for _, s := range [][]byte{jpg.Bytes(), pngb.Bytes(), synth.PortraitPNG(synth.Palettes[0], 48, 64),
		[]byte("RIFF\x00\x00\x00\x00WEBPVP8 "), []byte("\x89PNG\r\n\x1a\n")} {
		for _, g := range garbled(s) {
			f.Add(g)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		defer checkBudget(t)()
		info, rd, err := SniffImage(bytes.NewReader(data))
		if all, rerr := io.ReadAll(rd); rerr != nil || !bytes.Equal(all, data) {
			t.Fatalf("sniffed reader gave %d of %d bytes (%v)", len(all), len(data), rerr)
		}
		checkImageInfo(t, "SniffImage", info, err)
		info, _, err = CheckImage(bytes.NewReader(data), ImageRules{MaxPixels: MaxImagePixels})
		checkImageInfo(t, "CheckImage", info, err)
		err = WithDecodedImage(context.Background(), data, func(m image.Image, info ImageInfo) error {
			if b := m.Bounds(); b.Dx() != info.Width || b.Dy() != info.Height {
				t.Fatalf("decoded %v, info %dx%d", b, info.Width, info.Height)
			}
			checkImageInfo(t, "WithDecodedImage", info, nil)
			return nil
		})
		var re *RuleError
		if err != nil && !errors.As(err, &re) {
			t.Fatalf("WithDecodedImage: %v is not a *RuleError", err)
		}
	})
}

func checkImageInfo(t *testing.T, fn string, info ImageInfo, err error) {
	t.Helper()
	if info.Width < 0 || info.Height < 0 {
		t.Fatalf("%s: negative size %dx%d", fn, info.Width, info.Height)
	}
	if err != nil {
		return
	}
	if info.Width == 0 || info.Height == 0 || int64(info.Width)*int64(info.Height) > MaxImagePixels {
		t.Fatalf("%s accepted a %dx%d image (budget %d px)", fn, info.Width, info.Height, MaxImagePixels)
	}
}

// FuzzMP4 feeds the MP4 readers of uploaded video: MP4Duration,
// MP4VideoSize, the track reader MuxAudio uses and FirstFrame (which also
// runs the SPS/PPS and slice parsers).
func FuzzMP4(f *testing.F) {
	for _, s := range fuzzMP4Seeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		defer checkBudget(t)()
		d, err := MP4Duration(bytes.NewReader(data))
		checkDuration(t, d, err)
		w, h, err := MP4VideoSize(bytes.NewReader(data))
		if w < 0 || h < 0 || (err == nil && (w == 0 || h == 0)) {
			t.Fatalf("MP4VideoSize = %dx%d, %v", w, h, err)
		}
		for _, c := range []mp4.Codec{mp4.CodecAVC1, mp4.CodecMP4A} {
			if tr, err := readMP4Track(bytes.NewReader(data), c); err == nil && tr.count() != len(tr.srcOffs) {
				t.Fatalf("track of %d samples with %d offsets", tr.count(), len(tr.srcOffs))
			}
		}
		if img, err := FirstFrame(bytes.NewReader(data)); err == nil {
			if b := img.Bounds(); b.Empty() || int64(b.Dx())*int64(b.Dy()) > MaxImagePixels {
				t.Fatalf("FirstFrame gave a %v picture", b)
			}
		}
	})
}

// FuzzAudioDuration feeds AudioDuration every format with every input, as
// a mislabelled upload would reach it.
func FuzzAudioDuration(f *testing.F) {
	for _, s := range [][]byte{SineWAV(0.3, 8000), SilentMP3(0.5, true), SilentMP3(0.3, false), SilentADTS(0.5), SilentM4A(0.3)} {
		for _, g := range garbled(s) {
			f.Add(g)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		defer checkBudget(t)()
		for _, format := range []string{AudioMP3, AudioWAV, AudioM4A, AudioAAC} {
			d, err := AudioDuration(bytes.NewReader(data), format)
			checkDuration(t, d, err)
		}
		if info, err := SniffMedia(data[:min(len(data), 4096)]); err == nil && info.Format == "" {
			t.Fatalf("SniffMedia accepted %+v with no format", info)
		}
	})
}

// FuzzParseSPS feeds the H.264 parameter set parsers: an accepted SPS
// describes a picture of positive size within the macroblock limit.
func FuzzParseSPS(f *testing.F) {
	for _, size := range [][2]int{{16, 16}, {640, 352}, {1920, 1088}} {
		s := newH264Stream(size[0], size[1], 25)
		for _, g := range garbled(s.sps()) {
			f.Add(g)
		}
		f.Add(s.pps())
	}
	f.Fuzz(func(t *testing.T, nal []byte) {
		defer checkBudget(t)()
		if len(nal) == 0 {
			return // callers skip empty parameter sets
		}
		if s, err := parseSPS(nal); err == nil {
			if s.widthMbs < 1 || s.heightMbs < 1 || s.widthMbs > 1024 || s.heightMbs > 1024 {
				t.Fatalf("SPS of %dx%d macroblocks accepted", s.widthMbs, s.heightMbs)
			}
		}
		_, _ = parsePPS(nal)
		_ = newPCMDecoder().addParamSet(nal)
	})
}
