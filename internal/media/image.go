package media

import (
	"bytes"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"io"

	"golang.org/x/image/webp"
)

// ImageInfo describes a decoded image header: what the server records about
// an uploaded or generated image without decoding its pixels.
type ImageInfo struct {
	Format        string // "jpeg", "png" or "webp"
	Mime          string
	Width, Height int
	Bytes         int64
}

// ImageRules are a provider's input limits. A zero field disables its rule.
type ImageRules struct {
	MaxBytes int64
	// MaxPixels bounds width x height from the header. Callers that go on
	// to decode the image set it to MaxImagePixels, so a bomb is refused
	// before it is decoded (WithDecodedImage applies the budget anyway).
	MaxPixels int64
	MinSide   int
	MaxAspect float64 // long side / short side, e.g. 2.5
}

// KlingImageRules returns Kling's limits for input images (10 MB, both
// sides at least 300 px, aspect between 1:2.5 and 2.5:1), so uploads can be
// refused before a paid task fails on them.
func KlingImageRules() ImageRules {
	return ImageRules{MaxBytes: 10 << 20, MinSide: 300, MaxAspect: 2.5}
}

// Rule names used in RuleError.Rule.
const (
	RuleFormat  = "format"
	RuleSize    = "size"
	RuleMinSide = "min_side"
	RuleAspect  = "aspect"
)

// RuleError says which rule an image broke, in words a person understands,
// so the API can show it to the user as is.
type RuleError struct {
	Rule    string // RuleFormat, RuleSize, RulePixels, RuleMinSide or RuleAspect
	Message string
}

func (e *RuleError) Error() string { return e.Message }

// imageFormat is one supported container, recognised by its magic bytes.
type imageFormat struct {
	name, mime   string
	decodeConfig func(io.Reader) (image.Config, error)
	decode       func(io.Reader) (image.Image, error)
}

var formats = []imageFormat{
	{"jpeg", "image/jpeg", jpeg.DecodeConfig, jpeg.Decode},
	{"png", "image/png", png.DecodeConfig, png.Decode},
	{"webp", "image/webp", webp.DecodeConfig, webp.Decode},
}

// sniffLen is how many leading bytes detectFormat needs.
const sniffLen = 12

// detectFormat recognises JPEG, PNG and WebP by content, never by name.
func detectFormat(head []byte) (imageFormat, bool) {
	switch {
	case bytes.HasPrefix(head, []byte{0xFF, 0xD8, 0xFF}):
		return formats[0], true
	case bytes.HasPrefix(head, []byte("\x89PNG\r\n\x1a\n")):
		return formats[1], true
	case len(head) >= 12 && string(head[:4]) == "RIFF" && string(head[8:12]) == "WEBP":
		return formats[2], true
	}
	return imageFormat{}, false
}

func formatError() *RuleError {
	return &RuleError{Rule: RuleFormat, Message: "file is not a JPEG, PNG or WebP image"}
}

// CheckImage reads at most rules.MaxBytes+1 bytes from r, so an oversized
// upload is refused without reading it all, detects the format by content,
// decodes the header and applies the rules. It returns what it learned and
// the bytes read, so the caller can store them without re-reading. A broken
// rule is a *RuleError (with the info filled in as far as it is known); a
// corrupt or unreadable header is a RuleError with Rule "format". Only the
// header is read: WithDecodedImage checks the pixels. Other errors come
// from reading r.
func CheckImage(r io.Reader, rules ImageRules) (ImageInfo, []byte, error) {
	src := r
	if rules.MaxBytes > 0 {
		src = io.LimitReader(r, rules.MaxBytes+1)
	}
	data, err := io.ReadAll(src)
	if err != nil {
		return ImageInfo{}, data, fmt.Errorf("read image: %w", err)
	}
	info := ImageInfo{Bytes: int64(len(data))}
	if rules.MaxBytes > 0 && info.Bytes > rules.MaxBytes {
		return info, data, &RuleError{Rule: RuleSize, Message: fmt.Sprintf(
			"image is larger than the %s limit", humanBytes(rules.MaxBytes))}
	}
	f, ok := detectFormat(data)
	if !ok {
		return info, data, formatError()
	}
	info.Format, info.Mime = f.name, f.mime
	cfg, err := f.decodeConfig(bytes.NewReader(data))
	if err != nil || cfg.Width <= 0 || cfg.Height <= 0 {
		return info, data, &RuleError{Rule: RuleFormat, Message: fmt.Sprintf(
			"file looks like a %s image but could not be read; it may be damaged", f.name)}
	}
	info.Width, info.Height = cfg.Width, cfg.Height
	if err := rules.check(info); err != nil {
		return info, data, err
	}
	return info, data, nil
}

// check applies the side and aspect rules to a decoded header.
func (rules ImageRules) check(info ImageInfo) error {
	w, h := info.Width, info.Height
	if rules.MaxPixels > 0 && int64(w)*int64(h) > rules.MaxPixels {
		return pixelsError(w, h, rules.MaxPixels)
	}
	if rules.MinSide > 0 && (w < rules.MinSide || h < rules.MinSide) {
		return &RuleError{Rule: RuleMinSide, Message: fmt.Sprintf(
			"image is %dx%d px; both sides must be at least %d px", w, h, rules.MinSide)}
	}
	if rules.MaxAspect > 0 {
		long, short := float64(max(w, h)), float64(min(w, h))
		if long > short*rules.MaxAspect*(1+1e-9) {
			return &RuleError{Rule: RuleAspect, Message: fmt.Sprintf(
				"image is %dx%d px (aspect %.2f:1); the long side may be at most %g times the short side",
				w, h, long/short, rules.MaxAspect)}
		}
	}
	return nil
}

// humanBytes formats a byte count as people expect to read it ("10 MB").
func humanBytes(n int64) string {
	const mb = 1 << 20
	if n >= mb && n%mb == 0 {
		return fmt.Sprintf("%d MB", n/mb)
	}
	if n >= mb {
		return fmt.Sprintf("%.1f MB", float64(n)/mb)
	}
	if n >= 1<<10 {
		return fmt.Sprintf("%d KB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}
