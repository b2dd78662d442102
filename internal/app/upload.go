package app

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
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
// stored as PNG, since providers take JPEG and PNG.
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
	info, data, err := media.CheckImage(br, media.ImageRules{MaxBytes: maxImageBytes, MinSide: 1, MaxAspect: 1000})
	if err != nil {
		var re *media.RuleError
		if errors.As(err, &re) {
			return nil, lepus.FieldErrorf("body.file", "%s", re.Message)
		}
		return nil, lepus.FieldErrorf("body.file", "could not read the file: %v", err)
	}
	if info.Format == "webp" {
		if data, err = media.ToPNG(data); err != nil {
			return nil, lepus.FieldErrorf("body.file", "could not convert the WebP image: %v", err)
		}
		info.Format, info.Mime = "png", "image/png"
	}
	return s.storeUpload(ctx, userID, data, info)
}

// storeUpload stores an image upload, with the number of faces in it, so
// tasks naming the upload check it from its row instead of decoding it again.
func (s *Service) storeUpload(ctx context.Context, userID string, data []byte, info media.ImageInfo) (*lepus.Upload, error) {
	faces := -1
	if img, _, err := media.DecodeImage(data); err == nil {
		faces = len(media.DetectFaces(img))
	}
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
