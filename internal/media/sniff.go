package media

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/png"
	"io"
)

const (
	// sniffWindow is read up front: it holds the header of almost every
	// image, and a whole small image, whose size is then known.
	sniffWindow = 64 << 10
	// sniffMax bounds how much SniffImage reads in all to find the header;
	// JPEG EXIF/ICC segments before the frame header can be large.
	sniffMax = 1 << 20
)

// SniffImage learns the format and size of an image stream (a provider
// result being copied to storage) from its first bytes. The returned reader
// yields the whole stream, including the bytes already read, so the caller
// still streams everything once. Info.Bytes is set only when the stream
// ended within the first 64 KB; otherwise it is 0 (not known yet). A stream
// that is not a readable JPEG, PNG or WebP gives a *RuleError with Rule
// "format", and one over MaxImagePixels a *RuleError with Rule "pixels";
// the returned reader yields the whole stream even then.
func SniffImage(r io.Reader) (ImageInfo, io.Reader, error) {
	head := make([]byte, sniffWindow)
	n, err := io.ReadFull(r, head)
	head = head[:n]
	ended := errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
	if err != nil && !ended {
		return ImageInfo{}, io.MultiReader(bytes.NewReader(head), r), fmt.Errorf("sniff image: %w", err)
	}
	// Anything the decoder needs beyond the window is kept in more.
	var more bytes.Buffer
	tee := io.TeeReader(io.LimitReader(r, sniffMax-int64(n)), &more)
	rest := func() io.Reader {
		return io.MultiReader(bytes.NewReader(head), bytes.NewReader(more.Bytes()), r)
	}

	f, ok := detectFormat(head)
	if !ok {
		return ImageInfo{}, rest(), formatError()
	}
	info := ImageInfo{Format: f.name, Mime: f.mime}
	if ended {
		info.Bytes = int64(n)
	}
	cfg, err := f.decodeConfig(io.MultiReader(bytes.NewReader(head), tee))
	if err != nil || cfg.Width <= 0 || cfg.Height <= 0 {
		return info, rest(), &RuleError{Rule: RuleFormat, Message: fmt.Sprintf(
			"file looks like a %s image but could not be read; it may be damaged", f.name)}
	}
	info.Width, info.Height = cfg.Width, cfg.Height
	if int64(cfg.Width)*int64(cfg.Height) > MaxImagePixels {
		// Stored, it could never be decoded again (WithDecodedImage).
		return info, rest(), pixelsError(cfg.Width, cfg.Height, MaxImagePixels)
	}
	return info, rest(), nil
}

// EncodePNG encodes img as PNG with default compression; the sandbox uses
// it to serve FaceSwap and Restyle results.
func EncodePNG(img image.Image) ([]byte, error) {
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, fmt.Errorf("encode png: %w", err)
	}
	return buf.Bytes(), nil
}
