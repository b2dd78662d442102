package workflow

import (
	"cmp"
	"context"
	"fmt"
	"time"

	"github.com/lepus-ai/lepus/internal/lepus"
	"github.com/lepus-ai/lepus/internal/provider/kling"
)

// MotionControlRequest is the body of POST /kling/motion-control
// (workflows.md §6, contract-decisions #7).
type MotionControlRequest struct {
	ImageURL             string `json:"image_url" minLength:"1" maxLength:"4096" doc:"The character (JPEG, PNG or WebP; clear upper or full body and head)."`
	VideoURL             string `json:"video_url" minLength:"1" maxLength:"4096" doc:"The motion reference video (MP4 or MOV, at most 100 MB, sides 340–3850 px, 3–10 s for image orientation, 3–30 s for video orientation)."`
	CharacterOrientation string `json:"character_orientation,omitempty" enum:"image,video" default:"image" doc:"Whether the character faces as in the image or as in the video."`
	Mode                 string `json:"mode,omitempty" enum:"std,pro" default:"pro"`
	Prompt               string `json:"prompt,omitempty" maxLength:"2500"`
	ModelName            string `json:"model_name,omitempty" enum:"kling-v2-6,kling-v3" default:"kling-v2-6"`
	Duration             string `json:"duration,omitempty" maxLength:"8" doc:"Accepted for compatibility and not sent: the output is as long as the motion video."`

	// Measured by Check.
	VideoMS int64 `json:"video_ms,omitempty" hidden:"true"`
}

const motionVideoBytes = 100 << 20

// Normalize applies the defaults of contract-decisions #7.
func (r *MotionControlRequest) Normalize() error {
	r.VideoMS = 0 // measured by Check, never taken from the client
	r.CharacterOrientation = cmp.Or(r.CharacterOrientation, "image")
	r.Mode = cmp.Or(r.Mode, "pro")
	r.ModelName = cmp.Or(r.ModelName, "kling-v2-6")
	return firstErr(
		oneOf("body.character_orientation", r.CharacterOrientation, "image", "video"),
		oneOf("body.mode", r.Mode, "std", "pro"),
		oneOf("body.model_name", r.ModelName, "kling-v2-6", "kling-v3"),
		checkPrompt("body.prompt", r.Prompt),
	)
}

// Images lists the character image.
func (r *MotionControlRequest) Images() []ImageInput {
	return []ImageInput{{Field: "body.image_url", URL: &r.ImageURL}}
}

// check measures the reference video against the orientation's limit.
func (r *MotionControlRequest) check(ctx context.Context, in Inputs) ([]string, error) {
	v, err := in.Media(ctx, "body.video_url", r.VideoURL, motionVideoBytes+1)
	if err != nil {
		return nil, err
	}
	limit := 10.0
	if r.CharacterOrientation == "video" {
		limit = 30
	}
	switch {
	case v.Kind != lepus.AssetVideo || (v.Format != "mp4" && v.Format != "mov"):
		return nil, lepus.FieldErrorf("body.video_url", "is %s %s, not an MP4 or MOV video", v.Kind, v.Format)
	case v.Bytes > motionVideoBytes:
		return nil, lepus.FieldErrorf("body.video_url", "is larger than Kling's 100 MB limit")
	case v.DurationS < 3 || v.DurationS > limit:
		return nil, lepus.FieldErrorf("body.video_url", "is %.1f s long; with character_orientation %q the motion video must be 3 to %.0f s",
			v.DurationS, r.CharacterOrientation, limit)
	case min(v.Width, v.Height) < 340 || max(v.Width, v.Height) > 3850:
		return nil, lepus.FieldErrorf("body.video_url", "is %dx%d px; both sides must be 340 to 3850 px", v.Width, v.Height)
	}
	r.VideoMS = int64(v.DurationS * 1000)
	var notes []string
	if r.Duration != "" {
		notes = append(notes, fmt.Sprintf("duration %q ignored: the output is as long as the motion video (%.1f s)", r.Duration, v.DurationS))
	}
	return notes, nil
}

func motionControl() *Definition {
	return &Definition{
		Type:       "motion_control",
		Routes:     []Route{{Path: "/kling/motion-control", Summary: "Make the character of an image move like the person in a video"}},
		Policy:     Policy{MaxRetries: 2, PollInterval: 5 * time.Second, MaxPolls: 180},
		NewRequest: func() Request { return &MotionControlRequest{} },
		Check: func(ctx context.Context, _ string, req Request, in Inputs) ([]string, error) {
			return req.(*MotionControlRequest).check(ctx, in)
		},
		Plan: func(Request) []lepus.Stage {
			return []lepus.Stage{klingStage("video", kling.PathMotionControl, PoolKlingVideo, 1)}
		},
		Build: func(t *lepus.Task, st *lepus.Stage, env Env) (any, error) {
			r, err := decodeInput[MotionControlRequest](t)
			if err != nil {
				return nil, err
			}
			return kling.MotionControlRequest{
				ModelName: r.ModelName, ImageURL: r.ImageURL, VideoURL: r.VideoURL,
				CharacterOrientation: r.CharacterOrientation, Mode: r.Mode, Prompt: r.Prompt,
				KeepOriginalSound: "yes", CallbackURL: env.CallbackURL, ExternalTaskID: st.ExternalID,
			}, nil
		},
		Costs: map[string]int{"motion_control": 15},
		Cost:  func(req Request, costs map[string]int) int { return costs["motion_control"] },
	}
}
