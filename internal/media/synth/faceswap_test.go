package synth

import (
	"image"
	"image/color"
	"testing"

	"github.com/lepus-ai/lepus/internal/media"
	"github.com/lepus-ai/lepus/internal/media/mediatest"
)

func TestFaceSwap(t *testing.T) {
	t.Parallel()

	t.Run("OK_DetectedFaces", func(t *testing.T) {
		t.Parallel()
		src, face := mediatest.FaceScene(), mediatest.MagentaFace()
		if len(media.DetectFaces(face)) != 1 {
			t.Fatal("precondition: the face image must contain a detectable face")
		}
		out := FaceSwap(src, face, 800)
		if out.Bounds() != src.Bounds() {
			t.Fatalf("bounds %v, want %v", out.Bounds(), src.Bounds())
		}
		faceRegion := image.Rect(180, 230, 220, 270)
		if d := mediatest.MeanAbsDiff(out, src, faceRegion); d < 20 {
			t.Errorf("face region barely changed (mean diff %.1f)", d)
		}
		if before, after := magentaness(src, faceRegion), magentaness(out, faceRegion); after < before+40 {
			t.Errorf("face region did not take the new face's colour: magentaness %.0f -> %.0f", before, after)
		}
		// The fallback region (upper centre) and the background stay as they were.
		for _, r := range []image.Rectangle{
			image.Rect(420, 160, 480, 240), // where the heuristic would have pasted
			image.Rect(0, 500, 800, 600),
			image.Rect(600, 0, 800, 100),
		} {
			if d := mediatest.MeanAbsDiff(out, src, r); d != 0 {
				t.Errorf("background %v changed (mean diff %.2f)", r, d)
			}
		}
	})
	t.Run("OK_FallbackRegion", func(t *testing.T) {
		t.Parallel()
		src := mediatest.Photo(600, 800)
		face := mediatest.Solid(500, 500, mediatest.Magenta)
		out := FaceSwap(src, face, 400)
		if out.Bounds() != image.Rect(0, 0, 300, 400) {
			t.Fatalf("bounds %v, want 300x400 (long side fitted to 400)", out.Bounds())
		}
		scaled := media.FitRGBA(src, 400)
		faceRegion := image.Rect(135, 125, 165, 155) // upper centre
		if d := mediatest.MeanAbsDiff(out, scaled, faceRegion); d < 30 {
			t.Errorf("upper-centre region barely changed (mean diff %.1f)", d)
		}
		for _, r := range []image.Rectangle{image.Rect(0, 0, 40, 40), image.Rect(260, 0, 300, 40), image.Rect(0, 300, 300, 400)} {
			if d := mediatest.MeanAbsDiff(out, scaled, r); d != 0 {
				t.Errorf("background %v changed (mean diff %.2f)", r, d)
			}
		}
	})
}

// magentaness is the mean of R+B-2G: high for magenta, low for skin.
func magentaness(m image.Image, r image.Rectangle) float64 {
	var sum float64
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			cr, cg, cb, _ := m.At(x, y).RGBA()
			sum += float64(cr>>8) + float64(cb>>8) - 2*float64(cg>>8)
		}
	}
	return sum / float64(r.Dx()*r.Dy())
}

func TestFaceSwap_NeverPanics(t *testing.T) {
	t.Parallel()

	pal := image.NewPaletted(image.Rect(0, 0, 40, 30), color.Palette{color.Black, color.White})
	imgs := map[string]image.Image{
		"nil":      nil,
		"empty":    image.NewRGBA(image.Rect(5, 5, 5, 5)),
		"1x1":      mediatest.Solid(1, 1, mediatest.SkinTone),
		"strip":    mediatest.Solid(2, 3000, mediatest.SkinTone),
		"wide":     mediatest.Solid(3000, 2, mediatest.SkinTone),
		"uniform":  image.NewUniform(mediatest.Magenta),
		"gray":     image.NewGray(image.Rect(-10, -10, 90, 110)),
		"paletted": pal,
		"offset":   mediatest.FaceScene().SubImage(image.Rect(100, 100, 500, 450)),
	}
	for sn, src := range imgs {
		for fn, face := range imgs {
			for _, maxSide := range []int{-1, 1, 64} {
				func() {
					defer func() {
						if r := recover(); r != nil {
							t.Errorf("FaceSwap(%s, %s, %d) panicked: %v", sn, fn, maxSide, r)
						}
					}()
					out := FaceSwap(src, face, maxSide)
					if out == nil {
						t.Errorf("FaceSwap(%s, %s, %d) returned nil", sn, fn, maxSide)
						return
					}
					limit := maxSide
					if limit <= 0 {
						limit = defaultImageMaxSide
					}
					if b := out.Bounds(); max(b.Dx(), b.Dy()) > limit {
						t.Errorf("FaceSwap(%s, %s, %d) is %v, larger than %d", sn, fn, maxSide, b, limit)
					}
				}()
			}
		}
	}
}
