package app_test

import (
	"bytes"
	"context"
	"image/color"
	"image/png"
	"io"
	"testing"

	"github.com/lepus-ai/lepus/internal/app/apptest"
	"github.com/lepus-ai/lepus/internal/lepus"
	"github.com/lepus-ai/lepus/internal/media/mediatest"
	"github.com/lepus-ai/lepus/internal/media/synth"
	"github.com/lepus-ai/lepus/internal/sample"
)

// mp4 is a real H.264 MP4 of w x h pixels (multiples of 16, at most 640)
// lasting seconds.
func mp4(t *testing.T, w, h int, seconds float64) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := synth.WriteMP4(&buf, mediatest.Photo(w, h), seconds, synth.MP4Options{MaxSide: 640}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// upload stores data as an upload of user ana.
func upload(t *testing.T, b *apptest.Bundle, data []byte) *lepus.Upload {
	t.Helper()
	up, err := b.Service.CreateUpload(context.Background(), "ana", bytes.NewReader(data))
	if err != nil {
		t.Fatalf("upload: %v", err)
	}
	return up
}

// CreateUpload measures each kind from its content; WebP is stored as PNG.
func TestService_CreateUpload(t *testing.T) {
	t.Parallel()
	photo := mediatest.EncodePNG(t, mediatest.Photo(400, 300))
	for _, tc := range []struct {
		name                 string
		data                 []byte
		kind, format, mime   string
		width, height        int
		minS, maxS           float64 // duration bounds (videos and audio)
		wantFaces, sameBytes bool
	}{
		{name: "OKPNG", data: photo, kind: lepus.AssetImage, format: "png", mime: "image/png", width: 400, height: 300, sameBytes: true},
		{name: "OKJPEG", data: mediatest.EncodeJPEG(t, mediatest.Photo(320, 480)), kind: lepus.AssetImage, format: "jpeg", mime: "image/jpeg", width: 320, height: 480, sameBytes: true},
		{name: "OKFace", data: sample.PortraitPNG(sample.Palettes[0], 400, 500), kind: lepus.AssetImage, format: "png", mime: "image/png", width: 400, height: 500, wantFaces: true, sameBytes: true},
		{name: "OKWebPStoredAsPNG", data: mediatest.SolidWebP(350, 310, color.RGBA{10, 200, 30, 255}), kind: lepus.AssetImage, format: "png", mime: "image/png", width: 350, height: 310},
		{name: "OKVideo", data: mp4(t, 320, 240, 2), kind: lepus.AssetVideo, format: "mp4", mime: "video/mp4", width: 320, height: 240, minS: 1.9, maxS: 2.1, sameBytes: true},
		{name: "OKAudio", data: synth.SineWAV(3, 16000), kind: lepus.AssetAudio, format: "wav", minS: 2.9, maxS: 3.1, sameBytes: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := apptest.New(t)
			up := upload(t, b, tc.data)
			if up.Kind != tc.kind || up.Format != tc.format || up.Width != tc.width || up.Height != tc.height {
				t.Fatalf("upload %+v, want %s %s %dx%d", up, tc.kind, tc.format, tc.width, tc.height)
			}
			if tc.mime != "" && up.Mime != tc.mime {
				t.Errorf("mime %q, want %q", up.Mime, tc.mime)
			}
			if up.DurationS < tc.minS || (tc.maxS > 0 && up.DurationS > tc.maxS) {
				t.Errorf("duration %.2f s, want %.1f to %.1f", up.DurationS, tc.minS, tc.maxS)
			}
			if tc.kind == lepus.AssetImage && (up.Faces > 0) != tc.wantFaces {
				t.Errorf("faces %d, want faces: %v", up.Faces, tc.wantFaces)
			}
			_, rd, err := b.Service.OpenUpload(context.Background(), up.ID)
			if err != nil {
				t.Fatal(err)
			}
			defer rd.Close()
			stored, _ := io.ReadAll(rd)
			if int64(len(stored)) != up.Bytes {
				t.Errorf("stored %d bytes, recorded %d", len(stored), up.Bytes)
			}
			if tc.sameBytes && !bytes.Equal(stored, tc.data) {
				t.Error("stored content differs from the upload")
			}
			if tc.format == "png" {
				if _, err := png.Decode(bytes.NewReader(stored)); err != nil {
					t.Errorf("stored content is not a PNG: %v", err)
				}
			}
		})
	}
}

func TestService_CreateUpload_Refused(t *testing.T) {
	t.Parallel()
	photo := mediatest.EncodePNG(t, mediatest.Photo(400, 300))
	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"ErrNotMedia", []byte("hello, this is text and not a picture")},
		{"ErrEmpty", nil},
		{"ErrTruncatedPNG", photo[:len(photo)/2]},
		{"ErrBombPNG", sample.BombPNG(7000, 7000)}, // 49 Mpx: over media.MaxImagePixels
		{"ErrTooWide", mediatest.EncodePNG(t, mediatest.Solid(3000, 2, color.RGBA{A: 255}))},
		{"ErrTruncatedVideo", mp4(t, 320, 240, 2)[:200]},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := apptest.New(t)
			_, err := b.Service.CreateUpload(context.Background(), "ana", bytes.NewReader(tc.data))
			wantError(t, err, lepus.EInvalid, "body.file")
		})
	}
}
