package main

import (
	"bytes"
	"image"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/lepus-ai/lepus/internal/media/synth"
	"github.com/lepus-ai/lepus/internal/sample"
	"github.com/lepus-ai/lepus/internal/sandbox"
)

// startLive boots `lepus serve` in live mode against a sandbox the test
// holds, so tests can read what the provider saw.
func startLive(t testing.TB, mutate func(*sandbox.Config), env map[string]string) (*lepusServer, *sandbox.Sandbox) {
	t.Helper()
	cfg := sandbox.Config{ImageLatency: 50 * time.Millisecond, VideoLatency: 80 * time.Millisecond,
		RelightLatency: 50 * time.Millisecond, StabilityMinPoll: 10 * time.Millisecond, ArkLatency: 50 * time.Millisecond}
	if mutate != nil {
		mutate(&cfg)
	}
	sb := sandbox.New(cfg)
	t.Cleanup(sb.Close)
	provider := httptest.NewServer(sb)
	t.Cleanup(provider.Close)
	vars := map[string]string{
		"KLING_ACCESS_KEY": "sandbox-ak", "KLING_SECRET_KEY": "sandbox-sk", "KLING_BASE_URL": provider.URL,
		"LEPUS_ALLOW_PRIVATE_URLS": "1",
		"LEPUS_LLM_BASE_URL":       provider.URL + "/llm/v1", "LEPUS_LLM_API_KEY": "sandbox-llm-key", "LEPUS_LLM_MODEL": "sandbox-llm",
		"STABILITY_API_KEY": "sandbox-stability-key", "STABILITY_BASE_URL": provider.URL,
		"ARK_API_KEY": "sandbox-ark-key", "ARK_BASE_URL": provider.URL + "/ark/api/v3",
	}
	for k, v := range env {
		vars[k] = v
	}
	return startServe(t, vars), sb
}

// inputs are uploaded test files.
type inputs struct {
	scene, face, video, facelessVideo, longVideo, audio, longAudio uploadResp
}

