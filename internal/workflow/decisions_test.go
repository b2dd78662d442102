package workflow

import (
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/lepus-ai/lepus/internal/lepus"
)

// build runs a workflow's Plan and Build like the engine does, for the
// stage named stage, and returns the JSON sent and the task's notes.
func build(t *testing.T, typ string, req Request, stage string, prepare func(*lepus.Task)) (map[string]any, []string) {
	t.Helper()
	return buildMeasured(t, typ, req, nil, stage, prepare)
}

// buildMeasured is build with the fields Check would measure set by measure
// (after Normalize, which clears them).
func buildMeasured(t *testing.T, typ string, req Request, measure func(), stage string, prepare func(*lepus.Task)) (map[string]any, []string) {
	t.Helper()
	def := NewRegistry(0).Get(typ)
	if err := req.Normalize(); err != nil {
		t.Fatalf("normalize: %v", err)
	}
	if measure != nil {
		measure()
	}
	in, _ := json.Marshal(req)
	task := &lepus.Task{ID: "tsk_1", Type: typ, Input: in, Stages: def.Plan(req)}
	if prepare != nil {
		prepare(task)
	}
	st := task.StageByName(stage)
	if st == nil {
		t.Fatalf("%s has no stage %q: %+v", typ, stage, task.Stages)
	}
	st.ExternalID = "tsk_1-" + stage
	body, err := def.Build(task, st, Env{})
	if err != nil {
		t.Fatalf("build: %v", err)
	}
	return mustJSON(t, body), task.Notes
}

func requireKeys(t *testing.T, got map[string]any, want ...string) {
	t.Helper()
	for _, k := range want {
		if _, ok := got[k]; !ok {
			t.Errorf("request lacks %q: %v", k, got)
		}
	}
}

func forbidKeys(t *testing.T, got map[string]any, bad ...string) {
	t.Helper()
	for _, k := range bad {
		if _, ok := got[k]; ok {
			t.Errorf("request must not send %q: %v", k, got)
		}
	}
}

func hasNote(notes []string, sub string) bool {
	for _, n := range notes {
		if strings.Contains(n, sub) {
			return true
		}
	}
	return false
}

// #3: style and camera_motion are not Kling fields; #4: no cfg_scale on v2.x.
func TestTextToVideo_Contract(t *testing.T) {
	t.Parallel()
	got, notes := build(t, "text_to_video", &TextToVideoRequest{Prompt: "a fox"}, "video", nil)
	want := map[string]any{"model_name": "kling-v2-6", "prompt": "a fox", "mode": "std", "aspect_ratio": "16:9",
		"duration": "5", "external_task_id": "tsk_1-video"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("sent %v, want %v", got, want)
	}
	if !hasNote(notes, "cfg_scale 0.5 not sent") {
		t.Fatalf("notes %v do not say cfg_scale was dropped", notes)
	}
	got, notes = build(t, "text_to_video", &TextToVideoRequest{Prompt: strings.Repeat("a", 3000), ModelName: "kling-v1-6"}, "video", nil)
	if got["cfg_scale"] != 0.5 || len(got["prompt"].(string)) != 2500 || !hasNote(notes, "prompt cut from 3000 to 2500") {
		t.Fatalf("v1-6: cfg %v, prompt %d chars, notes %v", got["cfg_scale"], len(got["prompt"].(string)), notes)
	}
}

func TestImageToVideo_Contract(t *testing.T) {
	t.Parallel()
	got, _ := build(t, "image_to_video", &ImageToVideoRequest{ImageURL: "https://x/a.png"}, "video", nil)
	requireKeys(t, got, "image", "model_name", "duration", "mode")
	forbidKeys(t, got, "aspect_ratio", "cfg_scale", "image_url")
	got, _ = build(t, "image_to_video", &ImageToVideoRequest{ImageURL: "https://x/a.png", ModelName: "kling-v1-6", CfgScale: ptr(0.7)}, "video", nil)
	if got["cfg_scale"] != 0.7 {
		t.Fatalf("kling-v1-6 gets cfg_scale: %v", got)
	}
}

