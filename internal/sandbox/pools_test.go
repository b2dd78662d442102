package sandbox_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/lepus-ai/lepus/internal/provider/kling"
	"github.com/lepus-ai/lepus/internal/sandbox"
)

// TestSandbox_ConcurrencyPools checks image and video tasks are counted in
// separate pools, as Kling's resource packs are.
func TestSandbox_ConcurrencyPools(t *testing.T) {
	t.Parallel()
	// Image tasks outlive the test, so their slots stay held.
	b := setup(t, func(c *sandbox.Config) { c.ImageConcurrency = 3; c.VideoConcurrency = 1; c.ImageLatency = time.Hour })
	ctx := context.Background()
	busy := func(err error) bool {
		var apiErr *kling.APIError
		return errors.As(err, &apiErr) && apiErr.Code == 1303 && kling.Classify(err) == kling.ClassBusy
	}
	b.create(t, kling.PathImageGenerations, kling.ImageGenerationRequest{Prompt: "x", N: 2, ExternalTaskID: "img-1"})
	if _, err := b.client.Create(ctx, kling.PathOmniImage, kling.OmniImageRequest{Prompt: "x", N: 2}); !busy(err) {
		t.Errorf("image pool over 3: %v, want 1303", err)
	}
	b.create(t, kling.PathText2Video, kling.Text2VideoRequest{Prompt: "x", ExternalTaskID: "vid-1"})
	if _, err := b.client.Create(ctx, kling.PathImage2Video, kling.Image2VideoRequest{Image: b.img(400, 400, "png")}); !busy(err) {
		t.Errorf("video pool over 1: %v, want 1303", err)
	}
	// The image pool has one slot left whatever the video pool holds.
	b.create(t, kling.PathImageGenerations, kling.ImageGenerationRequest{Prompt: "x", ExternalTaskID: "img-2"})
	st := b.sb.Stats()
	if st.ImageSlotsInUse != 3 || st.VideoSlotsInUse != 1 || st.SlotsInUse != 4 || st.ImageConcurrency != 3 || st.VideoConcurrency != 1 || st.Busy != 2 {
		t.Errorf("stats = %+v", st)
	}
	b.wait(t, kling.PathText2Video, "vid-1")
	if _, err := b.client.Create(ctx, kling.PathImage2Video, kling.Image2VideoRequest{Image: b.img(400, 400, "png")}); err != nil {
		t.Errorf("video after the slot freed: %v", err)
	}

	// Queries of the new endpoints: by external id, and the list.
	list, err := b.client.List(ctx, kling.PathImageGenerations, 1, 30)
	if err != nil || len(list) != 2 || list[0].TaskInfo.ExternalTaskID != "img-2" {
		t.Errorf("list = %+v, %v", list, err)
	}
	if _, err := b.client.Get(ctx, kling.PathText2Video, "img-1"); kling.Classify(err) != kling.ClassNotFound {
		t.Errorf("image task under the text2video path: %v, want not found", err)
	}
}

func TestSandbox_ConcurrencyDefault(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *sandbox.Config) { c.Concurrency = 1; c.ImageLatency = time.Hour; c.VideoLatency = time.Hour })
	b.create(t, kling.PathImageGenerations, kling.ImageGenerationRequest{Prompt: "x"})
	b.create(t, kling.PathText2Video, kling.Text2VideoRequest{Prompt: "x"}) // its own pool
	for _, path := range []string{kling.PathImageGenerations, kling.PathText2Video} {
		if _, err := b.client.Create(context.Background(), path, json.RawMessage(`{"prompt":"x"}`)); kling.Classify(err) != kling.ClassBusy {
			t.Errorf("second task on %s: %v, want 1303", path, err)
		}
	}
	if st := b.sb.Stats(); st.ImageConcurrency != 1 || st.VideoConcurrency != 1 {
		t.Errorf("pools = %d/%d, want Concurrency for both", st.ImageConcurrency, st.VideoConcurrency)
	}
}
