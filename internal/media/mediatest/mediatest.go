// Package mediatest holds the pictures, audio chunks and fuzzing checks
// that the tests of media, media/synth and their users share. It is
// imported only by tests.
package mediatest

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math"
	"testing"

	"github.com/lepus-ai/lepus/internal/sample"
)

// Photo returns a w x h picture with a diagonal gradient and four
// saturated squares, so scaling and colour mistakes show up.
func Photo(w, h int) *image.RGBA {
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			m.SetRGBA(x, y, color.RGBA{uint8(x * 255 / w), uint8(y * 255 / h), uint8((x + y) % 256), 255})
		}
	}
	side := max(1, w/8)
	for i, c := range []color.RGBA{{255, 0, 0, 255}, {0, 255, 0, 255}, {0, 0, 255, 255}, {255, 255, 255, 255}} {
		x0 := w/8 + i*w/5
		for y := h / 6; y < h/6+side && y < h; y++ {
			for x := x0; x < x0+side && x < w; x++ {
				m.SetRGBA(x, y, c)
			}
		}
	}
	return m
}

// Solid returns a w x h picture of one colour.
func Solid(w, h int, c color.RGBA) *image.RGBA {
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := 0; i < len(m.Pix); i += 4 {
		m.Pix[i], m.Pix[i+1], m.Pix[i+2], m.Pix[i+3] = c.R, c.G, c.B, c.A
	}
	return m
}

// FillEllipse paints a hard-edged ellipse.
func FillEllipse(m *image.RGBA, cx, cy, rx, ry float64, c color.RGBA) {
	r := image.Rect(int(cx-rx)-1, int(cy-ry)-1, int(cx+rx)+2, int(cy+ry)+2).Intersect(m.Rect)
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			dx, dy := (float64(x)+0.5-cx)/rx, (float64(y)+0.5-cy)/ry
			if dx*dx+dy*dy <= 1 {
				m.SetRGBA(x, y, c)
			}
		}
	}
}

// PaintFace draws a cartoon face (hair, skin, brows, eyes, nose, mouth)
// centred at (cx, cy) with size s, then blurs it like an out-of-focus
// photo; pigo detects the soft version as a face, the sharp one not.
func PaintFace(m *image.RGBA, cx, cy, s float64, skin color.RGBA) {
	dark := color.RGBA{40, 30, 30, 255}
	FillEllipse(m, cx, cy-s*0.25, s*0.95, s, color.RGBA{60, 40, 30, 255})
	FillEllipse(m, cx, cy, s*0.8, s*1.05, skin)
	for _, side := range []float64{-1, 1} {
		FillEllipse(m, cx+side*s*0.33, cy-s*0.35, s*0.2, s*0.05, color.RGBA{70, 50, 40, 255})
		FillEllipse(m, cx+side*s*0.33, cy-s*0.15, s*0.14, s*0.08, dark)
	}
	shade := color.RGBA{uint8(int(skin.R) * 3 / 4), uint8(int(skin.G) * 3 / 4), uint8(int(skin.B) * 3 / 4), 255}
	FillEllipse(m, cx, cy+s*0.15, s*0.08, s*0.18, shade)
	FillEllipse(m, cx, cy+s*0.5, s*0.28, s*0.07, color.RGBA{150, 60, 60, 255})
	area := image.Rect(int(cx-1.3*s), int(cy-1.5*s), int(cx+1.3*s), int(cy+1.3*s)).Intersect(m.Rect)
	for range 2 {
		sample.Blur(m, area, int(s*0.09))
	}
}

// EncodePNG encodes m as PNG, failing the test on error.
func EncodePNG(t *testing.T, m image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, m); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// EncodeJPEG encodes m as a quality-90 JPEG, failing the test on error.
func EncodeJPEG(t *testing.T, m image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, m, &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// SolidWebP builds a lossless WebP (VP8L) of one colour: every prefix code
// is a "simple code" with one symbol, so each pixel takes zero bits. The
// standard library cannot encode WebP, and a real file keeps the test honest.
func SolidWebP(w, h int, c color.RGBA) []byte {
	var bits lsbWriter
	bits.put(0x2f, 8)
	bits.put(uint32(w-1), 14)
	bits.put(uint32(h-1), 14)
	bits.put(0, 1) // alpha_is_used
	bits.put(0, 3) // version
	bits.put(0, 1) // no transform
	bits.put(0, 1) // no colour cache
	bits.put(0, 1) // no meta prefix codes
	// Green, red, blue, alpha, distance: one 8-bit symbol each.
	for _, sym := range []uint8{c.G, c.R, c.B, c.A, 0} {
		bits.put(1, 1) // simple code
		bits.put(0, 1) // one symbol
		bits.put(1, 1) // 8-bit symbol
		bits.put(uint32(sym), 8)
	}
	data := bits.bytes()
	chunk := append([]byte("VP8L"), binary.LittleEndian.AppendUint32(nil, uint32(len(data)))...)
	chunk = append(chunk, data...)
	if len(data)%2 == 1 {
		chunk = append(chunk, 0)
	}
	out := append([]byte("RIFF"), binary.LittleEndian.AppendUint32(nil, uint32(4+len(chunk)))...)
	out = append(out, "WEBP"...)
	return append(out, chunk...)
}

// lsbWriter packs bits least-significant first, as VP8L reads them.
type lsbWriter struct {
	buf  []byte
	acc  uint64
	nacc uint
}

func (w *lsbWriter) put(v uint32, n uint) {
	w.acc |= uint64(v) << w.nacc
	w.nacc += n
	for w.nacc >= 8 {
		w.buf = append(w.buf, byte(w.acc))
		w.acc >>= 8
		w.nacc -= 8
	}
}

func (w *lsbWriter) bytes() []byte {
	if w.nacc > 0 {
		return append(w.buf, byte(w.acc))
	}
	return w.buf
}

// MeanAbsDiff is the mean absolute RGB difference of two same-size images
// over r (in their shared coordinates).
func MeanAbsDiff(a, b image.Image, r image.Rectangle) float64 {
	var sum float64
	n := 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			r1, g1, b1, _ := a.At(x, y).RGBA()
			r2, g2, b2, _ := b.At(x, y).RGBA()
			sum += math.Abs(float64(r1>>8)-float64(r2>>8)) +
				math.Abs(float64(g1>>8)-float64(g2>>8)) +
				math.Abs(float64(b1>>8)-float64(b2>>8))
			n += 3
		}
	}
	if n == 0 {
		return 0
	}
	return sum / float64(n)
}
