package media

import (
	"image"
	"image/draw"

	xdraw "golang.org/x/image/draw"
)

// FitSize returns w x h scaled down (never up) so the long side is at most
// maxSide, keeping the aspect ratio; a maxSide <= 0 means no limit.
func FitSize(w, h, maxSide int) (int, int) {
	if w <= 0 || h <= 0 || maxSide <= 0 || max(w, h) <= maxSide {
		return w, h
	}
	if w >= h {
		return maxSide, max(1, (h*maxSide+w/2)/w)
	}
	return max(1, (w*maxSide+h/2)/h), maxSide
}

// ScaleRGBA resamples all of src to exactly w x h (origin 0,0).
func ScaleRGBA(src image.Image, w, h int) *image.RGBA {
	return CropScaleRGBA(src, src.Bounds(), w, h)
}

// CropScaleRGBA resamples the part sr of src to exactly w x h (origin 0,0).
// Large reductions first halve the picture repeatedly (each halving
// averages 2x2 blocks, so nothing aliases), then one bilinear pass reaches
// the exact size. This needs no big temporary buffers, unlike x/image/draw's
// kernel scalers, which allocate 32 bytes per (destination width x source
// height).
func CropScaleRGBA(src image.Image, sr image.Rectangle, w, h int) *image.RGBA {
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

// FitRGBA scales src so its long side is at most maxSide.
func FitRGBA(src image.Image, maxSide int) *image.RGBA {
	w, h := FitSize(src.Bounds().Dx(), src.Bounds().Dy(), maxSide)
	return ScaleRGBA(src, w, h)
}
