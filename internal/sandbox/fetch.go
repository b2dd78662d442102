package sandbox

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"image"
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
	if _, err := s.loadInput(ctx, in.source); err != nil {
		var re *media.RuleError
		if errors.As(err, &re) {
			return invalidf("%s: %s", in.field, re.Error())
		}
		return invalidf("%s: %v", in.field, err)
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
	if !strings.HasPrefix(source, "http://") && !strings.HasPrefix(source, "https://") {
		b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(source))
		if err != nil {
			return nil, errors.New("not a URL and not valid base64")
		}
		return b, nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, source, nil)
	if err != nil {
		return nil, fmt.Errorf("invalid image URL")
	}
	resp, err := s.cfg.HTTPClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("cannot fetch image: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("cannot fetch image: http %d", resp.StatusCode)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxFetch))
	if err != nil {
		return nil, fmt.Errorf("cannot fetch image: %w", err)
	}
	return b, nil
}

// loadImage returns the decoded image of a source.
func (s *Sandbox) loadImage(ctx context.Context, source string) (image.Image, error) {
	b, err := s.loadInput(ctx, source)
	if err != nil {
		return nil, err
	}
	img, _, err := media.DecodeImage(b)
	if err != nil {
		return nil, fmt.Errorf("decode input: %w", err)
	}
	return img, nil
}
