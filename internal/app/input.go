package app

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"io"
	"strings"

	"github.com/lepus-ai/lepus/internal/fetch"
	"github.com/lepus-ai/lepus/internal/lepus"
	"github.com/lepus-ai/lepus/internal/media"
	"github.com/lepus-ai/lepus/internal/workflow"
)

// checkImage makes sure an image input will be accepted by the provider
// before anything is paid: reachable, a JPEG/PNG/WebP within the size,
// pixel, side and aspect limits (all from its header, before decoding),
// and whole (it must decode). A WebP (which Kling does not take) is
// converted to a PNG upload and the input URL replaced; the returned note
// says so. The image is decoded once, for the face check and the
// conversion together.
func (s *Service) checkImage(ctx context.Context, userID string, in workflow.ImageInput) (string, error) {
	url := strings.TrimSpace(*in.URL)
	*in.URL = url
	if id, ok := s.ownUpload(url); ok {
		return "", s.checkImageUpload(ctx, in, id)
	}
	data, err := s.fetchInput(ctx, in.Field, url, media.KlingImageRules().MaxBytes+1)
	if err != nil {
		return "", err
	}
	rules := media.KlingImageRules()
	rules.MaxPixels = media.MaxImagePixels // refuse a bomb from its header
	info, raw, err := media.CheckImage(bytes.NewReader(data), rules)
	if err != nil {
		return "", imageRuleError(in.Field, err)
	}
	faces := -1
	var png []byte
	err = media.WithDecodedImage(ctx, raw, func(img image.Image, _ media.ImageInfo) error {
		if in.NeedFace || info.Format == "webp" {
			faces = len(media.DetectFaces(img))
		}
		if info.Format == "webp" {
			var err error
			png, err = media.EncodePNG(img)
			return err
		}
		return nil
	})
	if err != nil {
		return "", decodeError(in.Field, err)
	}
	if in.NeedFace && faces == 0 {
		return "", noFace(in.Field)
	}
	if png == nil {
		return "", nil
	}
	up, err := s.storeUpload(ctx, userID, png, media.ImageInfo{Format: "png", Mime: "image/png", Width: info.Width, Height: info.Height}, faces)
	if err != nil {
		return "", err
	}
	*in.URL = s.UploadURL(up.ID)
	return fmt.Sprintf("%s: WebP converted to PNG (the provider accepts JPEG and PNG)", strings.TrimPrefix(in.Field, "body.")), nil
}

// checkImageUpload checks one of Lepus's own uploads from what was measured
// when it arrived.
func (s *Service) checkImageUpload(ctx context.Context, in workflow.ImageInput, id string) error {
	up, err := s.Store.UploadGet(ctx, id)
	if lepus.ErrorCode(err) == lepus.ENotFound {
		return lepus.FieldErrorf(in.Field, "upload %s not found", id)
	}
	if err != nil {
		return err
	}
	if up.Kind != lepus.AssetImage {
		return lepus.FieldErrorf(in.Field, "upload %s is %s, not an image", id, up.Kind)
	}
	info := media.ImageInfo{Format: up.Format, Mime: up.Mime, Width: up.Width, Height: up.Height, Bytes: up.Bytes}
	if err := media.KlingImageRules().Check(info); err != nil {
		return imageRuleError(in.Field, err)
	}
	if in.NeedFace && up.Faces < 0 { // recorded before faces were counted
		up.Faces, err = s.countFaces(ctx, up)
		if err != nil {
			return lepus.FieldErrorf(in.Field, "could not read upload %s: %v", id, err)
		}
	}
	if in.NeedFace && up.Faces == 0 {
		return noFace(in.Field)
	}
	return nil
}

// countFaces decodes an upload stored before faces were counted, under
// the same pixel budget and decode slots as new images.
func (s *Service) countFaces(ctx context.Context, up *lepus.Upload) (int, error) {
	rd, err := s.Blob.Open(ctx, up.StorageKey)
	if err != nil {
		return 0, err
	}
	defer rd.Close()
	data, err := io.ReadAll(io.LimitReader(rd, maxImageBytes+1))
	if err != nil {
		return 0, err
	}
	faces := 0
	err = media.WithDecodedImage(ctx, data, func(img image.Image, _ media.ImageInfo) error {
		faces = len(media.DetectFaces(img))
		return nil
	})
	return faces, err
}

func imageRuleError(field string, err error) error {
	var re *media.RuleError
	if errors.As(err, &re) {
		return lepus.FieldErrorf(field, "%s", re.Message)
	}
	return lepus.FieldErrorf(field, "could not read the image: %v", err)
}

func noFace(field string) error {
	return lepus.FieldErrorf(field, "no face found in the image; use a clear, front-facing photo of one person")
}

// ownUpload reports whether url is one of Lepus's upload URLs, and its id.
func (s *Service) ownUpload(url string) (string, bool) {
	return strings.CutPrefix(url, s.PublicURL+"/uploads/")
}

// fetchInput downloads an input URL through the SSRF-safe client, reading
// at most max bytes (the caller's rules decide what is too large).
func (s *Service) fetchInput(ctx context.Context, field, url string, max int64) ([]byte, error) {
	if err := checkURL(field, url); err != nil {
		return nil, err
	}
	resp, err := s.Fetch.Open(ctx, url)
	if err != nil {
		return nil, lepus.FieldErrorf(field, "could not fetch the file: %v", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, max))
	if err != nil {
		return nil, lepus.FieldErrorf(field, "could not fetch the file: %v", err)
	}
	return b, nil
}

// checkSlots refuses a task with a stage that needs more units of a
// provider pool than the pool has (an image task holds n units of the image
// pool, kling-api.md §8): it would wait for a slot that never comes.
func (s *Service) checkSlots(req workflow.Request, stages []lepus.Stage) error {
	for _, st := range stages {
		capacity, ok := s.Slots[st.Slot]
		need := max(st.SlotCost, 1)
		if st.Slot == "" || !ok || need <= capacity {
			continue
		}
		switch req.(type) {
		case *workflow.ImageGenerationRequest, *workflow.OmniImageRequest: // their n sets the cost
			return lepus.FieldErrorf("body.n", "is %d; the provider account runs at most %d images at once, so give 1 to %d", need, capacity, capacity)
		}
		return lepus.Errorf(lepus.EInvalid, "the %s step needs %d %s provider slots; the provider account has %d", st.Name, need, st.Slot, capacity)
	}
	return nil
}

// checkURL refuses a URL input that is not an absolute http(s) URL.
func checkURL(field, url string) error {
	if err := fetch.CheckURL(url); err != nil {
		return lepus.FieldErrorf(field, "%v", err)
	}
	return nil
}
