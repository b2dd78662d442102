package sandbox_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"net/http"
	"testing"

	"github.com/lepus-ai/lepus/internal/media"
	"github.com/lepus-ai/lepus/internal/provider/kling"
	"github.com/lepus-ai/lepus/internal/sandbox"
)

const faceSwapPrompt = "Keep the scene of <<<image_1>>> completely unchanged. Replace ONLY the face of the person in <<<image_1>>> with the face from <<<image_2>>>."

func TestSandbox_OmniImage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		req        kling.OmniImageRequest
		wantImages int
		wantSide   int // long side of every output
	}{
		{
			name: "FaceSwap1k",
			req: kling.OmniImageRequest{ModelName: kling.ModelImageO1, Prompt: faceSwapPrompt, Resolution: "1k", N: 1,
				ImageList: []kling.OmniImage{{Image: "SRC:1200x1600.jpg"}, {Image: "SRC:400x400.png"}}},
			wantImages: 1, wantSide: 1024,
		},
		{
			name: "Restyle2kNeverLargerThanSource",
			req: kling.OmniImageRequest{Prompt: "Make <<<image_1>>> look like a watercolour", Resolution: "2k", N: 3,
				ImageList: []kling.OmniImage{{Image: "SRC:800x600.png"}}},
			wantImages: 3, wantSide: 800,
		},
		{
			name: "Base64Input",
			req: kling.OmniImageRequest{Prompt: "Brighten <<<image_1>>>",
				ImageList: []kling.OmniImage{{Image: "B64:640x480"}}},
			wantImages: 1, wantSide: 640,
		},
		{
			name:       "TextOnly",
			req:        kling.OmniImageRequest{Prompt: "a red fox in snow", AspectRatio: "16:9"},
			wantImages: 1, wantSide: 1024,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, nil)
			for i, im := range tt.req.ImageList {
				tt.req.ImageList[i].Image = b.resolve(im.Image)
			}
			tt.req.ExternalTaskID = "ext-" + tt.name
			created, err := b.client.Create(context.Background(), kling.PathOmniImage, tt.req)
			if err != nil {
				t.Fatalf("Create: %v", err)
			}
			if created.TaskStatus != kling.StatusSubmitted || created.TaskID == "" || created.TaskInfo.ExternalTaskID != tt.req.ExternalTaskID {
				t.Errorf("created = %+v", created)
			}
			task := b.wait(t, kling.PathOmniImage, created.TaskID)
			if task.TaskStatus != kling.StatusSucceed {
				t.Fatalf("status = %s (%s)", task.TaskStatus, task.TaskStatusMsg)
			}
			if len(task.TaskResult.Images) != tt.wantImages {
				t.Fatalf("images = %+v", task.TaskResult.Images)
			}
			for i, im := range task.TaskResult.Images {
				if im.Index != i {
					t.Errorf("index = %d, want %d", im.Index, i)
				}
				body := download(t, im.URL, "image/png")
				cfg, format, err := image.DecodeConfig(bytes.NewReader(body))
				if err != nil || format != "png" {
					t.Fatalf("result %d: %v %s", i, err, format)
				}
				if got := max(cfg.Width, cfg.Height); got != tt.wantSide {
					t.Errorf("result %d long side = %d, want %d", i, got, tt.wantSide)
				}
			}
			if n := b.sb.Submissions(tt.req.ExternalTaskID); n != 1 {
				t.Errorf("Submissions = %d, want 1", n)
			}
		})
	}
}

// resolve turns "SRC:WxH.ext" into a test image URL and "B64:WxH" into base64.
func (b *bundle) resolve(s string) string {
	var w, h int
	switch {
	case len(s) > 4 && s[:4] == "SRC:":
		return b.images.URL + "/" + s[4:]
	case len(s) > 4 && s[:4] == "B64:":
		_, _ = fmt.Sscanf(s[4:], "%dx%d", &w, &h)
		return base64Image(w, h)
	}
	return s
}

