package synth

import (
	"image"
	"testing"

	"github.com/lepus-ai/lepus/internal/media"
	"github.com/lepus-ai/lepus/internal/media/mediatest"
)

func TestRestyle(t *testing.T) {
	t.Parallel()

	src := mediatest.Photo(600, 400)
	t.Run("OK", func(t *testing.T) {
		t.Parallel()
		out := Restyle(src, "make it look like a watercolour", 300)
		if out.Bounds() != image.Rect(0, 0, 300, 200) {
			t.Fatalf("bounds %v, want 300x200", out.Bounds())
		}
		scaled := media.FitRGBA(src, 300)
		if d := mediatest.MeanAbsDiff(out, scaled, scaled.Rect); d < 15 {
			t.Errorf("result too close to the source (mean diff %.1f)", d)
		}
		// Still recognisably the same picture: the bright white square stays
		// brighter than the dark top-left corner.
		if luma(out, image.Rect(225, 40, 245, 60)) < luma(out, image.Rect(0, 0, 10, 10))+80 {
			t.Error("restyle lost the picture's light and shade")
		}
	})
	t.Run("OK_DeterministicPerPrompt", func(t *testing.T) {
		t.Parallel()
		a := Restyle(src, "sunset", 200)
		b := Restyle(src, "sunset", 200)
		c := Restyle(src, "neon city at night", 200)
		r := a.Bounds()
		if d := mediatest.MeanAbsDiff(a, b, r); d != 0 {
			t.Errorf("same prompt gave different results (diff %.2f)", d)
		}
		if d := mediatest.MeanAbsDiff(a, c, r); d < 5 {
			t.Errorf("different prompts gave near-identical results (diff %.2f)", d)
		}
	})
	t.Run("OK_Degenerate", func(t *testing.T) {
		t.Parallel()
		if out := Restyle(nil, "x", 100); !out.Bounds().Empty() {
			t.Errorf("nil source gave %v", out.Bounds())
		}
		if out := Restyle(mediatest.Solid(3000, 2, mediatest.SkinTone), "x", 0); out.Bounds().Dx() != defaultImageMaxSide {
			t.Errorf("default max side not applied: %v", out.Bounds())
		}
	})
}

func luma(m image.Image, r image.Rectangle) float64 {
	var sum float64
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			cr, cg, cb, _ := m.At(x, y).RGBA()
			sum += 0.299*float64(cr>>8) + 0.587*float64(cg>>8) + 0.114*float64(cb>>8)
		}
	}
	return sum / float64(r.Dx()*r.Dy())
}
