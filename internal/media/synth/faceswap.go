package synth

import (
	"image"
	"math"

	"github.com/lepus-ai/lepus/internal/media"
)

// defaultImageMaxSide is used by FaceSwap and Restyle when maxSide <= 0.
const defaultImageMaxSide = 1024

// FaceSwap pastes the face from face onto the face in source, roughly: a
// person looking at the result sees face's face in source's scene. It is
// what the provider sandbox returns for face swap tasks, so the app shows a
// believable, input-dependent result without a real model. Faces are found
// with DetectFaces; when none is found, the upper-centre region (where a
// portrait's face usually is) is used instead. The face is scaled into the
// source face box, nudged towards the scene's colours, and blended through
// a feathered ellipse. The output is source scaled so its long side is at
// most maxSide (default 1024). It never panics.
func FaceSwap(source, face image.Image, maxSide int) (out image.Image) {
	if maxSide <= 0 {
		maxSide = defaultImageMaxSide
	}
	if source == nil || source.Bounds().Empty() {
		return image.NewRGBA(image.Rect(0, 0, 0, 0))
	}
	dst := media.FitRGBA(source, maxSide)
	defer func() {
		if recover() != nil {
			out = dst // a half-blended picture is still a valid picture
		}
	}()
	if face == nil || face.Bounds().Empty() {
		return dst
	}
	de := faceEllipse(faceBox(dst))
	se := faceEllipse(faceBox(face))
	if de.rx < 1 || de.ry < 1 || se.rx <= 0 || se.ry <= 0 {
		return dst
	}

	// Only the face is needed: crop it with a margin and scale it to the
	// size it will have in dst, whatever the size of the face image.
	kx, ky := de.rx/se.rx, de.ry/se.ry
	crop := ellipseBounds(ellipse{se.cx, se.cy, se.rx * 1.1, se.ry * 1.1}).Intersect(face.Bounds())
	if crop.Empty() {
		return dst
	}
	cw := min(max(1, int(math.Ceil(float64(crop.Dx())*kx))), 4*maxSide)
	ch := min(max(1, int(math.Ceil(float64(crop.Dy())*ky))), 4*maxSide)
	patch := media.CropScaleRGBA(face, crop, cw, ch)
	sx, sy := float64(cw)/float64(crop.Dx()), float64(ch)/float64(crop.Dy())
	pe := ellipse{
		cx: (se.cx - float64(crop.Min.X)) * sx,
		cy: (se.cy - float64(crop.Min.Y)) * sy,
		rx: se.rx * sx,
		ry: se.ry * sy,
	}
	blendFace(dst, de, patch, pe)
	return dst
}

// faceBox returns the best detected face in m, or the upper-centre
// heuristic, in m's coordinates.
func faceBox(m image.Image) image.Rectangle {
	if faces := media.DetectFaces(m); len(faces) > 0 {
		return faces[0]
	}
	b := m.Bounds()
	w, h := b.Dx(), b.Dy()
	side := max(1, int(0.36*float64(min(w, h))))
	cx, cy := w/2, max(int(0.34*float64(h)), side/2)
	r := image.Rect(cx-side/2, cy-side/2, cx-side/2+side, cy-side/2+side)
	return r.Add(b.Min).Intersect(b)
}

// ellipse is the blend mask inside a face box: a face is taller than wide
// and sits slightly below the centre of pigo's square box.
type ellipse struct{ cx, cy, rx, ry float64 }

func faceEllipse(r image.Rectangle) ellipse {
	w, h := float64(r.Dx()), float64(r.Dy())
	return ellipse{
		cx: float64(r.Min.X) + w/2,
		cy: float64(r.Min.Y) + h*0.52,
		rx: w * 0.42,
		ry: h * 0.55,
	}
}

