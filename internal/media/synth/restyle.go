package synth

import (
	"hash/fnv"
	"image"
	"math"

	"github.com/lepus-ai/lepus/internal/media"
)

// Restyle returns a visibly derived version of src for generic image-edit
// prompts in the provider sandbox: a colour tint chosen from a hash of the
// prompt (so different prompts give different, repeatable results) and a
// soft vignette. The long side is at most maxSide (default 1024).
func Restyle(src image.Image, prompt string, maxSide int) image.Image {
	if maxSide <= 0 {
		maxSide = defaultImageMaxSide
	}
	if src == nil || src.Bounds().Empty() {
		return image.NewRGBA(image.Rect(0, 0, 0, 0))
	}
	m := media.FitRGBA(src, maxSide)
	tint := promptTint(prompt)
	w, h := m.Rect.Dx(), m.Rect.Dy()
	cx, cy := float64(w)/2, float64(h)/2
	maxR := math.Hypot(cx, cy)
	const strength = 0.4 // share of the tint in each pixel
	for y := range h {
		row := m.Pix[y*m.Stride:]
		for x := range w {
			p := row[4*x : 4*x+4]
			luma := (0.299*float64(p[0]) + 0.587*float64(p[1]) + 0.114*float64(p[2])) / 255
			r := math.Hypot(float64(x)+0.5-cx, float64(y)+0.5-cy) / maxR
			vignette := 1 - 0.35*smoothstep(0.55, 1.0, r)
			for c := range 3 {
				toned := tint[c] * (0.35 + 0.9*luma) // keep the picture's light and shade
				v := ((1-strength)*float64(p[c]) + strength*toned) * vignette
				p[c] = uint8(math.Round(math.Min(float64(p[3]), math.Max(0, v))))
			}
		}
	}
	return m
}

// promptTint maps a prompt to a saturated colour (0..255 per channel).
func promptTint(prompt string) [3]float64 {
	h := fnv.New64a()
	h.Write([]byte(prompt))
	hue := float64(h.Sum64()%360) / 60
	x := 1 - math.Abs(math.Mod(hue, 2)-1)
	var r, g, b float64
	switch int(hue) {
	case 0:
		r, g, b = 1, x, 0
	case 1:
		r, g, b = x, 1, 0
	case 2:
		r, g, b = 0, 1, x
	case 3:
		r, g, b = 0, x, 1
	case 4:
		r, g, b = x, 0, 1
	default:
		r, g, b = 1, 0, x
	}
	// Lift the floor so no channel goes fully dark.
	return [3]float64{255 * (0.25 + 0.75*r), 255 * (0.25 + 0.75*g), 255 * (0.25 + 0.75*b)}
}

func smoothstep(lo, hi, v float64) float64 {
	t := math.Min(1, math.Max(0, (v-lo)/(hi-lo)))
	return t * t * (3 - 2*t)
}