// #5: image_list [{image}], prompt required, no model_name.
func TestMultiImageToVideo_Contract(t *testing.T) {
	t.Parallel()
	got, _ := build(t, "multi_image_to_video", &MultiImageToVideoRequest{ImageURLs: []string{"https://x/1.png", "https://x/2.png"}, Prompt: "walk"}, "video", nil)
	if !reflect.DeepEqual(got["image_list"], []any{map[string]any{"image": "https://x/1.png"}, map[string]any{"image": "https://x/2.png"}}) {
		t.Fatalf("image_list = %v", got["image_list"])
	}
	forbidKeys(t, got, "model_name", "images")
	if err := (&MultiImageToVideoRequest{ImageURLs: []string{"a"}}).Normalize(); lepus.ErrorCode(err) != lepus.EInvalid {
		t.Fatalf("a multi-image video without a prompt: %v", err)
	}
	five := &MultiImageToVideoRequest{ImageURLs: []string{"a", "b", "c", "d", "e"}, Prompt: "p"}
	if err := five.Normalize(); err == nil || !strings.Contains(err.Error(), "image_urls") {
		t.Fatalf("5 images: %v", err)
	}
}

// #6: identify-face, then advanced-lip-sync with session_id and face_choose; no model, mode or face index.
func TestLipSync_Contract(t *testing.T) {
	t.Parallel()
	req := &LipSyncRequest{VideoURL: "https://x/v.mp4", AudioURL: "https://x/a.mp3", FaceIndex: 1}
	measure := func() { req.AudioMS, req.VideoMS = 8000, 10000 }
	got, _ := buildMeasured(t, "lip_sync", req, measure, "faces", nil)
	if !reflect.DeepEqual(got, map[string]any{"video_url": "https://x/v.mp4"}) {
		t.Fatalf("identify-face sent %v", got)
	}
	faces := func(tk *lepus.Task) {
		tk.StageByName("faces").Output = json.RawMessage(`{"session_id":"s1","face_data":[{"face_id":"0","start_time":0,"end_time":10000},{"face_id":"1","start_time":1000,"end_time":6000}]}`)
	}
	got, _ = buildMeasured(t, "lip_sync", req, measure, "video", faces)
	forbidKeys(t, got, "model_name", "mode", "face_index", "stream_id")
	fc := got["face_choose"].([]any)[0].(map[string]any)
	want := map[string]any{"face_id": "1", "sound_file": "https://x/a.mp3", "sound_start_time": float64(0),
		"sound_end_time": float64(5000), "sound_insert_time": float64(1000), "sound_volume": float64(1), "original_audio_volume": float64(1)}
	if got["session_id"] != "s1" || !reflect.DeepEqual(fc, want) {
		t.Fatalf("advanced-lip-sync sent %v", got)
	}

	// No face, or fewer faces than face_index: the task fails with that reason.
	def := NewRegistry(0).Get("lip_sync")
	for _, tc := range []struct{ output, code string }{
		{`{"session_id":"s","face_data":[]}`, "no_face"},
		{`{"session_id":"s","face_data":[{"face_id":"0","start_time":0,"end_time":5000}]}`, "face_index"},
	} {
		in, _ := json.Marshal(req)
		task := &lepus.Task{Type: "lip_sync", Input: in, Stages: def.Plan(req)}
		task.Stages[0].Output = json.RawMessage(tc.output)
		_, err := def.Build(task, &task.Stages[1], Env{})
		f, ok := err.(*Failure)
		if !ok || f.Code != tc.code {
			t.Fatalf("%s: err = %v, want failure %s", tc.output, err, tc.code)
		}
	}
}

// #7: image_url, character_orientation, mode pro, keep_original_sound, no duration.
func TestMotionControl_Contract(t *testing.T) {
	t.Parallel()
	got, _ := build(t, "motion_control", &MotionControlRequest{ImageURL: "https://x/i.png", VideoURL: "https://x/m.mp4", Duration: "5"}, "video", nil)
	want := map[string]any{"model_name": "kling-v2-6", "image_url": "https://x/i.png", "video_url": "https://x/m.mp4",
		"character_orientation": "image", "mode": "pro", "keep_original_sound": "yes", "external_task_id": "tsk_1-video"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("sent %v, want %v", got, want)
	}
}

func TestMotionControl_Check(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		orientation string
		seconds     float64
		ok          bool
	}{{"image", 10, true}, {"image", 12, false}, {"video", 25, true}, {"video", 31, false}, {"video", 2, false}} {
		r := &MotionControlRequest{ImageURL: "i", VideoURL: "v", CharacterOrientation: tc.orientation, Duration: "10"}
		_ = r.Normalize()
		in := &fakeInputs{media: &MediaInput{Kind: "video", Format: "mp4", DurationS: tc.seconds, Width: 720, Height: 1280}}
		notes, err := r.check(context.Background(), in)
		if (err == nil) != tc.ok {
			t.Fatalf("%s %v s: err = %v", tc.orientation, tc.seconds, err)
		}
		if tc.ok && !hasNote(notes, "duration \"10\" ignored") {
			t.Fatalf("notes %v", notes)
		}
	}
}