// weight is 1 well inside the ellipse and fades smoothly to 0 at its edge.
func (e ellipse) weight(x, y float64) float64 {
	if e.rx <= 0 || e.ry <= 0 {
		return 0
	}
	dx, dy := (x-e.cx)/e.rx, (y-e.cy)/e.ry
	d := math.Sqrt(dx*dx + dy*dy)
	const inner = 0.7
	switch {
	case d <= inner:
		return 1
	case d >= 1:
		return 0
	}
	t := (1 - d) / (1 - inner)
	return t * t * (3 - 2*t)
}

// blendFace maps the face ellipse se of src onto the ellipse de of dst,
// shifts its mean colour halfway to the destination face's so the lighting
// roughly matches, and blends it through the feathered mask of de.
func blendFace(dst *image.RGBA, de ellipse, src *image.RGBA, se ellipse) {
	scaleX := se.rx / de.rx
	scaleY := se.ry / de.ry
	srcAt := func(x, y float64) (float64, float64) {
		return se.cx + (x-de.cx)*scaleX, se.cy + (y-de.cy)*scaleY
	}

	// Mean colours inside the masks, for the colour shift.
	var dstMean, srcMean [3]float64
	var dstW, srcW float64
	area := ellipseBounds(de).Intersect(dst.Rect)
	// masked calls fn for every pixel under the mask with its weight, its
	// destination pixel and the source colour that lands on it.
	masked := func(fn func(a float64, p []uint8, q [3]float64)) {
		for y := area.Min.Y; y < area.Max.Y; y++ {
			for x := area.Min.X; x < area.Max.X; x++ {
				a := de.weight(float64(x)+0.5, float64(y)+0.5)
				if a == 0 {
					continue
				}
				sx, sy := srcAt(float64(x)+0.5, float64(y)+0.5)
				fn(a, dst.Pix[dst.PixOffset(x, y):], bilinear(src, sx, sy))
			}
		}
	}
	masked(func(a float64, p []uint8, q [3]float64) {
		for c := range 3 {
			dstMean[c] += a * float64(p[c])
			srcMean[c] += a * q[c]
		}
		dstW += a
		srcW += a
	})
	if dstW == 0 || srcW == 0 {
		return
	}
	var shift [3]float64
	for c := range 3 {
		shift[c] = 0.5 * (dstMean[c]/dstW - srcMean[c]/srcW)
	}

	masked(func(a float64, p []uint8, q [3]float64) {
		for c := range 3 {
			v := (1-a)*float64(p[c]) + a*(q[c]+shift[c])
			p[c] = uint8(math.Round(math.Min(255, math.Max(0, v))))
		}
		p[3] = uint8(math.Round((1-a)*float64(p[3]) + a*255))
	})
}

func ellipseBounds(e ellipse) image.Rectangle {
	return image.Rect(
		int(math.Floor(e.cx-e.rx)), int(math.Floor(e.cy-e.ry)),
		int(math.Ceil(e.cx+e.rx))+1, int(math.Ceil(e.cy+e.ry))+1,
	)
}

// bilinear samples m at a continuous position (pixel centres at +0.5),
// clamping to the edges.
func bilinear(m *image.RGBA, x, y float64) [3]float64 {
	w, h := m.Rect.Dx(), m.Rect.Dy()
	fx, fy := x-0.5, y-0.5
	x0, y0 := int(math.Floor(fx)), int(math.Floor(fy))
	tx, ty := fx-float64(x0), fy-float64(y0)
	at := func(x, y int) []uint8 {
		x = min(max(x, 0), w-1)
		y = min(max(y, 0), h-1)
		return m.Pix[m.PixOffset(m.Rect.Min.X+x, m.Rect.Min.Y+y):]
	}
	p00, p10, p01, p11 := at(x0, y0), at(x0+1, y0), at(x0, y0+1), at(x0+1, y0+1)
	var out [3]float64
	for c := range 3 {
		top := float64(p00[c])*(1-tx) + float64(p10[c])*tx
		bot := float64(p01[c])*(1-tx) + float64(p11[c])*tx
		out[c] = top*(1-ty) + bot*ty
	}
	return out
}
