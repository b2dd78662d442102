package sandbox_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"image"
	"testing"

	"github.com/lepus-ai/lepus/internal/provider/kling"
)

func TestSandbox_IdentifyFace(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	ctx := context.Background()

	t.Run("FaceByURL", func(t *testing.T) {
		t.Parallel()
		url := b.host("talk.mp4", mp4Of(t, portrait(640, 640), 4.2, 640))
		res, err := b.client.IdentifyFace(ctx, kling.IdentifyFaceRequest{VideoURL: url})
		if err != nil {
			t.Fatal(err)
		}
		if res.SessionID == "" || len(res.FaceData) != 1 {
			t.Fatalf("result = %+v, want one face", res)
		}
		f := res.FaceData[0]
		if f.FaceID != "0" || f.StartTime != 0 || f.EndTime != 4200 {
			t.Errorf("face = %+v, want id 0 over 0–4200 ms", f)
		}
		crop := download(t, f.FaceImage, "image/png")
		cfg, format, err := image.DecodeConfig(bytes.NewReader(crop))
		if err != nil || format != "png" || cfg.Width < 50 || cfg.Width >= 640 {
			t.Errorf("face image %dx%d %s %v, want a PNG crop of the face", cfg.Width, cfg.Height, format, err)
		}
	})
	t.Run("NoFace", func(t *testing.T) {
		t.Parallel()
		url := b.host("landscape.mp4", mp4Of(t, gradient(640, 640), 3, 640))
		res, err := b.client.IdentifyFace(ctx, kling.IdentifyFaceRequest{VideoURL: url})
		if err != nil {
			t.Fatal(err)
		}
		if res.SessionID == "" || res.FaceData == nil || len(res.FaceData) != 0 {
			t.Errorf("result = %+v, want a session with an empty face_data", res)
		}
	})
	t.Run("UndecodableFrame", func(t *testing.T) {
		t.Parallel()
		// A real encoder's video cannot be decoded here: the sandbox
		// assumes one face over the whole video.
		url := b.host("camera.mp4", undecodable(t, mp4Of(t, gradient(640, 640), 3, 640)))
		res, err := b.client.IdentifyFace(ctx, kling.IdentifyFaceRequest{VideoURL: url})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.FaceData) != 1 || res.FaceData[0].StartTime != 0 || res.FaceData[0].EndTime != 3000 {
			t.Fatalf("result = %+v, want one face over 0–3000 ms", res)
		}
		download(t, res.FaceData[0].FaceImage, "image/png")
	})
	t.Run("ByVideoID", func(t *testing.T) {
		t.Parallel()
		task := b.succeed(t, kling.PathImage2Video, kling.Image2VideoRequest{ModelName: kling.ModelV2_6, Image: b.host("p.png", mustPNG(t, portrait(480, 640)))})
		res, err := b.client.IdentifyFace(ctx, kling.IdentifyFaceRequest{VideoID: task.TaskResult.Videos[0].ID})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.FaceData) != 1 || res.FaceData[0].EndTime != 5000 {
			t.Errorf("result = %+v, want one face over 5 s", res)
		}
	})
}

// TestSandbox_LipSync runs the contract's two steps: identify-face, then
// advanced-lip-sync on the session, and checks the result is the video with
// the audio laid on it.
func TestSandbox_LipSync(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	video := b.host("talk.mp4", mp4Of(t, portrait(640, 640), 4, 640))
	res, err := b.client.IdentifyFace(context.Background(), kling.IdentifyFaceRequest{VideoURL: video})
	if err != nil || len(res.FaceData) != 1 {
		t.Fatalf("identify-face: %+v, %v", res, err)
	}
	for _, tt := range []struct {
		name, sound string
	}{
		{"URL", b.host("voice.wav", wav(3, 8000, 1))},
		{"Base64", base64.StdEncoding.EncodeToString(wav(2.5, 8000, 1))},
	} {
		t.Run(tt.name, func(t *testing.T) {
			task := b.succeed(t, kling.PathAdvancedLipSync, kling.AdvancedLipSyncRequest{
				SessionID: res.SessionID,
				FaceChoose: []kling.FaceChoose{{
					FaceID: res.FaceData[0].FaceID, SoundFile: tt.sound,
					SoundStartTime: 0, SoundEndTime: 2000, SoundInsertTime: 1000,
					SoundVolume: ptr(1.0), OriginalAudioVolume: ptr(1.0),
				}},
				ExternalTaskID: "ls-" + tt.name,
			})
			_, body := b.video(t, task, 4) // as long as the input video
			if n := mp4Tracks(t, body); n != 2 {
				t.Errorf("result has %d tracks, want video + audio", n)
			}
			p := task.TaskInfo.ParentVideo
			if p == nil || p.URL != video || p.Duration != "4" {
				t.Errorf("parent_video = %+v", p)
			}
		})
	}
}