// #8: no extend_direction; start refused; only v1.x videos under 30 days and 3 minutes.
func TestVideoExtend_Contract(t *testing.T) {
	t.Parallel()
	if err := (&VideoExtendRequest{VideoID: "v", ExtendDirection: "start"}).Normalize(); err == nil || !strings.Contains(err.Error(), "extend_direction") {
		t.Fatalf("start: %v", err)
	}
	now := time.Now()
	for _, tc := range []struct {
		name  string
		asset lepus.Asset
		err   string
	}{
		{"OK", lepus.Asset{ID: "ast_1", ProviderID: "kv1", Model: "kling-v1-6", DurationS: 10, CreatedAt: now}, ""},
		{"V26", lepus.Asset{ID: "ast_1", ProviderID: "kv1", Model: "kling-v2-6", DurationS: 5, CreatedAt: now}, "kling-v2-6"},
		{"Old", lepus.Asset{ID: "ast_1", ProviderID: "kv1", Model: "kling-v1", DurationS: 5, CreatedAt: now.Add(-31 * 24 * time.Hour)}, "30 days"},
		{"Long", lepus.Asset{ID: "ast_1", ProviderID: "kv1", Model: "kling-v1-5", DurationS: 177, CreatedAt: now}, "3-minute"},
	} {
		r := &VideoExtendRequest{VideoID: "ast_1"}
		_ = r.Normalize()
		a := tc.asset
		_, err := r.check(context.Background(), "u", &fakeInputs{asset: &a})
		if tc.err == "" && err != nil || tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
			t.Fatalf("%s: err = %v, want %q", tc.name, err, tc.err)
		}
	}
	req := &VideoExtendRequest{VideoID: "ast_1", NegativePrompt: "blur"}
	got, _ := buildMeasured(t, "video_extend", req, func() { req.KlingVideoID, req.SourceModel = "kv1", "kling-v1-6" }, "video", nil)
	forbidKeys(t, got, "extend_direction", "model_name")
	if got["video_id"] != "kv1" || got["cfg_scale"] != 0.5 || got["negative_prompt"] != "blur" {
		t.Fatalf("sent %v", got)
	}
	got, notes := buildMeasured(t, "video_extend", req, func() { req.KlingVideoID, req.SourceModel = "kv1", "kling-v1" }, "video", nil)
	forbidKeys(t, got, "cfg_scale", "negative_prompt")
	if !hasNote(notes, "kling-v1") {
		t.Fatalf("notes %v", notes)
	}
}

// #9: a subject/face reference uses kling-v1-5; human_fidelity only with
// subject; a plain reference uses kling-v2-1; negative_prompt never with an image.
func TestImageGeneration_Contract(t *testing.T) {
	t.Parallel()
	got, _ := build(t, "image_generation", &ImageGenerationRequest{Prompt: "p", NegativePrompt: "n", AspectRatio: "1:1", N: 2}, "image", nil)
	want := map[string]any{"model_name": "kling-v2-1", "prompt": "p", "negative_prompt": "n", "aspect_ratio": "1:1",
		"resolution": "1k", "n": float64(2), "external_task_id": "tsk_1-image"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("text-to-image sent %v", got)
	}
	got, notes := build(t, "image_generation", &ImageGenerationRequest{Prompt: "p", NegativePrompt: "n", ImageURL: "https://x/r.png", ImageReference: "subject"}, "image", nil)
	if got["model_name"] != "kling-v1-5" || got["image_reference"] != "subject" || got["human_fidelity"] != 0.45 || got["image_fidelity"] != 0.5 {
		t.Fatalf("subject reference sent %v", got)
	}
	forbidKeys(t, got, "negative_prompt")
	if !hasNote(notes, "negative_prompt not sent") || !hasNote(notes, "kling-v1-5") {
		t.Fatalf("notes %v", notes)
	}
	got, _ = build(t, "image_generation", &ImageGenerationRequest{Prompt: "p", ImageURL: "https://x/r.png", ImageReference: "face"}, "image", nil)
	if got["model_name"] != "kling-v1-5" || got["image_reference"] != "face" {
		t.Fatalf("face reference sent %v", got)
	}
	forbidKeys(t, got, "human_fidelity")
	got, _ = build(t, "image_generation", &ImageGenerationRequest{Prompt: "p", ImageURL: "https://x/r.png", Resolution: "2k"}, "image", nil)
	if got["model_name"] != "kling-v2-1" || got["resolution"] != "1k" {
		t.Fatalf("plain reference sent %v", got)
	}
	forbidKeys(t, got, "image_reference", "image_fidelity", "human_fidelity", "negative_prompt")
	if err := (&ImageGenerationRequest{Prompt: "p", N: 10}).Normalize(); err == nil || !strings.Contains(err.Error(), "body.n") {
		t.Fatalf("n = 10: %v", err)
	}
}

