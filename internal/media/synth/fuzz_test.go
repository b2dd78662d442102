package synth

import (
	"bytes"
	"image"
	"testing"

	mp4 "github.com/abema/go-mp4"

	"github.com/lepus-ai/lepus/internal/media"
	"github.com/lepus-ai/lepus/internal/media/mediatest"
)

// The fuzz targets here feed parsers of uploaded bytes (issue 9); see
// media's fuzz tests for the budget they share. FuzzMP4 lives here, not in
// media, because its seeds are this package's writers' output and it also
// feeds this package's track reader and first-frame decoder, which read
// user videos in the sandbox.

// fuzzMP4Seeds are small files of every shape the writers make, garbled.
func fuzzMP4Seeds(f *testing.F) [][]byte {
	var seeds [][]byte
	for _, o := range []MP4Options{{MaxSide: 32}, {MaxSide: 48, FPS: 24, Motion: true}} {
		var buf bytes.Buffer
		if err := WriteMP4(&buf, mediatest.Photo(64, 48), 0.5, o); err != nil {
			f.Fatal(err)
		}
		seeds = append(seeds, buf.Bytes())
	}
	var show bytes.Buffer
	if err := WriteSlideshowMP4(&show, []image.Image{mediatest.Photo(32, 32), mediatest.Photo(48, 32)}, 0.4, MP4Options{MaxSide: 32}); err != nil {
		f.Fatal(err)
	}
	seeds = append(seeds, show.Bytes(), SilentM4A(0.2))
	var muxed bytes.Buffer
	if err := MuxAudio(&muxed, bytes.NewReader(seeds[0]), SilentADTS(0.5), media.AudioAAC); err != nil {
		f.Fatal(err)
	}
	seeds = append(seeds, muxed.Bytes())
	var all [][]byte
	for _, s := range seeds {
		all = append(all, mediatest.Garbled(s)...)
	}
	return all
}

// FuzzMP4 feeds the MP4 readers of uploaded video: MP4Duration,
// MP4VideoSize, the track reader MuxAudio uses and FirstFrame (which also
// runs the SPS/PPS and slice parsers).
func FuzzMP4(f *testing.F) {
	for _, s := range fuzzMP4Seeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		defer mediatest.CheckBudget(t)()
		d, err := media.MP4Duration(bytes.NewReader(data))
		mediatest.CheckDuration(t, d, err)
		w, h, err := media.MP4VideoSize(bytes.NewReader(data))
		if w < 0 || h < 0 || (err == nil && (w == 0 || h == 0)) {
			t.Fatalf("media.MP4VideoSize = %dx%d, %v", w, h, err)
		}
		for _, c := range []mp4.Codec{mp4.CodecAVC1, mp4.CodecMP4A} {
			if tr, err := readMP4Track(bytes.NewReader(data), c); err == nil && tr.count() != len(tr.srcOffs) {
				t.Fatalf("track of %d samples with %d offsets", tr.count(), len(tr.srcOffs))
			}
		}
		if img, err := FirstFrame(bytes.NewReader(data)); err == nil {
			if b := img.Bounds(); b.Empty() || int64(b.Dx())*int64(b.Dy()) > media.MaxImagePixels {
				t.Fatalf("FirstFrame gave a %v picture", b)
			}
		}
	})
}

// FuzzParseSPS feeds the H.264 parameter set parsers: an accepted SPS
// describes a picture of positive size within the macroblock limit.
func FuzzParseSPS(f *testing.F) {
	for _, size := range [][2]int{{16, 16}, {640, 352}, {1920, 1088}} {
		s := newH264Stream(size[0], size[1], 25)
		for _, g := range mediatest.Garbled(s.sps()) {
			f.Add(g)
		}
		f.Add(s.pps())
	}
	f.Fuzz(func(t *testing.T, nal []byte) {
		defer mediatest.CheckBudget(t)()
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
