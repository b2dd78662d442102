package workflow

import (
	"cmp"
	"context"
	"time"

	"github.com/lepus-ai/lepus/internal/lepus"
	"github.com/lepus-ai/lepus/internal/provider/kling"
)

// VideoExtendRequest is the body of POST /kling/video-extend (workflows.md
// §7, contract-decisions #8). Kling extends only at the end, only videos
// made by kling-v1, v1-5 or v1-6, under 30 days old, up to 3 minutes:
// Lepus checks each before paying.
type VideoExtendRequest struct {
	VideoID         string   `json:"video_id" minLength:"1" maxLength:"128" doc:"The video to extend: one of your Lepus video assets (ast_…) or its Kling video id."`
	ExtendDirection string   `json:"extend_direction,omitempty" enum:"end,start" default:"end" doc:"Only end: Kling cannot extend a video at its start."`
	Prompt          string   `json:"prompt,omitempty" maxLength:"2500"`
	NegativePrompt  string   `json:"negative_prompt,omitempty" maxLength:"2500"`
	CfgScale        *float64 `json:"cfg_scale,omitempty" minimum:"0" maximum:"1" default:"0.5"`

	// Resolved by Check.
	KlingVideoID string `json:"kling_video_id,omitempty" hidden:"true"`
	SourceModel  string `json:"source_model,omitempty" hidden:"true"`
}

// Video extension limits (kling-api.md §5.4).
const (
	extendAdds     = 5.0   // seconds one extension adds (4–5 s)
	extendMaxTotal = 180.0 // seconds
	extendMaxAge   = 30 * 24 * time.Hour
)

// Normalize applies the defaults and refuses extending at the start.
func (r *VideoExtendRequest) Normalize() error {
	r.KlingVideoID, r.SourceModel = "", "" // resolved by Check, never taken from the client
	r.ExtendDirection = cmp.Or(r.ExtendDirection, "end")
	if r.CfgScale == nil {
		r.CfgScale = ptr(0.5)
	}
	if r.ExtendDirection == "start" {
		return lepus.FieldErrorf("body.extend_direction", "start is not supported: Kling extends videos only at the end")
	}
	return oneOf("body.extend_direction", r.ExtendDirection, "end")
}

// Images: none.
func (r *VideoExtendRequest) Images() []ImageInput { return nil }

// check resolves the video and refuses what Kling would refuse.
func (r *VideoExtendRequest) check(ctx context.Context, userID string, in Inputs) ([]string, error) {
	a, err := in.VideoAsset(ctx, userID, r.VideoID)
	if err != nil {
		return nil, lepus.FieldErrorf("body.video_id", "no video of yours has the id %q; name a Lepus video asset or its Kling video id", r.VideoID)
	}
	switch {
	case a.ProviderID == "":
		return nil, lepus.FieldErrorf("body.video_id", "video %s was not made by Kling; only Kling videos can be extended", a.ID)
	case !kling.Extendable(a.Model):
		return nil, lepus.FieldErrorf("body.video_id", "video %s was made by %s; Kling extends only videos made by kling-v1, kling-v1-5 or kling-v1-6", a.ID, orUnknown(a.Model))
	case in.Now().Sub(a.CreatedAt) >= extendMaxAge:
		return nil, lepus.FieldErrorf("body.video_id", "video %s is more than 30 days old; Kling no longer has it", a.ID)
	case a.DurationS+extendAdds > extendMaxTotal:
		return nil, lepus.FieldErrorf("body.video_id", "video %s is %.0f s long; another extension would pass Kling's 3-minute limit", a.ID, a.DurationS)
	}
	r.KlingVideoID, r.SourceModel = a.ProviderID, a.Model
	return nil, nil
}

func orUnknown(s string) string {
	if s == "" {
		return "an unknown model"
	}
	return s
}

func videoExtend() *Definition {
	return &Definition{
		Type:       "video_extend",
		Routes:     []Route{{Path: "/kling/video-extend", Summary: "Extend a Kling video by about 5 seconds at its end"}},
		Policy:     Policy{MaxRetries: 2, PollInterval: 5 * time.Second, MaxPolls: 120},
		NewRequest: func() Request { return &VideoExtendRequest{} },
		Check: func(ctx context.Context, userID string, req Request, in Inputs) ([]string, error) {
			return req.(*VideoExtendRequest).check(ctx, userID, in)
		},
		Plan: func(req Request) []lepus.Stage {
			st := klingStage("video", kling.PathVideoExtend, PoolKlingVideo, 1)
			st.Model = req.(*VideoExtendRequest).SourceModel // the extension keeps its source's model
			return []lepus.Stage{st}
		},
		Build: func(t *lepus.Task, st *lepus.Stage, env Env) (any, error) {
			r, err := decodeInput[VideoExtendRequest](t)
			if err != nil {
				return nil, err
			}
			body := kling.VideoExtendRequest{VideoID: r.KlingVideoID, Prompt: r.Prompt,
				CallbackURL: env.CallbackURL, ExternalTaskID: st.ExternalID}
			// Kling's capability map: extending a kling-v1 video takes neither
			// negative_prompt nor cfg_scale.
			if r.SourceModel == "kling-v1" {
				t.AddNote("cfg_scale and negative_prompt not sent: extending a kling-v1 video does not support them")
				return body, nil
			}
			body.NegativePrompt, body.CfgScale = r.NegativePrompt, r.CfgScale
			return body, nil
		},
		Costs: map[string]int{"video_extend": 8},
		Cost:  func(req Request, costs map[string]int) int { return costs["video_extend"] },
	}
}
