package app

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/lepus-ai/lepus/internal/fetch"
	"github.com/lepus-ai/lepus/internal/lepus"
	"github.com/lepus-ai/lepus/internal/media"
	"github.com/lepus-ai/lepus/internal/workflow"
)

// checkImage makes sure an image input will be accepted by the provider
// before anything is paid: reachable, a JPEG/PNG/WebP, within the size,
// side and aspect limits. A WebP (which Kling does not take) is converted
// to a PNG upload and the input URL replaced; the returned note says so.
func (s *Service) checkImage(ctx context.Context, userID string, in workflow.ImageInput) (string, error) {
	url := strings.TrimSpace(*in.URL)
	*in.URL = url
	data, err := s.readInput(ctx, in.Field, url)
	if err != nil {
		return "", err
	}
	info, raw, err := media.CheckImage(data, media.KlingImageRules())
	if err != nil {
		var re *media.RuleError
		if errors.As(err, &re) {
			return "", lepus.FieldErrorf(in.Field, "%s", re.Message)
		}
		return "", lepus.FieldErrorf(in.Field, "could not read the image: %v", err)
	}
	if in.NeedFace {
		img, _, err := media.DecodeImage(raw)
		if err != nil {
			return "", lepus.FieldErrorf(in.Field, "could not decode the image: %v", err)
		}
		if len(media.DetectFaces(img)) == 0 {
			return "", lepus.FieldErrorf(in.Field, "no face found in the image; use a clear, front-facing photo of one person")
		}
	}
	if info.Format != "webp" {
		return "", nil
	}
	png, err := media.ToPNG(raw)
	if err != nil {
		return "", lepus.FieldErrorf(in.Field, "could not convert the WebP image: %v", err)
	}
	up, err := s.storeUpload(ctx, userID, png, media.ImageInfo{Format: "png", Mime: "image/png", Width: info.Width, Height: info.Height})
	if err != nil {
		return "", err
	}
	*in.URL = s.UploadURL(up.ID)
	return fmt.Sprintf("%s: WebP converted to PNG (the provider accepts JPEG and PNG)", strings.TrimPrefix(in.Field, "body.")), nil
}

// readInput opens an input URL: Lepus's own upload URLs are read from
// storage; anything else is fetched through the SSRF-safe client.
func (s *Service) readInput(ctx context.Context, field, url string) (io.Reader, error) {
	if id, ok := strings.CutPrefix(url, s.PublicURL+"/uploads/"); ok {
		up, rd, err := s.OpenUpload(ctx, id)
		if err != nil {
			return nil, lepus.FieldErrorf(field, "upload %s not found", id)
		}
		_ = up
		defer rd.Close()
		// Uploads are at most a few MB; read so the reader can close now.
		b, err := io.ReadAll(io.LimitReader(rd, media.KlingImageRules().MaxBytes+1))
		if err != nil {
			return nil, fmt.Errorf("read upload: %w", err)
		}
		return bytes.NewReader(b), nil
	}
	if err := fetch.CheckURL(url); err != nil {
		return nil, lepus.FieldErrorf(field, "%v", err)
	}
	resp, err := s.Fetch.Open(ctx, url)
	if err != nil {
		return nil, lepus.FieldErrorf(field, "could not fetch the image: %v", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, media.KlingImageRules().MaxBytes+1))
	if err != nil {
		return nil, lepus.FieldErrorf(field, "could not fetch the image: %v", err)
	}
	return bytes.NewReader(b), nil
}
