package media

import (
	"image"
	"image/color"
	"testing"
)

var (
	skinTone = color.RGBA{220, 180, 150, 255}
	magenta  = color.RGBA{230, 120, 220, 255}
)

// portrait is a scene with a painted face centred at (200, 250), left of
// where the upper-centre fallback would look.
func portrait() *image.RGBA {
	m := testPhoto(800, 600)
	paintFace(m, 200, 250, 100, skinTone)
	return m
}

// magentaFace is a face image whose face is unmistakably not the scene's.
func magentaFace() *image.RGBA {
	m := solid(400, 500, color.RGBA{235, 235, 240, 255})
	paintFace(m, 200, 200, 110, magenta)
	return m
}

func TestDetectFaces(t *testing.T) {
	t.Parallel()

	t.Run("OK", func(t *testing.T) {
		t.Parallel()
		faces := DetectFaces(portrait())
		if len(faces) != 1 {
			t.Fatalf("found %v, want one face", faces)
		}
		if !image.Pt(200, 250).In(faces[0]) || faces[0].Dx() < 100 || faces[0].Dx() > 300 {
			t.Errorf("face box %v does not frame the face at (200,250)", faces[0])
		}
	})
	t.Run("OK_OffsetOrigin", func(t *testing.T) {
		t.Parallel()
		sub := portrait().SubImage(image.Rect(50, 60, 700, 600))
		faces := DetectFaces(sub)
		if len(faces) != 1 || !image.Pt(200, 250).In(faces[0]) || !faces[0].In(sub.Bounds()) {
			t.Fatalf("found %v in %v; boxes must be in the image's own coordinates", faces, sub.Bounds())
		}
	})
	t.Run("ErrNoFace", func(t *testing.T) {
		t.Parallel()
		for name, img := range map[string]image.Image{
			"gradient": testPhoto(640, 480),
			"flat":     solid(300, 300, color.RGBA{128, 128, 128, 255}),
			"tiny":     solid(10, 10, skinTone),
			"empty":    image.NewRGBA(image.Rect(0, 0, 0, 0)),
			"nil":      nil,
		} {
			if faces := DetectFaces(img); len(faces) != 0 {
				t.Errorf("%s: found faces %v in a picture without one", name, faces)
			}
		}
	})
}

func TestFaceSwap(t *testing.T) {
	t.Parallel()

	t.Run("OK_DetectedFaces", func(t *testing.T) {
		t.Parallel()
		src, face := portrait(), magentaFace()
		if len(DetectFaces(face)) != 1 {
			t.Fatal("precondition: the face image must contain a detectable face")
		}
		out := FaceSwap(src, face, 800)
		if out.Bounds() != src.Bounds() {
			t.Fatalf("bounds %v, want %v", out.Bounds(), src.Bounds())
		}
		faceRegion := image.Rect(180, 230, 220, 270)
		if d := meanAbsDiff(out, src, faceRegion); d < 20 {
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
			if d := meanAbsDiff(out, src, r); d != 0 {
				t.Errorf("background %v changed (mean diff %.2f)", r, d)
			}
		}
	})
	t.Run("OK_FallbackRegion", func(t *testing.T) {
		t.Parallel()
		src := testPhoto(600, 800)
		face := solid(500, 500, magenta)
		out := FaceSwap(src, face, 400)
		if out.Bounds() != image.Rect(0, 0, 300, 400) {
			t.Fatalf("bounds %v, want 300x400 (long side fitted to 400)", out.Bounds())
		}
		scaled := fitRGBA(src, 400)
		faceRegion := image.Rect(135, 125, 165, 155) // upper centre
		if d := meanAbsDiff(out, scaled, faceRegion); d < 30 {
			t.Errorf("upper-centre region barely changed (mean diff %.1f)", d)
		}
		for _, r := range []image.Rectangle{image.Rect(0, 0, 40, 40), image.Rect(260, 0, 300, 40), image.Rect(0, 300, 300, 400)} {
			if d := meanAbsDiff(out, scaled, r); d != 0 {
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
		"1x1":      solid(1, 1, skinTone),
		"strip":    solid(2, 3000, skinTone),
		"wide":     solid(3000, 2, skinTone),
		"uniform":  image.NewUniform(magenta),
		"gray":     image.NewGray(image.Rect(-10, -10, 90, 110)),
		"paletted": pal,
		"offset":   portrait().SubImage(image.Rect(100, 100, 500, 450)),
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
