package app

import (
	"context"
	"errors"
	"io"
	"os"
	"strings"
	"time"

	"github.com/lepus-ai/lepus/internal/lepus"
	"github.com/lepus-ai/lepus/internal/media"
	"github.com/lepus-ai/lepus/internal/workflow"
)

// inputs implements workflow.Inputs for one request.
type inputs struct{ s *Service }

var _ workflow.Inputs = inputs{}

func (in inputs) Now() time.Time { return in.s.Now() }

// Media measures a URL input. Lepus's own uploads are described by their
// record; anything else is downloaded (at most maxBytes) to a temporary
// file, measured and removed.
func (in inputs) Media(ctx context.Context, field, url string, maxBytes int64) (*workflow.MediaInput, error) {
	url = strings.TrimSpace(url)
	if id, ok := in.s.ownUpload(url); ok {
		up, err := in.s.Store.UploadGet(ctx, id)
		if err != nil {
			return nil, lepus.FieldErrorf(field, "upload %s not found", id)
		}
		return &workflow.MediaInput{Kind: up.Kind, Format: up.Format, Mime: up.Mime, Bytes: up.Bytes,
			Width: up.Width, Height: up.Height, DurationS: up.DurationS}, nil
	}
	f, n, err := in.download(ctx, field, url, maxBytes)
	if err != nil {
		return nil, err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	m, err := measure(f, n)
	if err != nil {
		return nil, lepus.FieldErrorf(field, "%v", err)
	}
	return m, nil
}

// download copies a URL into a temporary file, at most maxBytes.
func (in inputs) download(ctx context.Context, field, url string, maxBytes int64) (*os.File, int64, error) {
	if err := checkURL(field, url); err != nil {
		return nil, 0, err
	}
	resp, err := in.s.Fetch.Open(ctx, url)
	if err != nil {
		return nil, 0, lepus.FieldErrorf(field, "could not fetch the file: %v", err)
	}
	defer resp.Body.Close()
	f, err := os.CreateTemp("", "lepus-input-*")
	if err != nil {
		return nil, 0, err
	}
	n, err := io.Copy(f, io.LimitReader(resp.Body, maxBytes))
	if err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, 0, lepus.FieldErrorf(field, "could not fetch the file: %v", err)
	}
	return f, n, nil
}

// measure sorts a file by content and reads its size and length from its
// headers.
func measure(r io.ReadSeeker, n int64) (*workflow.MediaInput, error) {
	head := make([]byte, 4096)
	if _, err := r.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	k, _ := io.ReadFull(r, head)
	info, err := media.SniffMedia(head[:k])
	if err != nil {
		return nil, errors.New("is not a supported image, video or audio file")
	}
	m := &workflow.MediaInput{Kind: info.Kind, Format: info.Format, Mime: info.Mime, Bytes: n}
	if _, err := r.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	switch info.Kind {
	case lepus.AssetImage:
		img, _, err := media.CheckImage(r, media.ImageRules{MaxBytes: n})
		if err != nil {
			return nil, errors.New("is not a readable image")
		}
		m.Width, m.Height = img.Width, img.Height
	case lepus.AssetVideo:
		if m.DurationS, err = media.MP4Duration(r); err != nil {
			return nil, errors.New("is not a readable MP4 or MOV video")
		}
		if m.Width, m.Height, err = media.MP4VideoSize(r); err != nil {
			return nil, errors.New("has no readable video track")
		}
	case lepus.AssetAudio:
		if m.DurationS, err = media.AudioDuration(r, info.Format); err != nil {
			return nil, errors.New("is not a readable " + strings.ToUpper(info.Format) + " audio file")
		}
	}
	return m, nil
}

// VideoAsset finds one of the user's videos by Lepus asset id or Kling video id.
func (in inputs) VideoAsset(ctx context.Context, userID, ref string) (*lepus.Asset, error) {
	var a *lepus.Asset
	var err error
	if strings.HasPrefix(ref, "ast_") {
		a, err = in.s.GetAsset(ctx, userID, ref)
	} else {
		a, err = in.s.Store.AssetGetByProviderID(ctx, userID, ref)
	}
	if err != nil {
		return nil, err
	}
	if a.Kind != lepus.AssetVideo {
		return nil, lepus.Errorf(lepus.ENotFound, "asset %s is not a video", a.ID)
	}
	return a, nil
}

// Avatar returns the fetchable portraits of one of the user's avatars.
func (in inputs) Avatar(ctx context.Context, userID, id string) (*workflow.AvatarRefs, error) {
	return in.s.avatarRefs(ctx, userID, id)
}