func TestSandbox_OmniVideo(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	req := kling.OmniVideoRequest{
		ModelName: kling.ModelVideoO1, Prompt: "The person makes subtle natural movements.",
		ImageList: []kling.OmniVideoImage{{ImageURL: b.img(330, 440, "png"), Type: kling.FrameFirst}},
		Mode:      "std", Duration: "5", ExternalTaskID: "vid-1",
	}
	created, err := b.client.Create(context.Background(), kling.PathOmniVideo, req)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	task := b.wait(t, kling.PathOmniVideo, "vid-1") // query by external id
	if task.TaskID != created.TaskID || task.TaskStatus != kling.StatusSucceed {
		t.Fatalf("task = %+v", task)
	}
	if len(task.TaskResult.Videos) != 1 {
		t.Fatalf("videos = %+v", task.TaskResult.Videos)
	}
	v := task.TaskResult.Videos[0]
	if v.ID == "" || v.Duration != "5" {
		t.Errorf("video = %+v", v)
	}
	body := download(t, v.URL, "video/mp4")
	secs, err := media.MP4Duration(bytes.NewReader(body))
	if err != nil || secs < 4.9 || secs > 5.1 {
		t.Errorf("mp4 duration = %v, %v; want 5", secs, err)
	}
}

func TestSandbox_Callbacks(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	sink := newCallbackSink(t)
	_, err := b.client.Create(context.Background(), kling.PathOmniImage, kling.OmniImageRequest{
		Prompt: "a cat", CallbackURL: sink.srv.URL + "/cb/token", ExternalTaskID: "cb-1",
	})
	if err != nil {
		t.Fatal(err)
	}
	got := sink.waitFor(t, 2)
	if got[0].TaskStatus != kling.StatusProcessing || got[1].TaskStatus != kling.StatusSucceed {
		t.Errorf("callback statuses = %s, %s", got[0].TaskStatus, got[1].TaskStatus)
	}
	last := got[1]
	if last.TaskInfo.ExternalTaskID != "cb-1" || len(last.TaskResult.Images) != 1 {
		t.Errorf("final callback = %+v", last)
	}
}

func TestSandbox_FailTask(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	b.sb.FailTask("early", "risk control: face not allowed") // before the create
	for _, ext := range []string{"early", "late"} {
		if _, err := b.client.Create(context.Background(), kling.PathOmniImage, kling.OmniImageRequest{Prompt: "x", ExternalTaskID: ext}); err != nil {
			t.Fatal(err)
		}
	}
	b.sb.FailTask("late", "internal failure") // while running
	for ext, msg := range map[string]string{"early": "risk control: face not allowed", "late": "internal failure"} {
		task := b.wait(t, kling.PathOmniImage, ext)
		if task.TaskStatus != kling.StatusFailed || task.TaskStatusMsg != msg {
			t.Errorf("%s: status %s msg %q", ext, task.TaskStatus, task.TaskStatusMsg)
		}
		if len(task.TaskResult.Images) != 0 {
			t.Errorf("%s: failed task has results", ext)
		}
	}
}

func TestSandbox_ListAndStats(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	ctx := context.Background()
	for _, ext := range []string{"l-1", "l-2", "l-3"} {
		if _, err := b.client.Create(ctx, kling.PathOmniImage, kling.OmniImageRequest{Prompt: "x", ExternalTaskID: ext}); err != nil {
			t.Fatal(err)
		}
	}
	page, err := b.client.List(ctx, kling.PathOmniImage, 1, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(page) != 2 || page[0].TaskInfo.ExternalTaskID != "l-3" || page[1].TaskInfo.ExternalTaskID != "l-2" {
		t.Errorf("page 1 = %+v", page)
	}
	page, err = b.client.List(ctx, kling.PathOmniImage, 2, 2)
	if err != nil || len(page) != 1 || page[0].TaskInfo.ExternalTaskID != "l-1" {
		t.Errorf("page 2 = %+v, %v", page, err)
	}
	if other, err := b.client.List(ctx, kling.PathOmniVideo, 1, 30); err != nil || len(other) != 0 {
		t.Errorf("omni-video list = %+v, %v; want empty", other, err)
	}

	resp, err := http.Get(b.srv.URL + "/sandbox/stats")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var st sandbox.Stats
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		t.Fatal(err)
	}
	if st.Accepted != 3 || st.Tasks != 3 || st.Submissions["l-2"] != 1 || st.Attempts != 3 {
		t.Errorf("stats = %+v", st)
	}
}
