package media

import (
	"image"
	"image/draw"

	xdraw "golang.org/x/image/draw"
)

// fitSize returns w x h scaled down (never up) so the long side is at most
// maxSide, keeping the aspect ratio; a maxSide <= 0 means no limit.
func fitSize(w, h, maxSide int) (int, int) {
	if w <= 0 || h <= 0 || maxSide <= 0 || max(w, h) <= maxSide {
		return w, h
	}
	if w >= h {
		return maxSide, max(1, (h*maxSide+w/2)/w)
	}
	return max(1, (w*maxSide+h/2)/h), maxSide
}

// scaleRGBA resamples all of src to exactly w x h (origin 0,0).
func scaleRGBA(src image.Image, w, h int) *image.RGBA {
	return cropScaleRGBA(src, src.Bounds(), w, h)
}

// cropScaleRGBA resamples the part sr of src to exactly w x h (origin 0,0).
// Large reductions first halve the picture repeatedly (each halving
// averages 2x2 blocks, so nothing aliases), then one bilinear pass reaches
// the exact size. This needs no big temporary buffers, unlike x/image/draw's
// kernel scalers, which allocate 32 bytes per (destination width x source
// height).
func cropScaleRGBA(src image.Image, sr image.Rectangle, w, h int) *image.RGBA {
	dst := image.NewRGBA(image.Rect(0, 0, max(w, 0), max(h, 0)))
	sr = sr.Intersect(src.Bounds())
	if sr.Empty() || w <= 0 || h <= 0 {
		return dst
	}
	if sr.Dx() == w && sr.Dy() == h {
		draw.Draw(dst, dst.Bounds(), src, sr.Min, draw.Src)
		return dst
	}
	cur, cr := src, sr
	// Absurd canvases (image.Uniform, forged headers) are sampled directly
	// rather than halved through gigantic intermediate pictures.
	sane := int64(sr.Dx())*int64(sr.Dy()) <= maxConvertPixels
	for sane && cr.Dx() >= 2*w && cr.Dy() >= 2*h {
		half := image.NewRGBA(image.Rect(0, 0, cr.Dx()/2, cr.Dy()/2))
		from := image.Rectangle{Min: cr.Min, Max: cr.Min.Add(half.Rect.Max.Mul(2))}
		xdraw.ApproxBiLinear.Scale(half, half.Rect, cur, from, xdraw.Src, nil)
		cur, cr = half, half.Rect
	}
	xdraw.ApproxBiLinear.Scale(dst, dst.Rect, cur, cr, xdraw.Src, nil)
	return dst
}

// fitRGBA scales src so its long side is at most maxSide.
func fitRGBA(src image.Image, maxSide int) *image.RGBA {
	w, h := fitSize(src.Bounds().Dx(), src.Bounds().Dy(), maxSide)
	return scaleRGBA(src, w, h)
}

// toYCbCr420 converts an opaque-or-premultiplied RGBA picture to 4:2:0
// BT.601 limited-range samples (what the H.264 stream signals). Transparent
// areas come out black, as premultiplied colour over black. Each chroma
// sample is converted from the mean of its 2x2 RGB block.
func toYCbCr420(m *image.RGBA) *image.YCbCr {
	b := m.Bounds()
	w, h := b.Dx(), b.Dy()
	out := image.NewYCbCr(image.Rect(0, 0, w, h), image.YCbCrSubsampleRatio420)
	for y := range h {
		row := m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):]
		for x := range w {
			p := row[4*x : 4*x+3]
			r, g, bl := int32(p[0]), int32(p[1]), int32(p[2])
			// 16 + (65.481 R + 128.553 G + 24.966 B) / 255, in 1/65536.
			yv := (16<<16 + 16829*r + 33039*g + 6416*bl + 1<<15) >> 16
			out.Y[y*out.YStride+x] = clampSample(yv, 16, 235)
		}
	}
	for cy := range (h + 1) / 2 {
		for cx := range (w + 1) / 2 {
			var r, g, bl, n int32
			for dy := range 2 {
				for dx := range 2 {
					x, y := 2*cx+dx, 2*cy+dy
					if x >= w || y >= h {
						continue
					}
					p := m.Pix[m.PixOffset(b.Min.X+x, b.Min.Y+y):]
					r += int32(p[0])
					g += int32(p[1])
					bl += int32(p[2])
					n++
				}
			}
			r, g, bl = r/n, g/n, bl/n
			cb := (128<<16 - 9714*r - 19070*g + 28784*bl + 1<<15) >> 16
			cr := (128<<16 + 28784*r - 24103*g - 4681*bl + 1<<15) >> 16
			out.Cb[cy*out.CStride+cx] = clampSample(cb, 16, 240)
			out.Cr[cy*out.CStride+cx] = clampSample(cr, 16, 240)
		}
	}
	return out
}

func clampSample(v, lo, hi int32) uint8 {
	return uint8(min(max(v, lo), hi))
}
