package sandbox_test

import (
	"bytes"
	"image"
	"strconv"
	"testing"

	"github.com/lepus-ai/lepus/internal/media"
	"github.com/lepus-ai/lepus/internal/provider/kling"
)

func ptr[T any](v T) *T { return &v }

func TestSandbox_ImageGeneration(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name           string
		req            kling.ImageGenerationRequest
		wantW, wantH   int
		wantN          int
		restyledSource bool
	}{
		{"TextToImage2k", kling.ImageGenerationRequest{ModelName: kling.ModelV2_1, Prompt: "a red fox in snow", Resolution: "2k", AspectRatio: "3:4"}, 1536, 2048, 1, false},
		{"Variations", kling.ImageGenerationRequest{ModelName: kling.ModelV2_1, Prompt: "a red fox in snow", N: 2, AspectRatio: "1:1"}, 1024, 1024, 2, false},
		{"TextToImageDefaults", kling.ImageGenerationRequest{Prompt: "a lighthouse"}, 1024, 576, 1, false},
		{"SubjectReference", kling.ImageGenerationRequest{ModelName: kling.ModelV1_5, Prompt: "same person, profile", Image: "SRC:600x800.jpg",
			ImageReference: kling.ReferenceSubject, ImageFidelity: ptr(0.75), HumanFidelity: ptr(0.8), N: 1}, 600, 800, 1, true},
		{"PlainReferenceV21", kling.ImageGenerationRequest{ModelName: kling.ModelV2_1, Prompt: "watercolour", Image: "SRC:1600x1200.png"}, 1024, 768, 1, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, nil)
			tt.req.Image = b.resolve(tt.req.Image)
			task := b.succeed(t, kling.PathImageGenerations, tt.req)
			if len(task.TaskResult.Images) != tt.wantN || task.FinalUnitDeduction != strconv.Itoa(tt.wantN) {
				t.Fatalf("images = %+v, deduction %s", task.TaskResult.Images, task.FinalUnitDeduction)
			}
			var first []byte
			for i, im := range task.TaskResult.Images {
				body := download(t, im.URL, "image/png")
				cfg, format, err := image.DecodeConfig(bytes.NewReader(body))
				if err != nil || format != "png" || cfg.Width != tt.wantW || cfg.Height != tt.wantH {
					t.Errorf("image %d: %dx%d %s %v, want %dx%d png", i, cfg.Width, cfg.Height, format, err, tt.wantW, tt.wantH)
				}
				if i == 0 {
					first = body
				} else if bytes.Equal(first, body) {
					t.Errorf("image %d equals image 0: variations must differ", i)
				}
			}
		})
	}
}

func TestSandbox_Text2Video(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	task := b.succeed(t, kling.PathText2Video, kling.Text2VideoRequest{
		ModelName: kling.ModelV2_6, Prompt: "waves at dusk", Mode: kling.ModeStd, AspectRatio: "9:16", Duration: "5",
	})
	_, body := b.video(t, task, 5)
	w, h, err := media.MP4VideoSize(bytes.NewReader(body))
	if err != nil || w >= h {
		t.Errorf("9:16 video is %dx%d (%v), want portrait", w, h, err)
	}
}

func TestSandbox_Image2Video(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	task := b.succeed(t, kling.PathImage2Video, kling.Image2VideoRequest{
		ModelName: kling.ModelV2_6, Image: b.img(640, 480, "jpg"), Prompt: "gentle motion", Duration: "10",
	})
	_, body := b.video(t, task, 10)
	if w, h, err := media.MP4VideoSize(bytes.NewReader(body)); err != nil || w != 640 || h != 480 {
		t.Errorf("video is %dx%d (%v), want the image's 640x480", w, h, err)
	}
	tail := b.succeed(t, kling.PathImage2Video, kling.Image2VideoRequest{ModelName: kling.ModelV1_6, ImageTail: base64Image(400, 400), CfgScale: ptr(0.5)})
	b.video(t, tail, 5)
}

func TestSandbox_MultiImage2Video(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	task := b.succeed(t, kling.PathMultiImage2Video, kling.MultiImage2VideoRequest{
		ImageList: []kling.MultiImage{{Image: b.img(640, 640, "png")}, {Image: b.img(480, 640, "jpg")}, {Image: base64Image(500, 500)}},
		Prompt:    "the three of them walk together", Duration: "5", AspectRatio: "1:1",
	})
	b.video(t, task, 5)
}

func TestSandbox_MotionControl(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	motion := b.host("dance.mp4", mp4Of(t, gradient(640, 640), 4, 640))
	task := b.succeed(t, kling.PathMotionControl, kling.MotionControlRequest{
		ModelName: kling.ModelV2_6, ImageURL: b.img(480, 640, "jpg"), VideoURL: motion,
		CharacterOrientation: kling.OrientationImage, Mode: kling.ModePro, KeepOriginalSound: kling.KeepOriginalSound,
	})
	b.video(t, task, 4) // as long as the motion video
	long := b.host("long.mp4", mp4Of(t, gradient(640, 640), 12.5, 640))
	task = b.succeed(t, kling.PathMotionControl, kling.MotionControlRequest{
		ImageURL: base64Image(400, 400), VideoURL: long, CharacterOrientation: kling.OrientationVideo, Mode: kling.ModeStd,
	})
	b.video(t, task, 12.5)
}

func TestSandbox_VideoExtend(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	parent := b.succeed(t, kling.PathImage2Video, kling.Image2VideoRequest{ModelName: kling.ModelV1_6, Image: b.img(640, 480, "png")})
	pv, _ := b.video(t, parent, 5)
	ext := b.succeed(t, kling.PathVideoExtend, kling.VideoExtendRequest{VideoID: pv.ID, Prompt: "keep walking", CfgScale: ptr(0.5)})
	// Extend the extension before anything downloaded it: rendering the
	// second renders the first through the cache.
	again := b.succeed(t, kling.PathVideoExtend, kling.VideoExtendRequest{VideoID: ext.TaskResult.Videos[0].ID})
	b.video(t, again, 15)

	v, body := b.video(t, ext, 10)
	if v.ID == pv.ID || v.ID == "" {
		t.Errorf("extended video id %q, want a new id", v.ID)
	}
	pp := ext.TaskInfo.ParentVideo
	if pp == nil || pp.ID != pv.ID || pp.URL != pv.URL || pp.Duration != "5" {
		t.Errorf("parent_video = %+v, want %+v", pp, pv)
	}
	if w, h, err := media.MP4VideoSize(bytes.NewReader(body)); err != nil || w != 640 || h != 480 {
		t.Errorf("extension is %dx%d (%v), want the parent's 640x480", w, h, err)
	}
	if ap := again.TaskInfo.ParentVideo; ap == nil || ap.ID != v.ID || ap.Duration != "10" {
		t.Errorf("second parent_video = %+v", ap)
	}
}
