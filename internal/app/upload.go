package app

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"io"
	"path"

	"github.com/lepus-ai/lepus/internal/blob"
	"github.com/lepus-ai/lepus/internal/lepus"
	"github.com/lepus-ai/lepus/internal/media"
)

// Upload limits. Images are decoded in memory; videos and audio are
// streamed to storage.
const (
	MaxUploadBytes = 100 << 20 // a video (Kling takes up to 100 MB)
	maxImageBytes  = 20 << 20
	maxAudioBytes  = 20 << 20
)

// CreateUpload stores an uploaded image, video or audio file for use as a
// workflow input, with what it measured (size, length, faces). WebP is
// stored as PNG, since providers take JPEG and PNG. An image is judged by
// its header first (format, sides, media.MaxImagePixels), so a small file
// declaring a huge canvas is refused without being decoded; then it is
// decoded whole, once, to count faces and convert, and refused if it does
// not decode.
func (s *Service) CreateUpload(ctx context.Context, userID string, r io.Reader) (*lepus.Upload, error) {
	br := bufio.NewReaderSize(r, 4096)
	head, _ := br.Peek(4096)
	kind, err := media.SniffMedia(head)
	if err != nil {
		return nil, lepus.FieldErrorf("body.file", "is not a supported file: send an image (JPEG, PNG, WebP), a video (MP4, MOV) or audio (MP3, WAV, M4A, AAC)")
	}
	if kind.Kind != lepus.AssetImage {
		return s.storeMedia(ctx, userID, br, kind)
	}
	info, data, err := media.CheckImage(br, media.ImageRules{MaxBytes: maxImageBytes, MaxPixels: media.MaxImagePixels, MinSide: 1, MaxAspect: 1000})
	if err != nil {
		return nil, imageRuleError("body.file", err)
	}
	faces := -1
	err = media.WithDecodedImage(ctx, data, func(img image.Image, _ media.ImageInfo) error {
		faces = len(media.DetectFaces(img))
		if info.Format != "webp" {
			return nil
		}
		png, err := media.EncodePNG(img)
		if err != nil {
			return err
		}
		data, info.Format, info.Mime = png, "png", "image/png"
		return nil
	})
	if err != nil {
		return nil, decodeError("body.file", err)
	}
	return s.storeUpload(ctx, userID, data, info, faces)
}

// decodeError turns a failed media.WithDecodedImage into a problem with
// field when the image is at fault (over the budget, damaged). Anything
// else (the caller went away while waiting for a decode slot) is not the
// image's fault and stays an internal error.
func decodeError(field string, err error) error {
	var re *media.RuleError
	if errors.As(err, &re) {
		return lepus.FieldErrorf(field, "%s", re.Message)
	}
	return fmt.Errorf("decode image: %w", err)
}

// storeUpload stores an image upload with the number of faces in it (-1:
// not counted), so tasks naming the upload check it from its row instead
// of decoding it again.
func (s *Service) storeUpload(ctx context.Context, userID string, data []byte, info media.ImageInfo, faces int) (*lepus.Upload, error) {
	up := &lepus.Upload{ID: NewID("upl_"), UserID: userID, Kind: lepus.AssetImage, Format: info.Format,
		Mime: info.Mime, Width: info.Width, Height: info.Height, Faces: faces}
	up.StorageKey = path.Join("uploads", up.ID)
	n, err := s.Blob.Put(ctx, up.StorageKey, up.Mime, bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("store upload: %w", err)
	}
	up.Bytes = n
	if err := s.Store.UploadCreate(ctx, up); err != nil {
		return nil, err
	}
	return up, nil
}

// storeMedia streams a video or audio upload to storage, then measures it
// from its headers; a file over its kind's limit or unreadable is removed.
func (s *Service) storeMedia(ctx context.Context, userID string, r io.Reader, info media.MediaInfo) (*lepus.Upload, error) {
	limit := int64(MaxUploadBytes)
	if info.Kind == lepus.AssetAudio {
		limit = maxAudioBytes
	}
	up := &lepus.Upload{ID: NewID("upl_"), UserID: userID, Kind: info.Kind, Format: info.Format, Mime: info.Mime, Faces: -1}
	up.StorageKey = path.Join("uploads", up.ID)
	n, err := s.Blob.Put(ctx, up.StorageKey, up.Mime, io.LimitReader(r, limit+1))
	if err != nil {
		return nil, fmt.Errorf("store upload: %w", err)
	}
	fail := func(format string, args ...any) (*lepus.Upload, error) {
		_ = s.Blob.Delete(context.WithoutCancel(ctx), up.StorageKey)
		return nil, lepus.FieldErrorf("body.file", format, args...)
	}
	if n > limit {
		return fail("is larger than the %d MB limit for %s", limit>>20, info.Kind)
	}
	rd, err := s.Blob.Open(ctx, up.StorageKey)
	if err != nil {
		return nil, fmt.Errorf("open upload: %w", err)
	}
	m, err := measure(rd, n)
	rd.Close()
	if err != nil {
		return fail("%v", err)
	}
	up.Bytes, up.Width, up.Height, up.DurationS = n, m.Width, m.Height, m.DurationS
	if err := s.Store.UploadCreate(ctx, up); err != nil {
		return nil, err
	}
	return up, nil
}

// UploadURL is the public, unguessable URL of an upload's content.
func (s *Service) UploadURL(id string) string { return s.PublicURL + "/uploads/" + id }

// OpenUpload opens an upload's content. Uploads are capability URLs: anyone
// holding the id may read them (providers fetch them).
func (s *Service) OpenUpload(ctx context.Context, id string) (*lepus.Upload, *blob.Reader, error) {
	up, err := s.Store.UploadGet(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	rd, err := s.Blob.Open(ctx, up.StorageKey)
	if err != nil {
		return nil, nil, fmt.Errorf("open upload: %w", err)
	}
	return up, rd, nil
}

// AssetURL is the owner-only URL of an asset's content.
func (s *Service) AssetURL(id string) string { return s.PublicURL + "/assets/" + id + "/content" }

// GetAsset returns a user's asset; another user's asset is ENotFound.
func (s *Service) GetAsset(ctx context.Context, userID, id string) (*lepus.Asset, error) {
	a, err := s.Store.AssetGet(ctx, id)
	if err != nil {
		return nil, err
	}
	if a.UserID != userID {
		return nil, lepus.Errorf(lepus.ENotFound, "asset %s not found", id)
	}
	return a, nil
}

// OpenAsset opens a user's asset content.
func (s *Service) OpenAsset(ctx context.Context, userID, id string) (*lepus.Asset, *blob.Reader, error) {
	a, err := s.GetAsset(ctx, userID, id)
	if err != nil {
		return nil, nil, err
	}
	if a.StorageKey == "" {
		return nil, nil, lepus.Errorf(lepus.ENotFound, "asset %s was not stored; its provider URL is %s", id, a.ProviderURL)
	}
	rd, err := s.Blob.Open(ctx, a.StorageKey)
	if err != nil {
		return nil, nil, fmt.Errorf("open asset: %w", err)
	}
	return a, rd, nil
}
