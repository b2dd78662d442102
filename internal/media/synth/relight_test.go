package synth

import (
	"image"
	"image/color"
	"math"
	"testing"

	"github.com/lepus-ai/lepus/internal/media/mediatest"
)

// meanRGB is the mean of each channel over r.
func meanRGB(m image.Image, r image.Rectangle) [3]float64 {
	var s [3]float64
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			cr, cg, cb, _ := m.At(x, y).RGBA()
			s[0] += float64(cr >> 8)
			s[1] += float64(cg >> 8)
			s[2] += float64(cb >> 8)
		}
	}
	n := float64(r.Dx() * r.Dy())
	return [3]float64{s[0] / n, s[1] / n, s[2] / n}
}

// lumaStdDev measures contrast.
func lumaStdDev(m image.Image) float64 {
	b := m.Bounds()
	var sum, sq float64
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			v := luma(m, image.Rect(x, y, x+1, y+1))
			sum += v
			sq += v * v
		}
	}
	n := float64(b.Dx() * b.Dy())
	mean := sum / n
	return math.Sqrt(sq/n - mean*mean)
}

// lumaCorrelation is the Pearson correlation of the two pictures' luma.
func lumaCorrelation(a, b image.Image) float64 {
	r := a.Bounds()
	var sa, sb, saa, sbb, sab, n float64
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			p := image.Rect(x, y, x+1, y+1)
			va, vb := luma(a, p), luma(b, p)
			sa += va
			sb += vb
			saa += va * va
			sbb += vb * vb
			sab += va * vb
			n++
		}
	}
	cov := sab/n - sa/n*sb/n
	return cov / math.Sqrt((saa/n-sa*sa/n/n)*(sbb/n-sb*sb/n/n))
}

func TestRelight_Direction(t *testing.T) {
	t.Parallel()
	grey := mediatest.Solid(200, 120, color.RGBA{110, 110, 110, 255})
	in := luma(grey, grey.Rect)
	// The strip nearest the light and the one farthest from it.
	strips := map[string][2]image.Rectangle{
		LightLeft:  {image.Rect(0, 0, 30, 120), image.Rect(170, 0, 200, 120)},
		LightRight: {image.Rect(170, 0, 200, 120), image.Rect(0, 0, 30, 120)},
		LightAbove: {image.Rect(0, 0, 200, 20), image.Rect(0, 100, 200, 120)},
		LightBelow: {image.Rect(0, 100, 200, 120), image.Rect(0, 0, 200, 20)},
	}
	for dir, s := range strips {
		t.Run(dir, func(t *testing.T) {
			t.Parallel()
			out := Relight(grey, dir, 0.8, "")
			lit, far := luma(out, s[0]), luma(out, s[1])
			if lit < in+30 {
				t.Errorf("lit side luma %.1f, want well above the input's %.1f", lit, in)
			}
			if far > in {
				t.Errorf("far side luma %.1f brighter than the input's %.1f", far, in)
			}
			weak := Relight(grey, dir, 0.2, "")
			if wl := luma(weak, s[0]); wl >= lit || wl <= in {
				t.Errorf("strength 0.2 lit side %.1f, want between input %.1f and strength 0.8's %.1f", wl, in, lit)
			}
		})
	}
}

