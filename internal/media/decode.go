package media

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"io"
	"runtime"

	"golang.org/x/sync/semaphore"
)

// MaxImagePixels is the largest image (width x height) the server decodes.
// A 100 KB PNG can declare 10000x10000 and cost hundreds of MB once
// decoded, so every image input is refused from its header above this,
// before any pixel is decoded.
//
// 40 M admits every size a provider documents: Seedream's largest input,
// 6000x6000 = 36 M (other-providers.md §2.2), and Stability's 9.4 M
// (§1.1). Kling (kling-api.md §7) caps the file at 10 MB and the sides at
// 300 px below (65536 px above, for motion control), not the area; 40 M
// covers 7750x5160 and every photo up to 40 MP. A 48-50 MP "full
// resolution" phone photo (8000x6000) is refused; such a JPEG rarely fits
// in 10 MB anyway. Decoded, a 40 M px image is at most 160 MB as 8-bit
// RGBA (320 MB as a 16-bit PNG), and decodeSlots bounds how many exist at
// once.
const MaxImagePixels = 40_000_000

// maxConvertPixels is the name scale.go knows the budget by: a canvas over
// it cannot have come from a decode.
const maxConvertPixels = MaxImagePixels

// RulePixels is the RuleError.Rule of an image over MaxImagePixels.
const RulePixels = "pixels"

// decodeSlots is how many images are decoded (and held by callers of
// WithDecodedImage) at once. Decoding is CPU-bound, so more than one per
// core gains nothing and only multiplies peak memory.
var decodeSlots = max(1, runtime.GOMAXPROCS(0))

// decodeSem is process-wide, not per component: memory is, and uploads,
// URL inputs and the sandbox all decode through it.
var decodeSem = semaphore.NewWeighted(int64(decodeSlots))

// pixelsError says an image is over a pixel budget, in megapixels.
func pixelsError(w, h int, limit int64) *RuleError {
	return &RuleError{Rule: RulePixels, Message: fmt.Sprintf(
		"image is %dx%d px (%.1f megapixels); the limit is %g megapixels",
		w, h, float64(w)*float64(h)/1e6, float64(limit)/1e6)}
}

// WithDecodedImage decodes a JPEG, PNG or WebP image and calls fn with its
// pixels, for checks that need more than the header (faces) and for
// conversions. The header is read first: an unreadable one, or one over
// MaxImagePixels, is a *RuleError before anything is decoded. Then it
// waits for one of decodeSlots with ctx (a caller that goes away stops
// waiting, with ctx's error) and holds the slot until fn returns, so the
// decoded image counts against the limit for as long as it is used. The
// whole image must decode: a truncated or damaged one is a *RuleError with
// Rule "format". An ended ctx also stops a decode in progress.
func WithDecodedImage(ctx context.Context, data []byte, fn func(image.Image, ImageInfo) error) error {
	f, ok := detectFormat(data)
	if !ok {
		return formatError()
	}
	info := ImageInfo{Format: f.name, Mime: f.mime, Bytes: int64(len(data))}
	cfg, err := f.decodeConfig(bytes.NewReader(data))
	if err != nil || cfg.Width <= 0 || cfg.Height <= 0 {
		return damaged(f.name)
	}
	if int64(cfg.Width)*int64(cfg.Height) > MaxImagePixels {
		return pixelsError(cfg.Width, cfg.Height, MaxImagePixels)
	}
	if err := decodeSem.Acquire(ctx, 1); err != nil {
		return fmt.Errorf("wait to decode image: %w", err)
	}
	defer decodeSem.Release(1)
	img, err := f.decode(ctxReader{ctx, bytes.NewReader(data)})
	if ctx.Err() != nil {
		return fmt.Errorf("decode image: %w", ctx.Err())
	}
	if err != nil {
		return damaged(f.name)
	}
	b := img.Bounds()
	if b.Dx() != cfg.Width || b.Dy() != cfg.Height {
		return damaged(f.name) // the header and the pixels disagree
	}
	info.Width, info.Height = b.Dx(), b.Dy()
	return fn(img, info)
}

func damaged(format string) *RuleError {
	return &RuleError{Rule: RuleFormat, Message: fmt.Sprintf(
		"file looks like a %s image but could not be read completely; it may be truncated or damaged", format)}
}

// ctxReader fails reads once ctx ends, so a decode stops early when its
// client goes away (the decoders read as they go).
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// DecodeImage decodes a JPEG, PNG or WebP image detected by content, for
// callers (the sandbox, the Stability client) that need the pixels after
// the decode slot is released. It applies the rules of WithDecodedImage.
func DecodeImage(data []byte) (image.Image, ImageInfo, error) {
	var (
		img  image.Image
		info ImageInfo
	)
	err := WithDecodedImage(context.Background(), data, func(m image.Image, i ImageInfo) error {
		img, info = m, i
		return nil
	})
	if err != nil {
		return nil, info, fmt.Errorf("decode image: %w", err)
	}
	return img, info, nil
}

// ToPNG re-encodes JPEG, WebP or PNG bytes as PNG, because Kling accepts
// only JPEG and PNG and WebP uploads must be converted before sending. It
// applies the rules of WithDecodedImage.
func ToPNG(data []byte) ([]byte, error) {
	var out []byte
	err := WithDecodedImage(context.Background(), data, func(img image.Image, _ ImageInfo) error {
		var err error
		out, err = EncodePNG(img)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("to png: %w", err)
	}
	return out, nil
}
