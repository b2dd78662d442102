package sandbox

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"image"
	_ "image/jpeg" // DecodeConfig of inputs
	_ "image/png"
	"io"
	"net/http"
	"strings"

	"github.com/lepus-ai/lepus/internal/media"
)

// maxFetch bounds how much of an input is read; the 10 MB rule itself is
// media's to report.
const maxFetch = 32 << 20

// checkImage fetches (or decodes) one input and checks it like Kling, so a
// bad input fails the create with 1201 and a clear message.
func (s *Sandbox) checkImage(ctx context.Context, in imageInput) *apiError {
	data, err := s.loadInput(ctx, in.source)
	if err != nil {
		var re *media.RuleError
		if errors.As(err, &re) {
			return invalidf("%s: %s", in.field, re.Error())
		}
		return invalidf("%s: %v", in.field, err)
	}
	if in.maxSide > 0 {
		cfg, _, err := image.DecodeConfig(bytes.NewReader(data))
		if err != nil {
			return invalidf("%s: cannot read the image size", in.field)
		}
		if cfg.Width > in.maxSide || cfg.Height > in.maxSide {
			return invalidf("%s: image is %dx%d px; both sides must be at most %d px", in.field, cfg.Width, cfg.Height, in.maxSide)
		}
	}
	return nil
}

// loadInput returns the checked bytes of an image source, from cache or by
// fetching the URL / decoding the base64 and running media.CheckImage.
func (s *Sandbox) loadInput(ctx context.Context, source string) ([]byte, error) {
	sum := sha256.Sum256([]byte(source))
	key := string(sum[:])
	if b, ok := s.inputs.get(key); ok {
		return b, nil
	}
	raw, err := s.readSource(ctx, source)
	if err != nil {
		return nil, err
	}
	info, data, err := media.CheckImage(bytes.NewReader(raw), media.KlingImageRules())
	if err != nil {
		return nil, err
	}
	// media also reads WebP; Kling takes only JPEG and PNG.
	if info.Format != "jpeg" && info.Format != "png" {
		return nil, fmt.Errorf("image format must be jpg or png, got %s", info.Format)
	}
	s.inputs.add(key, data)
	return data, nil
}

func (s *Sandbox) readSource(ctx context.Context, source string) ([]byte, error) {
	return s.readSourceMax(ctx, source, 0)
}

// errTooLarge means an input is over the size limit of its field.
var errTooLarge = errors.New("file is too large")

// readSourceMax reads a URL or raw base64 source. With max > 0, a source
// over max bytes is errTooLarge, found from Content-Length when the server
// sends it, so a huge file is not downloaded to be refused; with max 0 at
// most maxFetch bytes are read and the caller's rules judge the size.
func (s *Sandbox) readSourceMax(ctx context.Context, source string, max int64) ([]byte, error) {
	var b []byte
	if !strings.HasPrefix(source, "http://") && !strings.HasPrefix(source, "https://") {
		d, err := base64.StdEncoding.DecodeString(strings.TrimSpace(source))
		if err != nil {
			return nil, errors.New("not a URL and not valid base64")
		}
		b = d
	} else {
		d, err := s.fetch(ctx, source, max)
		if err != nil {
			return nil, err
		}
		b = d
	}
	if max > 0 && int64(len(b)) > max {
		return nil, errTooLarge
	}
	return b, nil
}

// fetch GETs url: at most max+1 bytes of its body when max > 0, else at
// most maxFetch.
func (s *Sandbox) fetch(ctx context.Context, url string, max int64) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, fmt.Errorf("invalid URL")
	}
	resp, err := s.cfg.HTTPClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("cannot fetch the file: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("cannot fetch the file: http %d", resp.StatusCode)
	}
	limit := int64(maxFetch)
	if max > 0 {
		if resp.ContentLength > max {
			return nil, errTooLarge
		}
		limit = max + 1
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, limit))
	if err != nil {
		return nil, fmt.Errorf("cannot fetch the file: %w", err)
	}
	return b, nil
}

// loadImage returns the decoded image of a source.
func (s *Sandbox) loadImage(ctx context.Context, source string) (image.Image, error) {
	return decodeLoaded(s.loadInput(ctx, source))
}

// decodeLoaded decodes the bytes of a loaded input.
func decodeLoaded(b []byte, err error) (image.Image, error) {
	if err != nil {
		return nil, err
	}
	img, _, err := media.DecodeImage(b)
	if err != nil {
		return nil, fmt.Errorf("decode input: %w", err)
	}
	return img, nil
}
