package sandbox

import (
	"bytes"
	"image"
	"image/color"
	"math/rand/v2"
	"testing"

	"golang.org/x/image/webp"
)

func TestEncodeWebP(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(7, 9))
	tests := []struct {
		name   string
		w, h   int
		opaque bool
	}{
		{"OK_Opaque", 67, 41, true},
		{"OK_Alpha", 30, 17, false},
		{"OK_OnePixel", 1, 1, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			src := image.NewNRGBA(image.Rect(0, 0, tt.w, tt.h))
			for i := range src.Pix {
				src.Pix[i] = uint8(rng.IntN(256))
				if tt.opaque && i%4 == 3 {
					src.Pix[i] = 255
				}
			}
			src.Pix[1] = 255 // a 9-bit green code
			data, err := encodeWebP(src)
			if err != nil {
				t.Fatal(err)
			}
			got, err := webp.Decode(bytes.NewReader(data))
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			if got.Bounds() != src.Rect {
				t.Fatalf("bounds %v, want %v", got.Bounds(), src.Rect)
			}
			for y := range tt.h {
				for x := range tt.w {
					if g, w := color.NRGBAModel.Convert(got.At(x, y)), src.NRGBAAt(x, y); g != w {
						t.Fatalf("pixel (%d,%d) = %v, want %v", x, y, g, w)
					}
				}
			}
		})
	}
	if _, err := encodeWebP(image.NewNRGBA(image.Rect(0, 0, 0, 5))); err == nil {
		t.Error("empty image encoded")
	}
}