func TestRelight_Looks(t *testing.T) {
	t.Parallel()
	photo := mediatest.Photo(160, 120)
	grey := mediatest.Solid(160, 120, color.RGBA{120, 120, 120, 255})
	all := grey.Rect

	t.Run("OK_Identity", func(t *testing.T) {
		t.Parallel()
		out := Relight(photo, "", 0.9, "a portrait") // no direction: strength unused
		if d := mediatest.MeanAbsDiff(out, photo, photo.Rect); d != 0 {
			t.Errorf("no lighting asked for, yet mean diff %.2f", d)
		}
	})
	t.Run("OK_Warm", func(t *testing.T) {
		t.Parallel()
		c := meanRGB(Relight(grey, "", 0, "warm golden hour sunlight, soft warm tones"), all)
		if c[0] < c[2]+25 {
			t.Errorf("warm light gave RGB %.0f, want red well above blue", c)
		}
	})
	t.Run("OK_Cool", func(t *testing.T) {
		t.Parallel()
		c := meanRGB(Relight(grey, "", 0, "cool moonlight"), all)
		if c[2] < c[0]+20 {
			t.Errorf("cool light gave RGB %.0f, want blue well above red", c)
		}
	})
	t.Run("OK_Neon", func(t *testing.T) {
		t.Parallel()
		out := Relight(grey, LightLeft, 1, "neon lighting, colorful neon glow, cyberpunk atmosphere")
		lit := meanRGB(out, image.Rect(0, 0, 20, 120))
		far := meanRGB(out, image.Rect(140, 0, 160, 120))
		if lit[0] < lit[1]+40 || lit[2] < lit[1]+40 {
			t.Errorf("neon lit side RGB %.0f, want mediatest.Magenta (red and blue over green)", lit)
		}
		if far[2] < far[0]+20 || far[1] < far[0] {
			t.Errorf("neon far side RGB %.0f, want cyan (blue and green over red)", far)
		}
	})
	t.Run("OK_DramaticAndSoft", func(t *testing.T) {
		t.Parallel()
		base := lumaStdDev(photo)
		dramatic := Relight(photo, "", 0, "dramatic moody lighting, strong contrast, dark atmosphere")
		soft := Relight(photo, "", 0, "soft diffused lighting, beauty lighting, gentle shadows")
		if d := lumaStdDev(dramatic); d < base*1.15 {
			t.Errorf("dramatic contrast %.1f, want well above %.1f", d, base)
		}
		if d := lumaStdDev(soft); d > base*0.9 {
			t.Errorf("soft contrast %.1f, want well below %.1f", d, base)
		}
		shadow := image.Rect(0, 60, 20, 80) // dark part of the gradient
		if luma(dramatic, shadow) >= luma(photo, shadow) {
			t.Error("dramatic light did not deepen the shadows")
		}
	})
	t.Run("OK_Studio", func(t *testing.T) {
		t.Parallel()
		c := meanRGB(Relight(grey, "", 0, "professional studio lighting, clean white background"), all)
		if c[1] < 130 || math.Abs(c[0]-c[1]) > 2 || math.Abs(c[2]-c[1]) > 2 {
			t.Errorf("studio light gave RGB %.0f, want brighter and neutral", c)
		}
	})
	t.Run("OK_Recognisable", func(t *testing.T) {
		t.Parallel()
		for _, p := range []string{"dramatic moody lighting", "neon lighting", "warm golden hour"} {
			out := Relight(photo, LightAbove, 0.7, p)
			if r := lumaCorrelation(out, photo); r < 0.8 {
				t.Errorf("%q: luma correlation with the input %.2f, want the subject kept", p, r)
			}
		}
	})
}

func TestRelight_Bounds(t *testing.T) {
	t.Parallel()
	src := mediatest.Photo(90, 60)
	sub := src.SubImage(image.Rect(10, 20, 70, 50))
	before := append([]byte(nil), src.Pix...)
	out := Relight(sub, LightRight, 0.5, "warm")
	if out.Bounds() != sub.Bounds() {
		t.Errorf("bounds %v, want %v", out.Bounds(), sub.Bounds())
	}
	if string(before) != string(src.Pix) {
		t.Error("Relight modified its input")
	}
	if out := Relight(nil, LightLeft, 1, ""); !out.Bounds().Empty() {
		t.Errorf("nil image gave %v", out.Bounds())
	}
	clear := mediatest.Solid(10, 10, color.RGBA{})
	if d := mediatest.MeanAbsDiff(Relight(clear, LightLeft, 1, "studio"), clear, clear.Rect); d != 0 {
		t.Errorf("transparent pixels changed (diff %.2f)", d)
	}
}