func TestImageGeneration_Enhance(t *testing.T) {
	t.Parallel()
	req := &ImageGenerationRequest{Prompt: "a cat", EnhancePrompt: true}
	got, _ := build(t, "image_generation", req, StageEnhance, nil)
	if got["prompt"] != "a cat" {
		t.Fatalf("enhance request %v", got)
	}
	for _, tc := range []struct{ output, prompt, note string }{
		{`{"prompt":"a fluffy cat, soft light"}`, "a fluffy cat, soft light", "prompt enhanced"},
		{`{"prompt":"a cat","fallback":"llm: http 500"}`, "a cat", "prompt enhancement failed (llm: http 500)"},
	} {
		got, notes := build(t, "image_generation", req, "image", func(tk *lepus.Task) {
			tk.StageByName(StageEnhance).Output = json.RawMessage(tc.output)
		})
		if got["prompt"] != tc.prompt || !hasNote(notes, tc.note) {
			t.Fatalf("%s: sent prompt %v, notes %v", tc.output, got["prompt"], notes)
		}
	}
}

// #1: omni-image at kling-image-o1; references checked against the images.
func TestOmniImage_Contract(t *testing.T) {
	t.Parallel()
	got, _ := build(t, "omni_image", &OmniImageRequest{Prompt: "<<<image_1>>> and <<<image_2>>>", ImageURLs: []string{"https://x/1.png", "https://x/2.png"}}, "image", nil)
	if got["model_name"] != "kling-image-o1" || got["resolution"] != "2k" || got["aspect_ratio"] != "auto" || len(got["image_list"].([]any)) != 2 {
		t.Fatalf("sent %v", got)
	}
	bad := &OmniImageRequest{Prompt: "<<<image_3>>>", ImageURLs: []string{"a", "b"}}
	if err := bad.Normalize(); err == nil || !strings.Contains(err.Error(), "body.prompt") || !strings.Contains(err.Error(), "<<<image_3>>>") {
		t.Fatalf("<<<image_3>>> with two images: %v", err)
	}
	if err := (&OmniImageRequest{Prompt: "p", N: 10}).Normalize(); err == nil {
		t.Fatal("n = 10 accepted")
	}
}

// fakeInputs is a hand-written workflow.Inputs.
type fakeInputs struct {
	media *MediaInput
	asset *lepus.Asset
}

func (f *fakeInputs) Media(context.Context, string, string, int64) (*MediaInput, error) {
	return f.media, nil
}

func (f *fakeInputs) VideoAsset(context.Context, string, string) (*lepus.Asset, error) {
	if f.asset == nil {
		return nil, lepus.Errorf(lepus.ENotFound, "no asset")
	}
	return f.asset, nil
}

func (f *fakeInputs) Now() time.Time { return time.Now() }

func (f *fakeInputs) Avatar(context.Context, string, string) (*AvatarRefs, error) {
	return nil, lepus.Errorf(lepus.ENotFound, "no avatar")
}

var _ Inputs = (*fakeInputs)(nil)

// Measured and resolved fields are never taken from the client.
func TestHiddenFieldsCleared(t *testing.T) {
	t.Parallel()
	ls := &LipSyncRequest{VideoURL: "v", AudioURL: "a", VideoID: "someone-elses-video", AudioMS: 1, VideoMS: 1}
	ve := &VideoExtendRequest{VideoID: "v", KlingVideoID: "x", SourceModel: "kling-v1"}
	ig := &ImageGenerationRequest{Prompt: "p", AvatarOptions: []AvatarOption{{Key: "front", URL: "http://evil"}}}
	os := &OutfitShotRequest{GarmentImageURL: "g", PersonURL: "http://evil"}
	mc := &MotionControlRequest{ImageURL: "i", VideoURL: "v", VideoMS: 5}
	for _, r := range []Request{ls, ve, ig, os, mc} {
		if err := r.Normalize(); err != nil {
			t.Fatal(err)
		}
	}
	if ls.VideoID != "" || ls.AudioMS != 0 || ve.KlingVideoID != "" || ve.SourceModel != "" || ig.AvatarOptions != nil || os.PersonURL != "" || mc.VideoMS != 0 {
		t.Fatal("a client-sent measured field survived Normalize")
	}
}