func mp4(t testing.TB, img image.Image, seconds float64) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := synth.WriteMP4(&b, img, seconds, synth.MP4Options{MaxSide: 960}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func uploadInputs(t testing.TB, s *lepusServer, tok string) inputs {
	t.Helper()
	var in inputs
	_, in.scene = s.upload(t, tok, sample.PortraitPNG(sample.Palettes[0], 400, 500))
	_, in.face = s.upload(t, tok, sample.PortraitPNG(sample.Palettes[1], 400, 500))
	_, in.video = s.upload(t, tok, mp4(t, sample.Portrait(sample.Palettes[0], 720, 960), 5))
	_, in.facelessVideo = s.upload(t, tok, mp4(t, image.NewGray(image.Rect(0, 0, 720, 960)), 5))
	_, in.longVideo = s.upload(t, tok, mp4(t, sample.Portrait(sample.Palettes[0], 720, 960), 12))
	_, in.audio = s.upload(t, tok, synth.SineWAV(4, 16000))
	_, in.longAudio = s.upload(t, tok, synth.SineWAV(70, 8000))
	if in.video.Kind != "video" || in.video.DurationS != 5 || in.audio.Kind != "audio" || in.audio.DurationS != 4 {
		t.Fatalf("uploads measured wrong: video %+v audio %+v", in.video, in.audio)
	}
	return in
}

// run submits a workflow and waits for the task to end.
func (s *lepusServer) run(t testing.TB, tok, path string, body any) taskResp {
	t.Helper()
	var task taskResp
	if resp := s.postJSON(t, path, tok, body, nil, &task); resp.StatusCode != http.StatusAccepted {
		t.Fatalf("POST %s: %d %+v", path, resp.StatusCode, task)
	}
	if last := s.openEvents(t, tok, task.ID).last(t); !isCompleted(last) {
		t.Fatalf("%s ended: %s %s", path, last.Name, last.Data)
	}
	var done taskResp
	s.do(t, "GET", "/tasks/"+task.ID, tok, nil, nil, &done)
	for _, a := range done.Assets {
		resp := s.do(t, "GET", strings.TrimPrefix(a.URL, s.url), tok, nil, nil, nil)
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != a.Mime || resp.ContentLength != a.Bytes || a.Bytes == 0 {
			t.Fatalf("asset %s downloads as %d %s %d bytes; want %s %d bytes", a.ID, resp.StatusCode,
				resp.Header.Get("Content-Type"), resp.ContentLength, a.Mime, a.Bytes)
		}
	}
	return done
}

// runFailed submits a workflow that must fail and returns the task.
func (s *lepusServer) runFailed(t testing.TB, tok, path string, body any) taskResp {
	t.Helper()
	var task taskResp
	if resp := s.postJSON(t, path, tok, body, nil, &task); resp.StatusCode != http.StatusAccepted {
		t.Fatalf("POST %s: %d %+v", path, resp.StatusCode, task)
	}
	s.events(t, tok, task.ID)
	var done taskResp
	s.do(t, "GET", "/tasks/"+task.ID, tok, nil, nil, &done)
	if done.Status != "failed" || done.Error == nil {
		t.Fatalf("%s: %+v, want failed", path, done)
	}
	return done
}

func TestServe_KlingWorkflows(t *testing.T) {
	t.Parallel()
	s, _ := startLive(t, nil, nil)
	tok := s.token(t, "wanda")
	in := uploadInputs(t, s, tok)

	t.Run("ImageToVideo", func(t *testing.T) {
		t.Parallel()
		done := s.run(t, tok, "/kling/image-to-video", map[string]any{"image_url": in.scene.URL, "prompt": "she smiles", "model_name": "kling-v1-6"})
		if len(done.Assets) != 1 || done.Assets[0].Kind != "video" || done.Assets[0].DurationS != 5 {
			t.Fatalf("assets %+v", done.Assets)
		}
		if done.Effective["video"]["cfg_scale"] != 0.5 || done.Effective["video"]["image"] != in.scene.URL {
			t.Fatalf("effective %v", done.Effective["video"])
		}
	})
	t.Run("TextToVideo", func(t *testing.T) {
		t.Parallel()
		done := s.run(t, tok, "/kling/text-to-video", map[string]any{"prompt": "a red fox in snow", "duration": "10"})
		eff := done.Effective["video"]
		if eff["model_name"] != "kling-v2-6" || eff["cfg_scale"] != nil || eff["style"] != nil || eff["camera_motion"] != nil {
			t.Fatalf("effective %v", eff)
		}
		if done.Assets[0].DurationS != 10 || done.Cost != 20 || !hasNote(done.Notes, "cfg_scale 0.5 not sent") {
			t.Fatalf("duration %v cost %d notes %v", done.Assets[0].DurationS, done.Cost, done.Notes)
		}
	})
	t.Run("MultiImageToVideo", func(t *testing.T) {
		t.Parallel()
		done := s.run(t, tok, "/kling/multi-image-to-video", map[string]any{"image_urls": []string{in.scene.URL, in.face.URL}, "prompt": "they meet"})
		if eff := done.Effective["video"]; eff["model_name"] != nil || len(eff["image_list"].([]any)) != 2 || len(done.Assets) != 1 {
			t.Fatalf("effective %v assets %d", eff, len(done.Assets))
		}
	})
	t.Run("LipSync", func(t *testing.T) {
		t.Parallel()
		done := s.run(t, tok, "/kling/lip-sync", map[string]any{"video_url": in.video.URL, "audio_url": in.audio.URL})
		if eff := done.Effective["video"]; eff["session_id"] == nil || eff["model_name"] != nil || len(done.Assets) != 1 {
			t.Fatalf("effective %v", eff)
		}
		if done.Effective["faces"]["video_url"] != in.video.URL {
			t.Fatalf("identify-face sent %v", done.Effective["faces"])
		}
	})
	t.Run("LipSyncNoFace", func(t *testing.T) {
		t.Parallel()
		done := s.runFailed(t, tok, "/kling/lip-sync", map[string]any{"video_url": in.facelessVideo.URL, "audio_url": in.audio.URL})
		if done.Error.Code != "no_face" || !strings.Contains(done.Error.Message, "no face found in the video") {
			t.Fatalf("error %+v", done.Error)
		}
	})
	t.Run("MotionControl", func(t *testing.T) {
		t.Parallel()
		done := s.run(t, tok, "/kling/motion-control", map[string]any{"image_url": in.scene.URL, "video_url": in.video.URL, "duration": "10"})
		eff := done.Effective["video"]
		if eff["duration"] != nil || eff["character_orientation"] != "image" || eff["mode"] != "pro" || eff["keep_original_sound"] != "yes" {
			t.Fatalf("effective %v", eff)
		}
		if !hasNote(done.Notes, "duration \"10\" ignored") || done.Assets[0].DurationS != 5 {
			t.Fatalf("notes %v, duration %v", done.Notes, done.Assets[0].DurationS)
		}
	})
	t.Run("VideoExtendChain", func(t *testing.T) {
		t.Parallel()
		src := s.run(t, tok, "/kling/image-to-video", map[string]any{"image_url": in.face.URL, "model_name": "kling-v1-6"})
		ext := s.run(t, tok, "/kling/video-extend", map[string]any{"video_id": src.Assets[0].ID, "prompt": "keeps walking"})
		if ext.Assets[0].DurationS != 10 || ext.Assets[0].ProviderID == "" || ext.Assets[0].ProviderID == src.Assets[0].ProviderID {
			t.Fatalf("extension %+v of %+v", ext.Assets[0], src.Assets[0])
		}
		// Extensions chain: extend the extension by its Kling video id.
		again := s.run(t, tok, "/kling/video-extend", map[string]any{"video_id": ext.Assets[0].ProviderID})
		if again.Assets[0].DurationS != 15 {
			t.Fatalf("second extension lasts %v s", again.Assets[0].DurationS)
		}
	})
	t.Run("ImageGenerationEnhanced", func(t *testing.T) {
		t.Parallel()
		done := s.run(t, tok, "/kling/image-generation", map[string]any{"prompt": "a lighthouse at dusk", "n": 2, "enhance_prompt": true})
		if len(done.Assets) != 2 || done.Effective["image"]["n"] != float64(2) || !done.Assets[0].Primary || done.Assets[1].Primary {
			t.Fatalf("assets %d, effective %v", len(done.Assets), done.Effective["image"])
		}
		sent, _ := done.Effective["image"]["prompt"].(string)
		if !strings.HasPrefix(sent, "a lighthouse at dusk,") || sent == "a lighthouse at dusk" || !hasNote(done.Notes, "prompt enhanced") {
			t.Fatalf("sent prompt %q, notes %v", sent, done.Notes)
		}
	})
	t.Run("ImageGenerationReference", func(t *testing.T) {
		t.Parallel()
		done := s.run(t, tok, "/kling/image-generation", map[string]any{"prompt": "as an astronaut", "image_url": in.face.URL, "image_reference": "subject"})
		if eff := done.Effective["image"]; eff["model_name"] != "kling-v1-5" || eff["human_fidelity"] != 0.45 {
			t.Fatalf("effective %v", eff)
		}
	})
	t.Run("OmniImage", func(t *testing.T) {
		t.Parallel()
		done := s.run(t, tok, "/kling/omni-image", map[string]any{"prompt": "<<<image_1>>> wearing the jacket of <<<image_2>>>", "image_urls": []string{in.scene.URL, in.face.URL}})
		if eff := done.Effective["image"]; eff["model_name"] != "kling-image-o1" || eff["resolution"] != "2k" || len(done.Assets) != 1 {
			t.Fatalf("effective %v", eff)
		}
	})
}

// TestServe_LLMFailureFallsBack: a failing LLM never fails the task; the
// original prompt is sent and the notes say why.
func TestServe_LLMFailureFallsBack(t *testing.T) {
	t.Parallel()
	s, sb := startLive(t, nil, nil)
	tok := s.token(t, "lena")
	sb.FailLLM(10) // the client retries once; every call fails
	done := s.run(t, tok, "/kling/image-generation", map[string]any{"prompt": "a quiet harbour", "enhance_prompt": true})
	if done.Effective["image"]["prompt"] != "a quiet harbour" || !hasNote(done.Notes, "prompt enhancement failed") {
		t.Fatalf("prompt %v notes %v", done.Effective["image"]["prompt"], done.Notes)
	}
}

// TestServe_WorkflowBadInput: each bad request is a 422 naming the field,
// before any provider call or credit debit.
func TestServe_WorkflowBadInput(t *testing.T) {
	t.Parallel()
	s, sb := startLive(t, nil, nil)
	tok := s.token(t, "victor")
	in := uploadInputs(t, s, tok)
	v26 := s.run(t, tok, "/kling/image-to-video", map[string]any{"image_url": in.scene.URL})
	var before struct{ Balance int }
	s.do(t, "GET", "/credits", tok, nil, nil, &before)
	attempts := sb.Stats().Attempts

	for _, tc := range []struct {
		name, path string
		body       map[string]any
		field      string
	}{
		{"MultiImageNoPrompt", "/kling/multi-image-to-video", map[string]any{"image_urls": []string{in.scene.URL}}, "prompt"},
		{"MultiImageFive", "/kling/multi-image-to-video", map[string]any{"image_urls": []string{in.scene.URL, in.scene.URL, in.scene.URL, in.scene.URL, in.scene.URL}, "prompt": "p"}, "image_urls"},
		{"LipSyncLongAudio", "/kling/lip-sync", map[string]any{"video_url": in.video.URL, "audio_url": in.longAudio.URL}, "body.audio_url"},
		{"LipSyncImageAsAudio", "/kling/lip-sync", map[string]any{"video_url": in.video.URL, "audio_url": in.scene.URL}, "body.audio_url"},
		{"LipSyncNoVideo", "/kling/lip-sync", map[string]any{"audio_url": in.audio.URL}, "body.video_url"},
		{"ExtendStart", "/kling/video-extend", map[string]any{"video_id": v26.Assets[0].ID, "extend_direction": "start"}, "body.extend_direction"},
		{"ExtendV26", "/kling/video-extend", map[string]any{"video_id": v26.Assets[0].ID}, "body.video_id"},
		{"ExtendUnknown", "/kling/video-extend", map[string]any{"video_id": "ast_nope"}, "body.video_id"},
		{"OmniImageRef3", "/kling/omni-image", map[string]any{"prompt": "<<<image_3>>> smiles", "image_urls": []string{in.scene.URL, in.face.URL}}, "body.prompt"},
		{"ImageGenN10", "/kling/image-generation", map[string]any{"prompt": "p", "n": 10}, "n"},
		{"ImageGenAvatar", "/kling/image-generation", map[string]any{"prompt": "p", "avatar_id": "av_1"}, "body.avatar_id"},
		{"MotionTooLong", "/kling/motion-control", map[string]any{"image_url": in.scene.URL, "video_url": in.longVideo.URL}, "body.video_url"},
		{"MotionAudioAsVideo", "/kling/motion-control", map[string]any{"image_url": in.scene.URL, "video_url": in.audio.URL}, "body.video_url"},
		{"TextToVideoNoPrompt", "/kling/text-to-video", map[string]any{"duration": "5"}, "prompt"},
		{"ImageToVideoO1", "/kling/image-to-video", map[string]any{"image_url": in.scene.URL, "model_name": "kling-video-o1"}, "model_name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var p problemResp
			resp := s.postJSON(t, tc.path, tok, tc.body, nil, &p)
			if resp.StatusCode != 422 || !p.mentions(tc.field) {
				t.Fatalf("%d %+v, want 422 naming %s", resp.StatusCode, p, tc.field)
			}
		})
	}
	var after struct{ Balance int }
	s.do(t, "GET", "/credits", tok, nil, nil, &after)
	if after.Balance != before.Balance || sb.Stats().Attempts != attempts {
		t.Fatalf("bad input cost credits (%d → %d) or reached the provider (%d → %d attempts)",
			before.Balance, after.Balance, attempts, sb.Stats().Attempts)
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
