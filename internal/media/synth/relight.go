package synth

import (
	"image"
	"image/draw"
	"math"
	"strings"
)

// Light directions Relight understands; they are Stability's
// light_source_direction values.
const (
	LightAbove = "above"
	LightBelow = "below"
	LightLeft  = "left"
	LightRight = "right"
)

// Relight returns a relit copy of img for the provider sandbox's fake of
// Stability's replace-background-and-relight, so a relight task yields a
// picture that visibly follows its request while the subject stays
// recognisable:
//
//   - direction ("above", "below", "left", "right") adds a key light: a
//     gradient that brightens the side the light comes from and darkens the
//     far side, scaled by strength (0–1). Any other direction ("" included)
//     adds no directional light and strength is ignored.
//   - lighting words in prompt pick a look: warm/golden/sunset give a warm
//     cast, neon/cyberpunk a magenta key light and cyan fill, dramatic/moody
//     raise contrast and deepen shadows, soft/diffused lower contrast,
//     studio brightens neutrally, cool/moonlight give a cool cast.
//
// img is not modified; the result has img's bounds. With strength 0 and a
// prompt without lighting words the result equals img.
func Relight(img image.Image, direction string, strength float64, prompt string) image.Image {
	if img == nil {
		return image.NewRGBA(image.Rectangle{})
	}
	b := img.Bounds()
	m := image.NewRGBA(b)
	draw.Draw(m, b, img, b.Min, draw.Src)
	if b.Empty() {
		return m
	}
	strength = math.Min(1, math.Max(0, strength))
	look := lookFor(prompt)
	w, h := b.Dx(), b.Dy()
	directional := direction == LightAbove || direction == LightBelow ||
		direction == LightLeft || direction == LightRight
	for y := range h {
		row := m.Pix[y*m.Stride:]
		for x := range w {
			p := row[4*x : 4*x+4]
			a := float64(p[3]) / 255
			if a == 0 {
				continue
			}
			t := -1.0 // no directional light
			if directional {
				t = litShare(direction, x, y, w, h)
			}
			for c := range 3 {
				v := look.apply(float64(p[c])/255/a, c, t, strength)
				p[c] = uint8(math.Round(math.Min(1, math.Max(0, v)) * a * 255))
			}
		}
	}
	return m
}

// litShare is how close (x, y) is to the lit edge: 1 on the side the light
// comes from, 0 on the far side.
func litShare(direction string, x, y, w, h int) float64 {
	fx := (float64(x) + 0.5) / float64(w)
	fy := (float64(y) + 0.5) / float64(h)
	switch direction {
	case LightAbove:
		return 1 - fy
	case LightBelow:
		return fy
	case LightLeft:
		return 1 - fx
	default:
		return fx
	}
}

// lightLook is a lighting style: a tone curve, a colour balance and the
// colours of the key light (lit side) and the fill (far side).
type lightLook struct {
	gain     [3]float64 // per-channel white balance
	contrast float64    // around mid grey; 1 = unchanged
	gamma    float64    // > 1 deepens shadows
	lift     float64    // share of the way to white; < 0 darkens
	key      [3]float64 // colour the key light adds on the lit side
	fill     [3]float64 // colour added on the far side (neon only)
}

func neutralLook() lightLook {
	return lightLook{gain: [3]float64{1, 1, 1}, contrast: 1, gamma: 1, key: [3]float64{1, 1, 1}}
}

// lookFor combines the looks of the lighting words in prompt, in a fixed
// order so the result does not depend on word order.
func lookFor(prompt string) lightLook {
	p := strings.ToLower(prompt)
	has := func(words ...string) bool {
		for _, w := range words {
			if strings.Contains(p, w) {
				return true
			}
		}
		return false
	}
	l := neutralLook()
	if has("natural", "daylight") {
		l.tint(1.02, 1.0, 0.97)
		l.lift += 0.02
	}
	if has("warm", "golden", "sunset", "sunlight", "candle", "tungsten") {
		l.tint(1.12, 1.0, 0.80)
		l.key = [3]float64{1, 0.72, 0.35}
		l.lift += 0.03
	}
	if has("cool", "moonlight", "blue hour", "icy") {
		l.tint(0.88, 0.97, 1.14)
		l.key = [3]float64{0.55, 0.75, 1}
	}
	if has("neon", "cyberpunk") {
		l.tint(1.06, 0.86, 1.10)
		l.key = [3]float64{1, 0.15, 0.85} // magenta
		l.fill = [3]float64{0, 0.75, 1}   // cyan
		l.contrast *= 1.1
	}
	if has("dramatic", "moody", "noir", "dark atmosphere", "strong contrast") {
		l.contrast *= 1.35
		l.gamma *= 1.35
		l.lift -= 0.03
	}
	if has("soft", "diffused", "gentle") {
		l.contrast *= 0.8
		l.gamma *= 0.95
		l.lift += 0.05
	}
	if has("studio") {
		l.gain = [3]float64{1, 1, 1} // neutral: undo any cast
		l.key = [3]float64{1, 1, 1}
		l.contrast *= 1.05
		l.lift += 0.12
	}
	return l
}

func (l *lightLook) tint(r, g, b float64) {
	l.gain[0] *= r
	l.gain[1] *= g
	l.gain[2] *= b
}

// apply relights one channel value v (0–1) of channel c; t is the pixel's
// share of the key light (see litShare), or < 0 for no directional light.
func (l lightLook) apply(v float64, c int, t, strength float64) float64 {
	v = (v-0.5)*l.contrast + 0.5
	v = math.Pow(math.Max(0, v), l.gamma)
	v *= l.gain[c]
	if t >= 0 && strength > 0 {
		// Brighten towards the light, darken away from it, and add the key
		// light's colour so even dark pixels on the lit side catch it.
		v *= 1 + strength*(1.1*t-0.45)
		v += strength * 0.22 * t * t * l.key[c]
		v += strength * 0.15 * (1 - t) * (1 - t) * l.fill[c]
	}
	if l.lift >= 0 {
		v += l.lift * (1 - v)
	} else {
		v *= 1 + l.lift
	}
	return v
}
