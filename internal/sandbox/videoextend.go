package sandbox

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/lepus-ai/lepus/internal/media"
)

// videoExtendBody is the request of POST /v1/videos/video-extend
// (kling-api.md §5.4). There is no extend_direction: the strict decoder
// refuses it (contract decision #8).
type videoExtendBody struct {
	VideoID        string   `json:"video_id"`
	Prompt         string   `json:"prompt"`
	NegativePrompt string   `json:"negative_prompt"`
	CfgScale       *float64 `json:"cfg_scale"`
	common
}

// Each extension adds about 5 s (Kling says 4–5 s); the total may not pass
// 3 minutes.
const (
	extendSeconds    = 5
	maxExtendedTotal = 180
)

// extendableModels made the only videos Kling can extend (V1.0, V1.5, V1.6).
var extendableModels = map[string]bool{"kling-v1": true, "kling-v1-5": true, "kling-v1-6": true}

func videoExtendEndpoint() *endpoint {
	return &endpoint{path: "/v1/videos/video-extend", video: true, validate: validateVideoExtend}
}

func validateVideoExtend(body []byte) (*spec, *apiError) {
	var b videoExtendBody
	if e := decodeStrict(body, &b); e != nil {
		return nil, e
	}
	if b.VideoID == "" {
		return nil, invalidf("video_id is required")
	}
	if e := checkPrompt("prompt", b.Prompt, false); e != nil {
		return nil, e
	}
	if e := checkPrompt("negative_prompt", b.NegativePrompt, false); e != nil {
		return nil, e
	}
	if b.CfgScale != nil {
		if e := checkUnit("cfg_scale", *b.CfgScale, 0, 1); e != nil {
			return nil, e
		}
	}
	if e := b.common.check(); e != nil {
		return nil, e
	}
	sp := &spec{cost: 1}
	b.common.apply(sp)
	sp.outputs = []output{{ext: "mp4"}}
	r := &extendRender{prompt: b.Prompt}
	sp.render = r.render
	sp.checks = append(sp.checks, func(_ context.Context, s *Sandbox) *apiError {
		rec, e := s.producedVideo("video_id", b.VideoID)
		if e != nil {
			return e
		}
		if !extendableModels[rec.model] {
			return invalidf("video %s cannot be extended: made by %s; only kling-v1, kling-v1-5 and kling-v1-6 videos can", rec.id, rec.model)
		}
		total := rec.seconds + extendSeconds
		if total > maxExtendedTotal {
			return invalidf("video %s cannot be extended: %s s would pass the 180 s limit", rec.id, formatSeconds(total))
		}
		// The model and mode are inherited from the parent.
		sp.model = rec.model
		sp.parent = rec.view()
		sp.outputs[0].duration = formatSeconds(total)
		r.parent, r.seconds = rec, total
		return nil
	})
	return sp, nil
}

// extendRender makes the extended video: the parent's first frame, zooming
// for the parent's length plus 5 s (a plain canvas when the parent's frame
// cannot be decoded).
type extendRender struct {
	parent  *videoRecord
	prompt  string
	seconds float64
}

func (r *extendRender) render(ctx context.Context, s *Sandbox, _ int) ([]byte, error) {
	data, err := s.videoBytes(ctx, r.parent)
	if err != nil {
		return nil, fmt.Errorf("parent video: %w", err)
	}
	frame, err := media.FirstFrame(bytes.NewReader(data))
	switch {
	case errors.Is(err, media.ErrUndecodable):
		frame = canvas("16:9", videoCanvasSide, r.prompt)
	case err != nil:
		return nil, fmt.Errorf("parent first frame: %w", err)
	}
	return writeMP4(frame, r.seconds)
}
