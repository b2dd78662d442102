// Package sample draws simple synthetic portraits, for the README
// walkthrough, tests and benchmarks: no photos need to ship with Lepus.
// The faces are soft (like an out-of-focus photo) so a face detector finds
// them.
package sample

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
)

// Palette picks the colours of a portrait.
type Palette struct {
	Background, Shirt, Skin, Hair color.RGBA
}

// Palettes are two clearly different people.
var Palettes = []Palette{
	{Background: rgb(70, 130, 180), Shirt: rgb(200, 40, 40), Skin: rgb(240, 200, 170), Hair: rgb(60, 40, 20)},
	{Background: rgb(90, 160, 90), Shirt: rgb(240, 220, 80), Skin: rgb(170, 120, 90), Hair: rgb(20, 20, 20)},
}

func rgb(r, g, b uint8) color.RGBA { return color.RGBA{r, g, b, 255} }

// Portrait draws a head-and-shoulders figure of w×h pixels.
func Portrait(p Palette, w, h int) *image.RGBA {
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	fw, fh := float64(w), float64(h)
	for y := 0; y < h; y++ {
		shade := 0.85 + 0.15*float64(y)/fh
		c := color.RGBA{uint8(float64(p.Background.R) * shade), uint8(float64(p.Background.G) * shade), uint8(float64(p.Background.B) * shade), 255}
		for x := 0; x < w; x++ {
			m.SetRGBA(x, y, c)
		}
	}
	s := min(fw*0.2, fh*0.16) // half-width of the face
	cx, cy := fw/2, fh*0.42
	fillEllipse(m, cx, fh*1.05, fw*0.42, fh*0.33, p.Shirt)
	fillEllipse(m, cx, cy+s*1.2, s*0.35, s*0.5, darker(p.Skin, 0.85)) // neck
	fillEllipse(m, cx, cy-s*0.25, s*0.95, s, p.Hair)
	fillEllipse(m, cx, cy, s*0.8, s*1.05, p.Skin)
	for _, side := range []float64{-1, 1} {
		fillEllipse(m, cx+side*s*0.33, cy-s*0.35, s*0.2, s*0.05, darker(p.Hair, 1.2))
		fillEllipse(m, cx+side*s*0.33, cy-s*0.15, s*0.14, s*0.08, rgb(40, 30, 30))
	}
	fillEllipse(m, cx, cy+s*0.15, s*0.08, s*0.18, darker(p.Skin, 0.75))
	fillEllipse(m, cx, cy+s*0.5, s*0.28, s*0.07, rgb(150, 60, 60))
	for range 2 {
		Blur(m, m.Rect, int(s*0.09))
	}
	return m
}

// PortraitPNG returns Portrait encoded as PNG.
func PortraitPNG(p Palette, w, h int) []byte {
	var buf bytes.Buffer
	_ = png.Encode(&buf, Portrait(p, w, h))
	return buf.Bytes()
}

func fillEllipse(m *image.RGBA, cx, cy, rx, ry float64, c color.RGBA) {
	b := m.Rect
	for y := max(b.Min.Y, int(cy-ry)); y < min(b.Max.Y, int(cy+ry)+1); y++ {
		for x := max(b.Min.X, int(cx-rx)); x < min(b.Max.X, int(cx+rx)+1); x++ {
			dx, dy := (float64(x)+0.5-cx)/rx, (float64(y)+0.5-cy)/ry
			if dx*dx+dy*dy <= 1 {
				m.SetRGBA(x, y, c)
			}
		}
	}
}

func darker(c color.RGBA, f float64) color.RGBA {
	s := func(v uint8) uint8 { return uint8(min(255, float64(v)*f)) }
	return color.RGBA{s(c.R), s(c.G), s(c.B), 255}
}

// Blur blurs area of m in place with a (2r+1)-wide box, rows then
// columns; twice looks like an out-of-focus photo.
func Blur(m *image.RGBA, area image.Rectangle, r int) {
	if r < 1 {
		return
	}
	b := area.Intersect(m.Rect)
	line := func(n int, px func(i int) []uint8) {
		vals := make([][3]int, n)
		for i := range n {
			p := px(i)
			vals[i] = [3]int{int(p[0]), int(p[1]), int(p[2])}
		}
		var sum [3]int
		lo, hi := 0, -1 // the window [lo, hi] is summed
		for i := range n {
			for hi < min(n-1, i+r) {
				hi++
				for c := range 3 {
					sum[c] += vals[hi][c]
				}
			}
			for lo < i-r {
				for c := range 3 {
					sum[c] -= vals[lo][c]
				}
				lo++
			}
			p := px(i)
			for c := range 3 {
				p[c] = uint8(sum[c] / (hi - lo + 1))
			}
		}
	}
	for y := b.Min.Y; y < b.Max.Y; y++ {
		line(b.Dx(), func(i int) []uint8 { return m.Pix[m.PixOffset(b.Min.X+i, y):] })
	}
	for x := b.Min.X; x < b.Max.X; x++ {
		line(b.Dy(), func(i int) []uint8 { return m.Pix[m.PixOffset(x, b.Min.Y+i):] })
	}
}
