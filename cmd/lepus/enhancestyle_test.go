package main

import (
	"net/http"
	"strings"
	"testing"

	"github.com/lepus-ai/lepus/internal/sample"
	"github.com/lepus-ai/lepus/internal/sandbox"
)

func TestServe_EnhanceStyle(t *testing.T) {
	t.Parallel()
	s, _ := startLive(t, nil, nil)
	tok := s.token(t, "eve")
	in := uploadInputs(t, s, tok)
	garment := in.face.URL

	t.Run("SkinEnhance", func(t *testing.T) {
		t.Parallel()
		done := s.run(t, tok, "/enhance-style/skin-enhance", map[string]any{"image_url": in.scene.URL, "intensity": "max"})
		want := "<<<image_1>>> perfect skin, flawless complexion, professional beauty retouching, studio quality skin, magazine cover"
		if done.Type != "enhance_style" || done.Effective["image"]["prompt"] != want || done.Cost != 3 || len(done.Assets) != 1 {
			t.Fatalf("task %+v", done)
		}
	})
	t.Run("Relight", func(t *testing.T) {
		t.Parallel()
		done := s.run(t, tok, "/enhance-style/relight", map[string]any{"image_url": in.scene.URL, "lighting_type": "golden_hour", "light_direction": "left", "light_intensity": 0.5})
		eff := done.Effective["image"]
		if eff["light_source_direction"] != "left" || eff["light_source_strength"] != 0.35 || eff["keep_original_background"] != "true" ||
			eff["background_prompt"] != "warm golden hour sunlight, soft warm tones" || done.Cost != 8 || len(done.Assets) != 1 {
			t.Fatalf("relight sent %v (cost %d, %d assets)", eff, done.Cost, len(done.Assets))
		}
	})
	t.Run("OutfitSwap", func(t *testing.T) {
		t.Parallel()
		done := s.run(t, tok, "/enhance-style/outfit-swap", map[string]any{"person_image_url": in.scene.URL, "garment_image_url": garment, "garment_type": "full"})
		if !strings.Contains(done.Effective["image"]["prompt"].(string), "wearing the complete outfit shown in <<<image_2>>>") || done.Cost != 5 {
			t.Fatalf("task %+v", done)
		}
	})
	t.Run("AIStylist", func(t *testing.T) {
		t.Parallel()
		done := s.run(t, tok, "/enhance-style/ai-stylist", map[string]any{"garment_image_url": garment, "occasion": "work"})
		p := done.Effective["image"]["prompt"].(string)
		if !strings.Contains(p, "professional office outfit coordination") || strings.Contains(p, " style,") || done.Cost != 5 {
			t.Fatalf("prompt %q", p)
		}
	})
	t.Run("OutfitShotFourVariations", func(t *testing.T) {
		t.Parallel()
		done := s.run(t, tok, "/enhance-style/outfit-shot", map[string]any{"garment_image_url": garment, "content_type": "cover", "platform": "instagram", "variations": 4})
		if done.Cost != 24 || len(done.Assets) != 4 || len(done.Stages) != 4 || done.Effective["variation-3"]["aspect_ratio"] != "1:1" {
			t.Fatalf("task cost %d, %d assets, %d stages", done.Cost, len(done.Assets), len(done.Stages))
		}
	})
}

// TestServe_RelightFilteredRefund: a relight blocked by content filtering
// fails with that reason and its 8 credits come back.
func TestServe_RelightFilteredRefund(t *testing.T) {
	t.Parallel()
	s, sb := startLive(t, nil, nil)
	tok := s.token(t, "ray")
	_, img := s.upload(t, tok, sample.PortraitPNG(sample.Palettes[0], 400, 500))
	sb.FilterRelight(1)
	done := s.runFailed(t, tok, "/enhance-style/relight", map[string]any{"image_url": img.URL})
	if done.Error.Code != "content_filtered" {
		t.Fatalf("error %+v", done.Error)
	}
	var credits struct{ Balance int }
	s.do(t, "GET", "/credits", tok, nil, nil, &credits)
	if credits.Balance != 1000 {
		t.Fatalf("balance %d, want the 8 credits back (1000)", credits.Balance)
	}
}

// TestServe_OutfitShotPartial: one variation failing leaves the others;
// the task completes and refunds the failed share.
func TestServe_OutfitShotPartial(t *testing.T) {
	t.Parallel()
	s, sb := startLive(t, nil, nil)
	tok := s.token(t, "pam")
	_, g := s.upload(t, tok, sample.PortraitPNG(sample.Palettes[1], 400, 500))
	sb.InjectCreate(sandboxFault(1301))
	done := s.run(t, tok, "/enhance-style/outfit-shot", map[string]any{"garment_image_url": g.URL, "variations": 2})
	failed := 0
	for _, st := range done.Stages {
		if st.Phase == "failed" && st.Error != nil {
			failed++
		}
	}
	var credits struct{ Balance int }
	s.do(t, "GET", "/credits", tok, nil, nil, &credits)
	if failed != 1 || len(done.Assets) != 1 || credits.Balance != 1000-16+8 {
		t.Fatalf("%d failed variations, %d assets, balance %d; want 1, 1, %d", failed, len(done.Assets), credits.Balance, 1000-16+8)
	}
}

func TestServe_EnhanceStyleBadInput(t *testing.T) {
	t.Parallel()
	s, sb := startLive(t, nil, nil)
	tok := s.token(t, "ned")
	_, img := s.upload(t, tok, sample.PortraitPNG(sample.Palettes[0], 400, 500))
	_, tiny := s.upload(t, tok, sample.PortraitPNG(sample.Palettes[0], 200, 200))
	attempts := sb.Stats().Attempts
	for _, tc := range []struct {
		name, path string
		body       map[string]any
		field      string
	}{
		{"UnknownOccasion", "/enhance-style/ai-stylist", map[string]any{"garment_image_url": img.URL, "occasion": "funeral"}, "occasion"},
		{"Intensity2", "/enhance-style/relight", map[string]any{"image_url": img.URL, "light_intensity": 2}, "light_intensity"},
		{"FiveVariations", "/enhance-style/outfit-shot", map[string]any{"garment_image_url": img.URL, "variations": 5}, "variations"},
		{"TinyGarment", "/enhance-style/outfit-swap", map[string]any{"person_image_url": img.URL, "garment_image_url": tiny.URL}, "body.garment_image_url"},
		{"TryOnNoAvatar", "/enhance-style/outfit-shot", map[string]any{"garment_image_url": img.URL, "mode": "try_on"}, "body.avatar_id"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var p problemResp
			if resp := s.postJSON(t, tc.path, tok, tc.body, nil, &p); resp.StatusCode != http.StatusUnprocessableEntity || !p.mentions(tc.field) {
				t.Fatalf("%d %+v, want 422 naming %s", resp.StatusCode, p, tc.field)
			}
		})
	}
	var credits struct{ Balance int }
	s.do(t, "GET", "/credits", tok, nil, nil, &credits)
	if credits.Balance != 1000 || sb.Stats().Attempts != attempts {
		t.Fatalf("bad input cost credits (%d) or reached the provider", credits.Balance)
	}
}

func sandboxFault(code int) sandbox.Fault { return sandbox.Fault{Code: code} }
