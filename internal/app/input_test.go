package app_test

import (
	"context"
	"encoding/json"
	"image/color"
	"strings"
	"testing"

	"github.com/lepus-ai/lepus/internal/app"
	"github.com/lepus-ai/lepus/internal/app/apptest"
	"github.com/lepus-ai/lepus/internal/lepus"
	"github.com/lepus-ai/lepus/internal/media/mediatest"
	"github.com/lepus-ai/lepus/internal/media/synth"
	"github.com/lepus-ai/lepus/internal/sample"
	"github.com/lepus-ai/lepus/internal/workflow"
)

func imageToVideo(key, url string) app.CreateTaskParams {
	return app.CreateTaskParams{UserID: "ana", Type: "image_to_video", IdempotencyKey: key,
		Request: &workflow.ImageToVideoRequest{ImageURL: url}}
}

// input decodes a task's stored input.
func input(t *testing.T, task *lepus.Task) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(task.Input, &m); err != nil {
		t.Fatalf("task input %s: %v", task.Input, err)
	}
	return m
}

// An image URL input is fetched and checked before anything is paid; what
// is stored is the URL the provider will fetch.
func TestService_CreateTask_ImageURL(t *testing.T) {
	t.Parallel()
	photo := mediatest.EncodePNG(t, mediatest.Photo(400, 400))
	for _, tc := range []struct {
		name string
		url  func(t *testing.T, b *apptest.Bundle) string
		// want checks the stored image_url; nil: the input is refused.
		want func(t *testing.T, b *apptest.Bundle, got string, notes []string)
		msg  string // part of the refusal's message
	}{
		{name: "OKTrimmed", url: func(t *testing.T, b *apptest.Bundle) string { return "  " + b.ServeFile(photo) + "\n" },
			want: func(t *testing.T, b *apptest.Bundle, got string, notes []string) {
				if strings.TrimSpace(got) != got || !strings.HasSuffix(got, "/file/0") || len(notes) != 0 {
					t.Fatalf("image_url %q notes %q, want the URL trimmed and no note", got, notes)
				}
			}},
		{name: "OKWebPConverted", url: func(t *testing.T, b *apptest.Bundle) string {
			return b.ServeFile(mediatest.SolidWebP(400, 320, color.RGBA{200, 30, 30, 255}))
		}, want: func(t *testing.T, b *apptest.Bundle, got string, notes []string) {
			id, ok := strings.CutPrefix(got, apptest.PublicURL+"/uploads/")
			if !ok || len(notes) != 1 || !strings.HasPrefix(notes[0], "image_url: WebP converted to PNG") {
				t.Fatalf("image_url %q notes %q, want an upload URL and a note", got, notes)
			}
			up, err := b.Store.UploadGet(context.Background(), id)
			if err != nil || up.UserID != "ana" || up.Format != "png" || up.Width != 400 || up.Height != 320 {
				t.Fatalf("the converted upload %+v (%v), want ana's 400x320 PNG", up, err)
			}
		}},
		{name: "OKOwnUpload", url: func(t *testing.T, b *apptest.Bundle) string { return b.Service.UploadURL(upload(t, b, photo).ID) },
			want: func(t *testing.T, b *apptest.Bundle, got string, notes []string) {
				if !strings.HasPrefix(got, apptest.PublicURL+"/uploads/upl_") || len(notes) != 0 {
					t.Fatalf("image_url %q notes %q, want the upload URL as given", got, notes)
				}
			}},
		{name: "ErrScheme", url: func(*testing.T, *apptest.Bundle) string { return "ftp://example.com/a.png" }, msg: "http(s)"},
		{name: "ErrMissing", url: func(_ *testing.T, b *apptest.Bundle) string { return b.MissingURL() }, msg: "could not fetch"},
		{name: "ErrNotImage", url: func(t *testing.T, b *apptest.Bundle) string { return b.ServeFile([]byte("<html>not an image</html>")) }},
		{name: "ErrTooSmall", url: func(t *testing.T, b *apptest.Bundle) string {
			return b.ServeFile(mediatest.EncodePNG(t, mediatest.Photo(200, 200)))
		}},
		{name: "ErrTruncated", url: func(t *testing.T, b *apptest.Bundle) string { return b.ServeFile(photo[:len(photo)/2]) }},
		{name: "ErrUploadMissing", url: func(t *testing.T, b *apptest.Bundle) string { return b.Service.UploadURL("upl_nope") }, msg: "upl_nope not found"},
		{name: "ErrUploadNotImage", url: func(t *testing.T, b *apptest.Bundle) string {
			return b.Service.UploadURL(upload(t, b, synth.SineWAV(3, 16000)).ID)
		},
			msg: "not an image"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := apptest.New(t)
			task, _, err := b.Service.CreateTask(context.Background(), imageToVideo("", tc.url(t, b)))
			if tc.want == nil {
				le := wantError(t, err, lepus.EInvalid, "body.image_url")
				if !strings.Contains(le.Message, tc.msg) {
					t.Fatalf("message %q, want it to say %q", le.Message, tc.msg)
				}
				if bal := b.Balance(t, "ana"); bal != apptest.Grant {
					t.Fatalf("balance %d after a refused input, want %d", bal, apptest.Grant)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got, _ := input(t, task)["image_url"].(string)
			tc.want(t, b, got, task.Notes)
		})
	}
}

// The idempotency hash covers the request as sent, so a replay of a
// request whose WebP input was rewritten is still a replay.
func TestService_CreateTask_WebPReplay(t *testing.T) {
	t.Parallel()
	b := apptest.New(t)
	url := b.ServeFile(mediatest.SolidWebP(400, 400, color.RGBA{0, 0, 200, 255}))
	first, _, err := b.Service.CreateTask(context.Background(), imageToVideo("k1", url))
	if err != nil {
		t.Fatal(err)
	}
	again, created, err := b.Service.CreateTask(context.Background(), imageToVideo("k1", url))
	if err != nil || created || again.ID != first.ID {
		t.Fatalf("replay: %v created %v err %v, want task %s", again, created, err, first.ID)
	}
}

// An input that must show a face is refused without one, fetched or uploaded.
func TestService_CreateTask_NeedFace(t *testing.T) {
	t.Parallel()
	portrait := sample.PortraitPNG(sample.Palettes[1], 400, 500)
	noFace := mediatest.EncodePNG(t, mediatest.Photo(400, 500))
	for _, tc := range []struct {
		name string
		face func(t *testing.T, b *apptest.Bundle) string
		ok   bool
	}{
		{"OKFetched", func(t *testing.T, b *apptest.Bundle) string { return b.ServeFile(portrait) }, true},
		{"OKUpload", func(t *testing.T, b *apptest.Bundle) string { return b.Service.UploadURL(upload(t, b, portrait).ID) }, true},
		{"ErrFetched", func(t *testing.T, b *apptest.Bundle) string { return b.ServeFile(noFace) }, false},
		{"ErrUpload", func(t *testing.T, b *apptest.Bundle) string { return b.Service.UploadURL(upload(t, b, noFace).ID) }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := apptest.New(t)
			_, _, err := b.Service.CreateTask(context.Background(), app.CreateTaskParams{UserID: "ana", Type: "face_swap",
				Request: &workflow.FaceSwapRequest{SourceImageURL: b.ServeFile(noFace), FaceImageURL: tc.face(t, b)}})
			if tc.ok {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if le := wantError(t, err, lepus.EInvalid, "body.face_image_url"); !strings.Contains(le.Message, "no face") {
				t.Fatalf("message %q", le.Message)
			}
		})
	}
}

// Video and audio inputs are measured (fetched or from their upload's
// record) and the measures stored, whatever the client sent for them.
func TestService_CreateTask_MeasuredMedia(t *testing.T) {
	t.Parallel()
	video := mp4(t, 640, 512, 3)
	for _, tc := range []struct {
		name         string
		audio, video func(t *testing.T, b *apptest.Bundle) string
		field, msg   string // the refusal; "" for none
	}{
		{name: "OKFetchedAudioUploadedVideo",
			audio: func(t *testing.T, b *apptest.Bundle) string { return b.ServeFile(synth.SineWAV(3, 16000)) },
			video: func(t *testing.T, b *apptest.Bundle) string { return b.Service.UploadURL(upload(t, b, video).ID) }},
		{name: "OKUploadedAudioFetchedVideo",
			audio: func(t *testing.T, b *apptest.Bundle) string {
				return b.Service.UploadURL(upload(t, b, synth.SineWAV(3, 16000)).ID)
			},
			video: func(t *testing.T, b *apptest.Bundle) string { return b.ServeFile(video) }},
		{name: "ErrAudioShort",
			audio: func(t *testing.T, b *apptest.Bundle) string { return b.ServeFile(synth.SineWAV(1, 16000)) },
			video: func(t *testing.T, b *apptest.Bundle) string { return b.ServeFile(video) }, field: "body.audio_url", msg: "1.0 s long"},
		{name: "ErrAudioIsImage",
			audio: func(t *testing.T, b *apptest.Bundle) string {
				return b.ServeFile(mediatest.EncodePNG(t, mediatest.Photo(400, 400)))
			},
			video: func(t *testing.T, b *apptest.Bundle) string { return b.ServeFile(video) }, field: "body.audio_url", msg: "not audio"},
		{name: "ErrAudioUploadMissing",
			audio: func(t *testing.T, b *apptest.Bundle) string { return b.Service.UploadURL("upl_nope") },
			video: func(t *testing.T, b *apptest.Bundle) string { return b.ServeFile(video) }, field: "body.audio_url", msg: "not found"},
		{name: "ErrVideoSmall",
			audio: func(t *testing.T, b *apptest.Bundle) string { return b.ServeFile(synth.SineWAV(3, 16000)) },
			video: func(t *testing.T, b *apptest.Bundle) string { return b.ServeFile(mp4(t, 320, 240, 3)) }, field: "body.video_url", msg: "320x240"},
		{name: "ErrVideoGarbage",
			audio: func(t *testing.T, b *apptest.Bundle) string { return b.ServeFile(synth.SineWAV(3, 16000)) },
			video: func(t *testing.T, b *apptest.Bundle) string { return b.ServeFile([]byte("not a video at all")) }, field: "body.video_url", msg: "not a supported"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := apptest.New(t)
			task, _, err := b.Service.CreateTask(context.Background(), app.CreateTaskParams{UserID: "ana", Type: "lip_sync",
				Request: &workflow.LipSyncRequest{AudioURL: tc.audio(t, b), VideoURL: tc.video(t, b), AudioMS: 99, VideoMS: 99}})
			if tc.field != "" {
				if le := wantError(t, err, lepus.EInvalid, tc.field); !strings.Contains(le.Message, tc.msg) {
					t.Fatalf("message %q, want it to say %q", le.Message, tc.msg)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			in := input(t, task)
			for _, k := range []string{"audio_ms", "video_ms"} {
				if ms, _ := in[k].(float64); ms < 2900 || ms > 3100 {
					t.Errorf("%s = %v, want about 3000 (measured, not the 99 sent)", k, in[k])
				}
			}
		})
	}
}
