package sandbox

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"image"
	"strings"

	"github.com/lepus-ai/lepus/internal/media"
)

// Seedream 4.0 input limits (2025-09 revision): 10 MB, sides over 14 px and
// at most 6000 px, aspect within [1/3, 3], JPEG, PNG or WebP.
const (
	arkMaxInputBytes = 10 << 20
	arkMaxInputSide  = 6000
)

var arkInputRules = media.ImageRules{MaxBytes: arkMaxInputBytes, MinSide: 15, MaxAspect: 3}

// arkCheckImages fetches or decodes every reference and checks it like
// Ark, so a bad one fails the request with 400; it records the first
// reference's size, whose aspect ratio the 1K/2K/4K sizes follow.
func (s *Sandbox) arkCheckImages(ctx context.Context, req *arkRequest) *arkError {
	for i, src := range req.sources {
		data, err := s.arkInput(ctx, src)
		if err != nil {
			return invalidArk("image", "image %d: %v", i+1, err)
		}
		if i == 0 {
			cfg, _, err := image.DecodeConfig(bytes.NewReader(data))
			if err == nil {
				req.refW, req.refH = cfg.Width, cfg.Height
			}
		}
	}
	return nil
}

// arkInput returns the checked bytes of a source, cached like Kling inputs
// but under its own key, since Ark's rules differ.
func (s *Sandbox) arkInput(ctx context.Context, src string) ([]byte, error) {
	sum := sha256.Sum256([]byte(src))
	key := "ark:" + string(sum[:])
	if b, ok := s.inputs.get(key); ok {
		return b, nil
	}
	raw, err := s.arkReadSource(ctx, src)
	if err != nil {
		return nil, err
	}
	info, data, err := media.CheckImage(bytes.NewReader(raw), arkInputRules)
	if err != nil {
		return nil, err
	}
	if info.Width > arkMaxInputSide || info.Height > arkMaxInputSide {
		return nil, fmt.Errorf("image is %dx%d px; both sides must be at most %d px", info.Width, info.Height, arkMaxInputSide)
	}
	s.inputs.add(key, data)
	return data, nil
}

// arkReadSource downloads a URL (refusing more than 10 MB) or decodes a
// data URI.
func (s *Sandbox) arkReadSource(ctx context.Context, src string) ([]byte, error) {
	if rest, ok := strings.CutPrefix(src, "data:"); ok {
		_, payload, _ := strings.Cut(rest, ";base64,")
		b, err := base64.StdEncoding.DecodeString(payload)
		if err != nil {
			return nil, errors.New("the data URI is not valid base64")
		}
		if len(b) > arkMaxInputBytes {
			return nil, errors.New("image is larger than the 10 MB limit")
		}
		return b, nil
	}
	b, err := s.fetch(ctx, src, arkMaxInputBytes)
	if errors.Is(err, errTooLarge) || len(b) > arkMaxInputBytes {
		return nil, errors.New("image is larger than the 10 MB limit")
	}
	if err != nil {
		return nil, err
	}
	return b, nil
}

// arkDecode returns the decoded picture of a source.
func (s *Sandbox) arkDecode(ctx context.Context, src string) (image.Image, error) {
	return decodeLoaded(s.arkInput(ctx, src))
}
