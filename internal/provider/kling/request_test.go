package kling

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
)

func ptr[T any](v T) *T { return &v }

// TestRequestBodies pins the exact JSON of every typed body: set fields are
// sent with Kling's names, unset ones are absent, and fields that may
// legitimately be 0 are sent when set to 0.
func TestRequestBodies(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		body any
		want string
	}{
		{"ImageGenerationText", ImageGenerationRequest{ModelName: ModelV2_1, Prompt: "a fox", NegativePrompt: "blur", Resolution: "2k", N: 4, AspectRatio: "3:4", ExternalTaskID: "e1"},
			`{"model_name":"kling-v2-1","prompt":"a fox","negative_prompt":"blur","resolution":"2k","n":4,"aspect_ratio":"3:4","external_task_id":"e1"}`},
		{"ImageGenerationReference", ImageGenerationRequest{ModelName: ModelV1_5, Prompt: "same person", Image: "https://x/p.png", ImageReference: ReferenceSubject, ImageFidelity: ptr(0.0), HumanFidelity: ptr(0.8), CallbackURL: "https://cb/1", WatermarkInfo: &WatermarkInfo{Enabled: true}},
			`{"model_name":"kling-v1-5","prompt":"same person","image":"https://x/p.png","image_reference":"subject","image_fidelity":0,"human_fidelity":0.8,"watermark_info":{"enabled":true},"callback_url":"https://cb/1"}`},
		{"ImageGenerationEmpty", ImageGenerationRequest{}, `{}`},
		{"Text2Video", Text2VideoRequest{ModelName: ModelV2_6, Prompt: "waves", Mode: ModeStd, AspectRatio: "16:9", Duration: "5", Sound: SoundOff},
			`{"model_name":"kling-v2-6","prompt":"waves","mode":"std","aspect_ratio":"16:9","duration":"5","sound":"off"}`},
		{"Text2VideoCfgZeroAndCamera", Text2VideoRequest{ModelName: ModelV1, Prompt: "p", NegativePrompt: "n", CfgScale: ptr(0.0), CameraControl: &CameraControl{Type: "simple", Config: &CameraConfig{Zoom: -5}}},
			`{"model_name":"kling-v1","prompt":"p","negative_prompt":"n","cfg_scale":0,"camera_control":{"type":"simple","config":{"zoom":-5}}}`},
		{"Image2Video", Image2VideoRequest{ModelName: ModelV1_6, Image: "https://x/a.png", ImageTail: "https://x/b.png", Prompt: "p", CfgScale: ptr(0.5), Mode: ModePro, Duration: "10", ExternalTaskID: "e2"},
			`{"model_name":"kling-v1-6","image":"https://x/a.png","image_tail":"https://x/b.png","prompt":"p","cfg_scale":0.5,"mode":"pro","duration":"10","external_task_id":"e2"}`},
		{"MultiImage2Video", MultiImage2VideoRequest{ImageList: []MultiImage{{Image: "https://x/1.png"}, {Image: "https://x/2.png"}}, Prompt: "p", Duration: "5", AspectRatio: "9:16"},
			`{"image_list":[{"image":"https://x/1.png"},{"image":"https://x/2.png"}],"prompt":"p","duration":"5","aspect_ratio":"9:16"}`},
		{"IdentifyFaceURL", IdentifyFaceRequest{VideoURL: "https://x/v.mp4"}, `{"video_url":"https://x/v.mp4"}`},
		{"IdentifyFaceID", IdentifyFaceRequest{VideoID: "v-1"}, `{"video_id":"v-1"}`},
		{"AdvancedLipSync", AdvancedLipSyncRequest{SessionID: "s-1", FaceChoose: []FaceChoose{{FaceID: "0", SoundFile: "https://x/a.mp3", SoundEndTime: 3000, SoundVolume: ptr(1.0), OriginalAudioVolume: ptr(0.0)}}, ExternalTaskID: "e3"},
			`{"session_id":"s-1","face_choose":[{"face_id":"0","sound_file":"https://x/a.mp3","sound_start_time":0,"sound_end_time":3000,"sound_insert_time":0,"sound_volume":1,"original_audio_volume":0}],"external_task_id":"e3"}`},
		{"MotionControl", MotionControlRequest{ModelName: ModelV2_6, ImageURL: "https://x/p.png", VideoURL: "https://x/m.mp4", CharacterOrientation: OrientationImage, Mode: ModePro, KeepOriginalSound: KeepOriginalSound},
			`{"model_name":"kling-v2-6","image_url":"https://x/p.png","video_url":"https://x/m.mp4","character_orientation":"image","mode":"pro","keep_original_sound":"yes"}`},
		{"VideoExtend", VideoExtendRequest{VideoID: "v-9", Prompt: "keep going", CfgScale: ptr(0.5)},
			`{"video_id":"v-9","prompt":"keep going","cfg_scale":0.5}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := json.Marshal(tt.body)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("body = %s\nwant   %s", got, tt.want)
			}
		})
	}
}

func TestModelRules(t *testing.T) {
	t.Parallel()
	for model, want := range map[string]bool{"": true, ModelV1: true, ModelV1_5: true, ModelV1_6: true, ModelV2_6: false, ModelV2Master: false, ModelV3: false} {
		if got := TakesCfgScale(model); got != want {
			t.Errorf("TakesCfgScale(%q) = %v, want %v", model, got, want)
		}
	}
	for model, want := range map[string]bool{"": false, ModelV1: true, ModelV1_6: true, ModelV2_6: false, ModelVideoO1: false} {
		if got := Extendable(model); got != want {
			t.Errorf("Extendable(%q) = %v, want %v", model, got, want)
		}
	}
}

func TestClient_Call(t *testing.T) {
	t.Parallel()
	t.Run("OK", func(t *testing.T) {
		t.Parallel()
		c := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
			if r.Method != http.MethodPost || r.URL.Path != PathIdentifyFace {
				t.Errorf("got %s %s", r.Method, r.URL.Path)
			}
			checkAuth(t, r, testNow)
			got, _ := io.ReadAll(r.Body)
			if string(got) != `{"video_url":"https://x/v.mp4"}` {
				t.Errorf("body = %s", got)
			}
			writeEnvelope(w, 200, 0, "SUCCEED", map[string]any{
				"session_id": "sess-1", "final_unit_deduction": "0",
				"face_data": []map[string]any{{"face_id": "0", "face_image": "https://cdn/f.png", "start_time": 0, "end_time": 5200}},
			})
		})
		res, err := c.IdentifyFace(context.Background(), IdentifyFaceRequest{VideoURL: "https://x/v.mp4"})
		if err != nil {
			t.Fatalf("IdentifyFace: %v", err)
		}
		want := FaceData{FaceID: "0", FaceImage: "https://cdn/f.png", StartTime: 0, EndTime: 5200}
		if res.SessionID != "sess-1" || res.FinalUnitDeduction != "0" || len(res.FaceData) != 1 || res.FaceData[0] != want {
			t.Errorf("result = %+v", res)
		}
	})
	t.Run("NoFace", func(t *testing.T) {
		t.Parallel()
		c := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
			writeEnvelope(w, 200, 0, "SUCCEED", map[string]any{"session_id": "sess-2", "face_data": []any{}})
		})
		var res IdentifyFaceResult
		if err := c.Call(context.Background(), PathIdentifyFace, IdentifyFaceRequest{VideoID: "v"}, &res); err != nil {
			t.Fatal(err)
		}
		if res.SessionID != "sess-2" || len(res.FaceData) != 0 {
			t.Errorf("result = %+v", res)
		}
	})
	t.Run("NilOut", func(t *testing.T) {
		t.Parallel()
		c := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
			writeEnvelope(w, 200, 0, "SUCCEED", map[string]any{"session_id": "s"})
		})
		if err := c.Call(context.Background(), PathIdentifyFace, IdentifyFaceRequest{VideoID: "v"}, nil); err != nil {
			t.Errorf("Call with nil out: %v", err)
		}
	})
	t.Run("ErrInvalid", func(t *testing.T) {
		t.Parallel()
		c := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
			writeEnvelope(w, 400, 1201, "video duration must be 2-60 s", nil)
		})
		_, err := c.IdentifyFace(context.Background(), IdentifyFaceRequest{VideoURL: "https://x/v.mp4"})
		var apiErr *APIError
		if !errors.As(err, &apiErr) || apiErr.Code != 1201 || apiErr.Path != PathIdentifyFace || Classify(err) != ClassInvalid {
			t.Fatalf("err = %v", err)
		}
		if !strings.Contains(err.Error(), "video duration must be 2-60 s") {
			t.Errorf("err = %q", err)
		}
	})
	t.Run("AuthRetriedOnce", func(t *testing.T) {
		t.Parallel()
		var calls atomic.Int32
		c := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
			if calls.Add(1) == 1 {
				writeEnvelope(w, 401, 1004, "token expired", nil)
				return
			}
			writeEnvelope(w, 200, 0, "SUCCEED", map[string]any{"session_id": "s"})
		})
		if _, err := c.IdentifyFace(context.Background(), IdentifyFaceRequest{VideoID: "v"}); err != nil || calls.Load() != 2 {
			t.Errorf("err %v after %d calls, want success after 2", err, calls.Load())
		}
	})
	t.Run("ErrEncode", func(t *testing.T) {
		t.Parallel()
		c := newTestClient(t, func(w http.ResponseWriter, r *http.Request) { t.Error("request sent") })
		if err := c.Call(context.Background(), PathIdentifyFace, map[string]any{"x": func() {}}, nil); err == nil || !strings.Contains(err.Error(), "encode body") {
			t.Errorf("err = %v", err)
		}
	})
}
