package media

import (
	"image"
	"image/color"
	"testing"

	"github.com/lepus-ai/lepus/internal/media/mediatest"
)

func TestDetectFaces(t *testing.T) {
	t.Parallel()

	t.Run("OK", func(t *testing.T) {
		t.Parallel()
		faces := DetectFaces(mediatest.FaceScene())
		if len(faces) != 1 {
			t.Fatalf("found %v, want one face", faces)
		}
		if !image.Pt(200, 250).In(faces[0]) || faces[0].Dx() < 100 || faces[0].Dx() > 300 {
			t.Errorf("face box %v does not frame the face at (200,250)", faces[0])
		}
	})
	t.Run("OK_OffsetOrigin", func(t *testing.T) {
		t.Parallel()
		sub := mediatest.FaceScene().SubImage(image.Rect(50, 60, 700, 600))
		faces := DetectFaces(sub)
		if len(faces) != 1 || !image.Pt(200, 250).In(faces[0]) || !faces[0].In(sub.Bounds()) {
			t.Fatalf("found %v in %v; boxes must be in the image's own coordinates", faces, sub.Bounds())
		}
	})
	t.Run("ErrNoFace", func(t *testing.T) {
		t.Parallel()
		for name, img := range map[string]image.Image{
			"gradient": mediatest.Photo(640, 480),
			"flat":     mediatest.Solid(300, 300, color.RGBA{128, 128, 128, 255}),
			"tiny":     mediatest.Solid(10, 10, mediatest.SkinTone),
			"empty":    image.NewRGBA(image.Rect(0, 0, 0, 0)),
			"nil":      nil,
		} {
			if faces := DetectFaces(img); len(faces) != 0 {
				t.Errorf("%s: found faces %v in a picture without one", name, faces)
			}
		}
	})
}
