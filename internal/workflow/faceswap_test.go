package workflow

import (
	"encoding/json"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/lepus-ai/lepus/internal/lepus"
	"github.com/lepus-ai/lepus/internal/provider/kling"
)

func TestFaceSwap_Prompt(t *testing.T) {
	t.Parallel()
	// The template of workflows.md §1, byte for byte.
	want := "Keep the scene, composition, pose, clothing, hairstyle, and background of\n" +
		"<<<image_1>>> completely unchanged. Replace ONLY the face of the person in\n" +
		"<<<image_1>>> with the face from <<<image_2>>>. Maintain consistent lighting,\n" +
		"natural skin texture, realistic facial details, and seamless blending. Preserve\n" +
		"the original head angle, expression intensity, and shadow direction. The result\n" +
		"must look like a real unedited photograph with no artifacts or uncanny valley effect."
	r := &FaceSwapRequest{}
	if got := r.Prompt(); got != want {
		t.Fatalf("default prompt differs:\n%q\nwant\n%q", got, want)
	}
	r.CustomPrompt = "keep the freckles"
	if got := r.Prompt(); got != want+" Additional requirements: keep the freckles" {
		t.Fatalf("custom prompt = %q", got)
	}
}

func TestFaceSwap_CustomPromptLimit(t *testing.T) {
	t.Parallel()
	f, _ := reflect.TypeOf(FaceSwapRequest{}).FieldByName("CustomPrompt")
	if tag := f.Tag.Get("maxLength"); tag != strconv.Itoa(maxCustomPrompt) {
		t.Fatalf("schema maxLength %s, want %d", tag, maxCustomPrompt)
	}
	r := &FaceSwapRequest{CustomPrompt: strings.Repeat("x", maxCustomPrompt)}
	if err := r.Normalize(); err != nil {
		t.Fatalf("longest custom prompt refused: %v", err)
	}
	if n := len(r.Prompt()); n != 2500 {
		t.Fatalf("longest prompt is %d characters, want exactly 2500", n)
	}
	r.CustomPrompt += "x"
	err := r.Normalize()
	var le *lepus.Error
	if !asErr(err, &le) || le.Field != "body.custom_prompt" {
		t.Fatalf("err = %v, want a field error on body.custom_prompt", err)
	}
}

func TestFaceSwap_Build(t *testing.T) {
	t.Parallel()
	def := NewRegistry(0).Get("face_swap")
	req := &FaceSwapRequest{SourceImageURL: "https://x/s.png", FaceImageURL: "https://x/f.png", GenerateVideo: true, VideoDuration: "10"}
	if err := req.Normalize(); err != nil {
		t.Fatal(err)
	}
	in, _ := json.Marshal(req)
	task := &lepus.Task{ID: "tsk_1", Type: "face_swap", Input: in, Stages: def.Plan(req)}
	if len(task.Stages) != 2 || task.Stages[0].Endpoint != kling.PathOmniImage || task.Stages[1].Endpoint != kling.PathOmniVideo {
		t.Fatalf("stages = %+v", task.Stages)
	}
	img := &task.Stages[0]
	img.ExternalID = "tsk_1-image"
	body, err := def.Build(task, img, Env{CallbackURL: "http://lepus/cb"})
	if err != nil {
		t.Fatal(err)
	}
	got := mustJSON(t, body)
	want := map[string]any{
		"model_name": "kling-image-o1", "prompt": FaceSwapPrompt, "resolution": "1k", "n": float64(1),
		"image_list":       []any{map[string]any{"image": "https://x/s.png"}, map[string]any{"image": "https://x/f.png"}},
		"callback_url":     "http://lepus/cb",
		"external_task_id": "tsk_1-image",
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("omni-image request:\n%v\nwant\n%v", got, want)
	}

	img.Results = []lepus.Result{{Kind: lepus.AssetImage, URL: "https://cdn/swapped.png"}}
	vid := &task.Stages[1]
	vid.ExternalID = "tsk_1-video"
	body, err = def.Build(task, vid, Env{})
	if err != nil {
		t.Fatal(err)
	}
	got = mustJSON(t, body)
	want = map[string]any{
		"model_name": "kling-video-o1", "prompt": FaceSwapVideoPrompt, "mode": "std", "duration": "10",
		"image_list":       []any{map[string]any{"image_url": "https://cdn/swapped.png", "type": "first_frame"}},
		"external_task_id": "tsk_1-video",
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("omni-video request:\n%v\nwant\n%v", got, want)
	}
	if c := def.Cost(req, NewRegistry(0).DefaultCosts()); c != 4+20 {
		t.Fatalf("cost = %d", c)
	}
}

func TestFaceSwap_Normalize(t *testing.T) {
	t.Parallel()
	r := &FaceSwapRequest{}
	if err := r.Normalize(); err != nil || r.Resolution != "1k" || r.VideoDuration != "5" {
		t.Fatalf("defaults: %+v %v", r, err)
	}
	for _, tc := range []struct {
		name  string
		req   FaceSwapRequest
		field string
	}{
		{"BadResolution", FaceSwapRequest{Resolution: "4k"}, "body.resolution"},
		{"BadDuration", FaceSwapRequest{VideoDuration: "7"}, "body.video_duration"},
	} {
		err := tc.req.Normalize()
		var le *lepus.Error
		if !asErr(err, &le) || le.Field != tc.field {
			t.Errorf("%s: err = %v, want field %s", tc.name, err, tc.field)
		}
	}
}

func mustJSON(t *testing.T, v any) map[string]any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func asErr(err error, target **lepus.Error) bool {
	e, ok := err.(*lepus.Error)
	if ok {
		*target = e
	}
	return ok
}

func TestRegistry_CheckCosts(t *testing.T) {
	t.Parallel()
	reg := NewRegistry(0)
	if err := reg.CheckCosts(NewRegistry(0).DefaultCosts()); err != nil {
		t.Fatalf("the default cost table misses an entry: %v", err)
	}
	costs := NewRegistry(0).DefaultCosts()
	delete(costs, "lip_sync")
	if err := reg.CheckCosts(costs); err == nil || !strings.Contains(err.Error(), "lip_sync") {
		t.Fatalf("a missing entry must be reported: %v", err)
	}
	for _, typ := range reg.Types() {
		if len(reg.Get(typ).Costs) == 0 {
			t.Errorf("%s names no cost key", typ)
		}
	}
}

func TestRegistry_DefaultCosts(t *testing.T) {
	t.Parallel()
	costs := NewRegistry(0).DefaultCosts()
	// The figures workflows.md §10 gives; the rest are Lepus's own.
	for k, want := range map[string]int{"skin_enhance": 3, "relight": 8, "outfit_swap": 5, "ai_stylist": 5, "outfit_shot": 8, "outfit_shot_4": 24} {
		if costs[k] != want {
			t.Errorf("%s costs %d by default, want %d", k, costs[k], want)
		}
	}
}
