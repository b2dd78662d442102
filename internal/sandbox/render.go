package sandbox

import (
	"bytes"
	"fmt"
	"hash/fnv"
	"image"
	"image/color"
	"image/png"
	"strconv"
	"strings"
)

// resolutionSide is the longest output side per omni-image resolution.
var resolutionSide = map[string]int{"1k": 1024, "2k": 2048, "4k": 4096}

// longSide is the larger dimension of img.
func longSide(img image.Image) int {
	b := img.Bounds()
	return max(b.Dx(), b.Dy())
}

// canvas makes a starting picture when a task has no input image: a
// gradient tinted by the prompt, at aspect ratio ar ("16:9", "auto"…) with
// the long side side.
func canvas(ar string, side int, prompt string) image.Image {
	w, h := side, side
	if a, b, ok := strings.Cut(ar, ":"); ok {
		x, err1 := strconv.Atoi(a)
		y, err2 := strconv.Atoi(b)
		if err1 == nil && err2 == nil && x > 0 && y > 0 {
			if x >= y {
				h = max(1, side*y/x)
			} else {
				w = max(1, side*x/y)
			}
		}
	}
	f := fnv.New32a()
	_, _ = f.Write([]byte(prompt))
	seed := f.Sum32()
	r0, g0, b0 := uint8(seed), uint8(seed>>8), uint8(seed>>16)
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.SetRGBA(x, y, color.RGBA{
				R: r0 + uint8(x*255/w/2),
				G: g0 + uint8(y*255/h/2),
				B: b0,
				A: 255,
			})
		}
	}
	return img
}

// encodePNG encodes fast: sandbox results are throwaway.
func encodePNG(img image.Image) ([]byte, error) {
	var buf bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestSpeed}
	if err := enc.Encode(&buf, img); err != nil {
		return nil, fmt.Errorf("encode png: %w", err)
	}
	return buf.Bytes(), nil
}
