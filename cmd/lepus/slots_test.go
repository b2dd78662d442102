package main

import (
	"net/http"
	"testing"

	"github.com/lepus-ai/lepus/internal/sample"
)

// TestServe_SmallImagePool: an account with 2 image slots is accepted; a
// request for more images than that is refused with a 422 naming body.n,
// before any debit or provider call, while n = 2 still runs.
func TestServe_SmallImagePool(t *testing.T) {
	t.Parallel()
	s, sb := startLive(t, nil, map[string]string{"KLING_IMAGE_SLOTS": "2"})
	tok := s.token(t, "sam")
	_, img := s.upload(t, tok, sample.PortraitPNG(sample.Palettes[0], 400, 500))

	for _, tc := range []struct {
		name, path string
		body       map[string]any
	}{
		{"ImageGeneration", "/kling/image-generation", map[string]any{"prompt": "a lighthouse at dusk", "n": 3}},
		{"OmniImage", "/kling/omni-image", map[string]any{"prompt": "<<<image_1>>> at the beach", "image_urls": []string{img.URL}, "n": 3}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var p problemResp
			resp := s.postJSON(t, tc.path, tok, tc.body, nil, &p)
			if resp.StatusCode != http.StatusUnprocessableEntity || !p.mentions("body.n") {
				t.Fatalf("status %d %+v, want 422 naming body.n", resp.StatusCode, p)
			}
		})
	}

	var credits struct{ Balance int }
	s.do(t, "GET", "/credits", tok, nil, nil, &credits)
	var list struct{ Tasks []taskResp }
	s.do(t, "GET", "/tasks", tok, nil, nil, &list)
	if credits.Balance != 1000 || len(list.Tasks) != 0 {
		t.Fatalf("balance %d and %d tasks after refusals; want 1000 and none", credits.Balance, len(list.Tasks))
	}
	if st := sb.Stats(); st.Tasks != 0 {
		t.Fatalf("the provider saw %d tasks; want none", st.Tasks)
	}

	t.Run("FitsThePool", func(t *testing.T) {
		done := s.run(t, tok, "/kling/image-generation", map[string]any{"prompt": "a lighthouse at dusk", "n": 2})
		if len(done.Assets) != 2 {
			t.Fatalf("%d assets, want 2", len(done.Assets))
		}
	})
}
