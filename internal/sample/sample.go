// Package sample draws simple synthetic portraits, for the README
// walkthrough, tests and benchmarks: no photos need to ship with Lepus.
package sample

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"math"
)

// Palette picks the colours of a portrait.
type Palette struct {
	Background, Shirt, Skin, Hair, Eyes color.RGBA
}

// Palettes are two clearly different people.
var Palettes = []Palette{
	{Background: rgb(70, 130, 180), Shirt: rgb(200, 40, 40), Skin: rgb(240, 200, 170), Hair: rgb(60, 40, 20), Eyes: rgb(40, 90, 160)},
	{Background: rgb(90, 160, 90), Shirt: rgb(240, 220, 80), Skin: rgb(150, 100, 70), Hair: rgb(20, 20, 20), Eyes: rgb(30, 20, 10)},
}

func rgb(r, g, b uint8) color.RGBA { return color.RGBA{r, g, b, 255} }

// Portrait draws a head-and-shoulders figure of w×h pixels.
func Portrait(p Palette, w, h int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	fw, fh := float64(w), float64(h)
	cx, cy := fw/2, fh*0.4
	rx, ry := fw*0.2, fh*0.2
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			fx, fy := float64(x)+0.5, float64(y)+0.5
			c := p.Background
			// Soft vertical gradient, so the picture is not flat.
			shade := 0.85 + 0.15*fy/fh
			c = scale(c, shade)
			if inEllipse(fx, fy, cx, fh*1.05, fw*0.42, fh*0.35) {
				c = p.Shirt
			}
			if inEllipse(fx, fy, cx, cy-ry*0.25, rx*1.12, ry*1.05) {
				c = p.Hair
			}
			if inEllipse(fx, fy, cx, cy+ry*0.1, rx, ry) {
				c = p.Skin
				for _, ex := range []float64{cx - rx*0.4, cx + rx*0.4} {
					if inEllipse(fx, fy, ex, cy-ry*0.05, rx*0.16, ry*0.09) {
						c = rgb(250, 250, 250)
					}
					if inEllipse(fx, fy, ex, cy-ry*0.05, rx*0.07, ry*0.07) {
						c = p.Eyes
					}
				}
				if inEllipse(fx, fy, cx, cy+ry*0.5, rx*0.35, ry*0.08) && fy > cy+ry*0.5 {
					c = rgb(170, 60, 60)
				}
			}
			img.SetRGBA(x, y, c)
		}
	}
	return img
}

// PortraitPNG returns Portrait encoded as PNG.
func PortraitPNG(p Palette, w, h int) []byte {
	var buf bytes.Buffer
	_ = png.Encode(&buf, Portrait(p, w, h))
	return buf.Bytes()
}

func inEllipse(x, y, cx, cy, rx, ry float64) bool {
	dx, dy := (x-cx)/rx, (y-cy)/ry
	return dx*dx+dy*dy <= 1
}

func scale(c color.RGBA, f float64) color.RGBA {
	s := func(v uint8) uint8 { return uint8(math.Min(255, float64(v)*f)) }
	return color.RGBA{s(c.R), s(c.G), s(c.B), c.A}
}
