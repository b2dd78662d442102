package stability

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"io"
	"math"

	xdraw "golang.org/x/image/draw"

	"github.com/lepus-ai/lepus/internal/media"
)

// Limits of subject_image (other-providers.md §1.1, §1.3).
const (
	// MaxSubjectBytes is the limit of the whole multipart body, so the
	// subject must stay well under it (FitSubject aims at fitBytes).
	MaxSubjectBytes  = 10 << 20
	MaxSubjectPixels = 9_437_184
	MinSubjectPixels = 4096
	MinSide          = 64
	// MaxAspect bounds long side / short side (1:2.5 to 2.5:1).
	MaxAspect = 2.5
)

// fitBytes leaves room under MaxSubjectBytes for the multipart framing and
// three prompts of up to 10,000 characters.
const fitBytes = 9 << 20

// jpegQuality is used when a downscaled PNG is still too big.
const jpegQuality = 92

// ErrSubjectUnfit wraps the reasons FitSubject cannot make an image
// acceptable (too small, too narrow): only a different picture helps.
var ErrSubjectUnfit = errors.New("stability: subject image cannot be used")

// FitSubject makes data acceptable as subject_image. It decodes the image
// (JPEG, PNG or WebP) and, when it has more than MaxSubjectPixels or more
// than ~9 MiB, downscales it (Catmull-Rom) and re-encodes it as PNG, or as
// JPEG quality 92 if the PNG is still too big, halving the pixel budget
// until it fits. Otherwise it returns data unchanged with changed false.
// name ("subject.png", "subject.jpg", ...) and mime describe out. Images
// that downscaling cannot fix (a side under 64 px, under 4,096 px, aspect
// beyond 2.5) give an error wrapping ErrSubjectUnfit.
func FitSubject(data []byte) (out []byte, name, mime string, changed bool, err error) {
	return fitSubject(data, MaxSubjectPixels, fitBytes)
}

func fitSubject(data []byte, maxPixels, maxBytes int) ([]byte, string, string, bool, error) {
	img, info, err := media.DecodeImage(data)
	if err != nil {
		return nil, "", "", false, fmt.Errorf("stability: fit subject: %w", err)
	}
	w, h := info.Width, info.Height
	switch {
	case w < MinSide || h < MinSide:
		return nil, "", "", false, fmt.Errorf("%w: both sides must be at least %d px, got %dx%d", ErrSubjectUnfit, MinSide, w, h)
	case w*h < MinSubjectPixels:
		return nil, "", "", false, fmt.Errorf("%w: at least %d pixels needed, got %dx%d", ErrSubjectUnfit, MinSubjectPixels, w, h)
	case float64(max(w, h)) > MaxAspect*float64(min(w, h)):
		return nil, "", "", false, fmt.Errorf("%w: aspect ratio must be between 1:2.5 and 2.5:1, got %dx%d", ErrSubjectUnfit, w, h)
	}
	if w*h <= maxPixels && len(data) <= maxBytes {
		return data, "subject." + extFor(info.Mime), info.Mime, false, nil
	}
	budget := min(w*h, maxPixels)
	for range 6 {
		dw, dh := fitPixels(w, h, budget)
		var m image.Image = img
		if dw != w || dh != h {
			m = resize(img, dw, dh)
		}
		var buf bytes.Buffer
		if png.Encode(&limitWriter{w: &buf, n: maxBytes}, m) == nil {
			return buf.Bytes(), "subject.png", "image/png", true, nil
		}
		buf.Reset()
		err := jpeg.Encode(&limitWriter{w: &buf, n: maxBytes}, m, &jpeg.Options{Quality: jpegQuality})
		if err == nil {
			return buf.Bytes(), "subject.jpg", "image/jpeg", true, nil
		}
		if !errors.Is(err, errTooBig) {
			return nil, "", "", false, fmt.Errorf("stability: fit subject: encode jpeg: %w", err)
		}
		budget /= 2
	}
	return nil, "", "", false, fmt.Errorf("%w: cannot encode it under %d bytes", ErrSubjectUnfit, maxBytes)
}

// fitPixels scales w x h down to at most budget pixels, keeping the aspect.
func fitPixels(w, h, budget int) (int, int) {
	if w*h <= budget {
		return w, h
	}
	s := math.Sqrt(float64(budget) / float64(w*h))
	dw, dh := max(1, int(float64(w)*s)), max(1, int(float64(h)*s))
	for dw*dh > budget { // float rounding
		dw--
	}
	return dw, dh
}

// resizeBand is the rows (then columns) scaled per call: x/image/draw's
// kernel scaler allocates 32 bytes per (destination width x source height),
// which is hundreds of MB for a whole 12 MP photo but a few MB per band.
const resizeBand = 64

// resize scales src to dw x dh with Catmull-Rom in two separable passes,
// first along x in bands of rows, then along y in bands of columns. A pass
// leaves the other axis at scale 1, where the kernel copies exactly, so the
// bands join seamlessly.
func resize(src image.Image, dw, dh int) *image.RGBA {
	return resizeBanded(src, dw, dh, resizeBand)
}

func resizeBanded(src image.Image, dw, dh, band int) *image.RGBA {
	sb := src.Bounds()
	sh := sb.Dy()
	mid := image.NewRGBA(image.Rect(0, 0, dw, sh))
	for y0 := 0; y0 < sh; y0 += band {
		y1 := min(sh, y0+band)
		sr := image.Rect(sb.Min.X, sb.Min.Y+y0, sb.Max.X, sb.Min.Y+y1)
		xdraw.CatmullRom.Scale(mid, image.Rect(0, y0, dw, y1), src, sr, xdraw.Src, nil)
	}
	dst := image.NewRGBA(image.Rect(0, 0, dw, dh))
	for x0 := 0; x0 < dw; x0 += band {
		x1 := min(dw, x0+band)
		xdraw.CatmullRom.Scale(dst, image.Rect(x0, 0, x1, dh), mid, image.Rect(x0, 0, x1, sh), xdraw.Src, nil)
	}
	return dst
}

var errTooBig = errors.New("encoded image too big")

// limitWriter fails once more than n bytes are written, so an encoding
// that will not fit is abandoned early.
type limitWriter struct {
	w io.Writer
	n int
}

func (l *limitWriter) Write(p []byte) (int, error) {
	if len(p) > l.n {
		return 0, errTooBig
	}
	l.n -= len(p)
	return l.w.Write(p)
}
