package synth

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"testing"

	"github.com/lepus-ai/lepus/internal/media"
	"github.com/lepus-ai/lepus/internal/media/mediatest"
)

// quadrants is a w x h picture of four flat colours; with even sides each
// quadrant covers whole 2x2 chroma blocks, so it survives 4:2:0 exactly
// up to rounding.
func quadrants(w, h int) (*image.RGBA, []color.RGBA) {
	cols := []color.RGBA{{200, 30, 40, 255}, {20, 180, 60, 255}, {30, 40, 210, 255}, {240, 230, 220, 255}}
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			m.SetRGBA(x, y, cols[2*(2*y/h)+2*x/w])
		}
	}
	return m, cols
}

func TestFirstFrame(t *testing.T) {
	t.Parallel()

	quad, cols := quadrants(64, 48)
	slides := writeSlideshow(t, []image.Image{quad, mediatest.Photo(48, 64)}, 1, MP4Options{})
	var muxed bytes.Buffer
	if err := MuxAudio(&muxed, bytes.NewReader(writeTestMP4(t, quad, 1, MP4Options{})), SilentADTS(1), media.AudioAAC); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		mp4  []byte
	}{
		{"Still", writeTestMP4(t, quad, 1, MP4Options{})},
		{"Motion", writeTestMP4(t, quad, 1, MP4Options{Motion: true})},
		{"Slideshow", slides},
		{"MuxedWithAudio", muxed.Bytes()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			img, err := FirstFrame(bytes.NewReader(tt.mp4))
			if err != nil {
				t.Fatalf("FirstFrame: %v", err)
			}
			if img.Bounds() != quad.Bounds() {
				t.Fatalf("bounds %v, want %v", img.Bounds(), quad.Bounds())
			}
			// Quadrant centres: limited-range YCbCr round trips within a
			// few levels.
			for i, p := range []image.Point{{16, 12}, {48, 12}, {16, 36}, {48, 36}} {
				got := color.RGBAModel.Convert(img.At(p.X, p.Y)).(color.RGBA)
				if !near(got, cols[i], 4) {
					t.Errorf("pixel %v = %v, want %v", p, got, cols[i])
				}
			}
		})
	}
}

// TestFirstFrame_Photo compares a whole detailed picture: only chroma
// subsampling at colour edges may differ.
func TestFirstFrame_Photo(t *testing.T) {
	t.Parallel()

	src := mediatest.Photo(160, 128)
	img, err := FirstFrame(bytes.NewReader(writeTestMP4(t, src, 0.5, MP4Options{})))
	if err != nil {
		t.Fatalf("FirstFrame: %v", err)
	}
	if d := mediatest.MeanAbsDiff(src, img, src.Bounds()); d > 4 {
		t.Fatalf("mean difference %.2f levels, want at most 4", d)
	}
}

func near(a, b color.RGBA, tol int) bool {
	d := func(x, y uint8) bool { return int(x)-int(y) <= tol && int(y)-int(x) <= tol }
	return d(a.R, b.R) && d(a.G, b.G) && d(a.B, b.B)
}

// testStreamMP4 wraps one hand-made access unit (plus parameter sets) in
// an MP4, the way WriteMP4 stores its pictures.
func testStreamMP4(t *testing.T, s h264Stream, pps []byte, au []byte) []byte {
	t.Helper()
	track, _ := newVideoTrack(s.widthMbs*16, s.heightMbs*16, 10, 0.1)
	track.sps, track.pps, track.level = s.sps(), pps, s.level
	var buf bytes.Buffer
	if err := writeVideoFile(&buf, track, []sample{{data: au, idr: true}}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// cabacPPS is the stream's PPS with entropy_coding_mode_flag set.
func cabacPPS() []byte {
	var w bitWriter
	w.ue(0)
	w.ue(0)
	w.flag(true) // CABAC
	w.flag(false)
	w.ue(0)
	w.ue(0)
	w.ue(0)
	w.flag(false)
	w.u(2, 0)
	w.se(0)
	w.se(0)
	w.se(0)
	w.flag(true)
	w.flag(false)
	w.flag(false)
	return nalUnit(refIdcParamsIDR, nalPPS, w.trailing())
}

func TestFirstFrame_Err(t *testing.T) {
	t.Parallel()

	s := newH264Stream(32, 32, 10)
	// An IDR slice whose first macroblock is I_16x16 (intra prediction
	// with a residual), as a real encoder writes it.
	var w bitWriter
	s.sliceHeader(&w, true, 0, 0)
	w.ue(1) // mb_type I_16x16_0_0_0
	w.ue(0) // intra_chroma_pred_mode
	w.se(0) // mb_qp_delta
	w.u(16, 0xA5A5)
	intra := lengthPrefixed(nalUnit(refIdcParamsIDR, nalSliceIDR, w.trailing()))
	// A picture that codes only its first macroblock.
	var p bitWriter
	s.sliceHeader(&p, true, 0, 0)
	p.ue(mbTypeIPCM)
	p.alignZero()
	p.appendBytes(make([]byte, 384))
	partial := lengthPrefixed(nalUnit(refIdcParamsIDR, nalSliceIDR, p.trailing()))

	tests := []struct {
		name           string
		data           []byte
		wantUndecoding bool
	}{
		{"ErrIntraMacroblock", testStreamMP4(t, s, s.pps(), intra), true},
		{"ErrCABAC", testStreamMP4(t, s, cabacPPS(), partial), true},
		{"ErrMissingMacroblocks", testStreamMP4(t, s, s.pps(), partial), true},
		{"ErrPSlice", testStreamMP4(t, s, s.pps(), lengthPrefixed(s.skipPicture(1))), true},
		{"ErrAudioOnly", SilentM4A(0.5), true},
		{"ErrNotMP4", []byte("definitely not an mp4 file, just some text"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			img, err := FirstFrame(bytes.NewReader(tt.data))
			if err == nil {
				t.Fatalf("decoded a %v image, want an error", img.Bounds())
			}
			if errors.Is(err, ErrUndecodable) != tt.wantUndecoding {
				t.Fatalf("error %v: errors.Is(ErrUndecodable) = %v, want %v", err, !tt.wantUndecoding, tt.wantUndecoding)
			}
		})
	}
}
