package app

import (
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

// MaxUploadBytes bounds one upload.
const MaxUploadBytes = 20 << 20

// CreateUpload stores an uploaded image for use as a workflow input. WebP
// is stored as PNG, since providers take JPEG and PNG.
func (s *Service) CreateUpload(ctx context.Context, userID string, r io.Reader) (*lepus.Upload, error) {
	info, data, err := media.CheckImage(r, media.ImageRules{MaxBytes: MaxUploadBytes, MinSide: 1, MaxAspect: 1000})
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

func (s *Service) storeUpload(ctx context.Context, userID string, data []byte, info media.ImageInfo) (*lepus.Upload, error) {
	up := &lepus.Upload{ID: NewID("upl_"), UserID: userID, Mime: info.Mime, Width: info.Width, Height: info.Height}
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
	rd, err := s.Blob.Open(ctx, a.StorageKey)
	if err != nil {
		return nil, nil, fmt.Errorf("open asset: %w", err)
	}
	return a, rd, nil
}
