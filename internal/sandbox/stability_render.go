package sandbox

import (
	"bytes"
	"fmt"
	"hash/fnv"
	"image"
	"image/color"
	"image/jpeg"
	"math"

	xdraw "golang.org/x/image/draw"

	"github.com/lepus-ai/lepus/internal/media"
	"github.com/lepus-ai/lepus/internal/media/synth"
)

// relightMaxSide bounds the long side of a relight result (Stability does
// not state its output size; a sandbox result need not be big).
const relightMaxSide = 1536

// relightTypes maps output_format to the result's content type.
var relightTypes = map[string]string{"png": "image/png", "jpeg": "image/jpeg", "webp": "image/webp"}

// relightResult returns j's image and content type, rendering it once
// however many polls ask at the same time, within the render slots.
func (s *Sandbox) relightResult(j *relightJob) ([]byte, string, error) {
	s.mu.Lock()
	data, ctype, form := j.result, j.mime, j.form
	s.mu.Unlock()
	if data != nil {
		return data, ctype, nil
	}
	_, err, _ := s.renderGroup.Do("relight/"+j.id, func() (any, error) {
		s.mu.Lock()
		done := j.result != nil
		s.mu.Unlock()
		if done {
			return nil, nil
		}
		var out []byte
		err := s.cpu(func() error {
			var err error
			out, err = renderRelight(form, j.filtered, j.seed)
			return err
		})
		if err != nil {
			return nil, err
		}
		s.mu.Lock()
		j.result, j.mime, j.form = out, relightTypes[form.format], nil
		s.mu.Unlock()
		return nil, nil
	})
	if err != nil {
		return nil, "", err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return j.result, j.mime, nil
}

// renderRelight makes the result of an accepted form: the subject relit by
// synth.Relight (the direction from light_source_direction, else from the
// brightest side of light_reference; the look from background_prompt), on
// a new backdrop unless keep_original_background is "true", blurred when
// filtered. preserve_original_subject, original_background_depth,
// negative_prompt and background_reference are checked but not modelled.
func renderRelight(f *relightForm, filtered bool, seed int64) ([]byte, error) {
	img, _, err := media.DecodeImage(f.subject)
	if err != nil {
		return nil, fmt.Errorf("decode subject: %w", err)
	}
	img = fitLongSide(img, relightMaxSide)
	dir := f.direction
	if dir == "" && f.lightRef != nil {
		if ref, _, err := media.DecodeImage(f.lightRef); err == nil {
			dir = brightestSide(ref)
		}
	}
	out := synth.Relight(img, dir, f.strength, f.background)
	if !f.keep {
		b := out.Bounds()
		backdrop := relightBackdrop(b.Dx(), b.Dy(), fmt.Sprintf("%s #%d", f.background, seed))
		out = overBackdrop(out, synth.Relight(backdrop, dir, f.strength, f.background))
	}
	if filtered {
		out = blurred(out)
	}
	switch f.format {
	case "jpeg":
		var buf bytes.Buffer
		if err := jpeg.Encode(&buf, out, &jpeg.Options{Quality: 90}); err != nil {
			return nil, fmt.Errorf("encode jpeg: %w", err)
		}
		return buf.Bytes(), nil
	case "webp":
		return encodeWebP(out)
	}
	return encodePNG(out)
}

// fitLongSide scales img down so its long side is at most side.
func fitLongSide(img image.Image, side int) image.Image {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	if max(w, h) <= side {
		return img
	}
	if w >= h {
		w, h = side, max(1, h*side/w)
	} else {
		w, h = max(1, w*side/h), side
	}
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	xdraw.ApproxBiLinear.Scale(dst, dst.Rect, img, b, xdraw.Src, nil)
	return dst
}

// brightestSide names the half of ref with the most light, as the side a
// light_reference lights the subject from.
func brightestSide(ref image.Image) string {
	b := ref.Bounds()
	var sum [4]float64 // above, below, left, right
	const n = 32
	for i := range n {
		for k := range n {
			x := b.Min.X + (2*k+1)*b.Dx()/(2*n)
			y := b.Min.Y + (2*i+1)*b.Dy()/(2*n)
			v := float64(color.GrayModel.Convert(ref.At(x, y)).(color.Gray).Y)
			if i < n/2 {
				sum[0] += v
			} else {
				sum[1] += v
			}
			if k < n/2 {
				sum[2] += v
			} else {
				sum[3] += v
			}
		}
	}
	names := [4]string{"above", "below", "left", "right"}
	best := 0
	for i := range sum {
		if sum[i] > sum[best] {
			best = i
		}
	}
	return names[best]
}

// overBackdrop keeps a soft ellipse around the centre of subject (where a
// portrait's subject usually is) and shows backdrop outside it.
func overBackdrop(subject, backdrop image.Image) image.Image {
	b := subject.Bounds()
	w, h := b.Dx(), b.Dy()
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	cx, cy := float64(w)/2, float64(h)*0.55
	rx, ry := float64(w)*0.36, float64(h)*0.5
	bb := backdrop.Bounds()
	for y := range h {
		for x := range w {
			dx, dy := (float64(x)+0.5-cx)/rx, (float64(y)+0.5-cy)/ry
			d := math.Sqrt(dx*dx + dy*dy)
			keep := 1 - math.Min(1, math.Max(0, (d-0.8)/0.2))
			sr, sg, sb, sa := subject.At(b.Min.X+x, b.Min.Y+y).RGBA()
			br, bg, bbl, _ := backdrop.At(bb.Min.X+x, bb.Min.Y+y).RGBA()
			mix := func(a, c uint32) uint8 { return uint8((keep*float64(a) + (1-keep)*float64(c)) / 257) }
			alpha := uint8((keep*float64(sa) + (1-keep)*0xffff) / 257)
			dst.SetRGBA(x, y, color.RGBA{mix(sr, br), mix(sg, bg), mix(sb, bbl), alpha})
		}
	}
	return dst
}

// blurred is img as moderation returns it: blurred beyond recognition.
// It shrinks img 24 times, blurs the thumbnail and scales it back up.
func blurred(img image.Image) image.Image {
	b := img.Bounds()
	small := image.NewRGBA(image.Rect(0, 0, max(1, b.Dx()/24), max(1, b.Dy()/24)))
	xdraw.ApproxBiLinear.Scale(small, small.Rect, img, b, xdraw.Src, nil)
	for range 3 {
		smooth121(small, false)
		smooth121(small, true)
	}
	dst := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	xdraw.BiLinear.Scale(dst, dst.Rect, small, small.Rect, xdraw.Src, nil)
	return dst
}

// smooth121 filters m with the kernel [1 2 1] along its rows, or along its
// columns when vertical, repeating the edge pixels.
func smooth121(m *image.RGBA, vertical bool) {
	w, h := m.Rect.Dx(), m.Rect.Dy()
	src := append([]byte(nil), m.Pix...)
	for y := range h {
		for x := range w {
			i := y*m.Stride + 4*x
			prev, next := i, i
			switch {
			case !vertical && x > 0:
				prev = i - 4
			case vertical && y > 0:
				prev = i - m.Stride
			}
			switch {
			case !vertical && x < w-1:
				next = i + 4
			case vertical && y < h-1:
				next = i + m.Stride
			}
			for c := range 4 {
				m.Pix[i+c] = uint8((int(src[prev+c]) + 2*int(src[i+c]) + int(src[next+c]) + 2) / 4)
			}
		}
	}
}

// relightBackdrop is the new background when keep_original_background is
// not "true": a sky-to-ground gradient whose colours follow the prompt (and
// the seed), so different requests get visibly different scenes.
func relightBackdrop(w, h int, prompt string) *image.RGBA {
	f := fnv.New64a()
	_, _ = f.Write([]byte(prompt))
	v := f.Sum64()
	sky := hsv(float64(v%360), 0.45, 0.9)
	ground := hsv(float64((v>>16)%360), 0.6, 0.45)
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		t := smoothStep(0.35, 0.75, (float64(y)+0.5)/float64(h))
		var c color.RGBA
		c.R = uint8(sky[0]*(1-t) + ground[0]*t)
		c.G = uint8(sky[1]*(1-t) + ground[1]*t)
		c.B = uint8(sky[2]*(1-t) + ground[2]*t)
		c.A = 255
		for x := range w {
			m.SetRGBA(x, y, c)
		}
	}
	return m
}

// hsv converts a hue (degrees), saturation and value to 0–255 RGB.
func hsv(hue, s, v float64) [3]float64 {
	c := v * s
	x := c * (1 - math.Abs(math.Mod(hue/60, 2)-1))
	var r, g, b float64
	switch int(hue/60) % 6 {
	case 0:
		r, g = c, x
	case 1:
		r, g = x, c
	case 2:
		g, b = c, x
	case 3:
		g, b = x, c
	case 4:
		r, b = x, c
	default:
		r, b = c, x
	}
	m := v - c
	return [3]float64{255 * (r + m), 255 * (g + m), 255 * (b + m)}
}

func smoothStep(lo, hi, v float64) float64 {
	t := math.Min(1, math.Max(0, (v-lo)/(hi-lo)))
	return t * t * (3 - 2*t)
}
