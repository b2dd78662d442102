package workflow

import (
	"cmp"
	"time"

	"github.com/lepus-ai/lepus/internal/lepus"
	"github.com/lepus-ai/lepus/internal/provider/kling"
)

// ImageToVideoRequest is the body of POST /kling/image-to-video (workflows.md §2).
type ImageToVideoRequest struct {
	ImageURL       string   `json:"image_url" minLength:"1" maxLength:"4096" doc:"The first frame (JPEG, PNG or WebP; at most 10 MB; sides at least 300 px; aspect ratio within 1:2.5 to 2.5:1)."`
	Prompt         string   `json:"prompt,omitempty" maxLength:"2500" doc:"What should happen in the video."`
	NegativePrompt string   `json:"negative_prompt,omitempty" maxLength:"2500"`
	ModelName      string   `json:"model_name,omitempty" enum:"kling-v1,kling-v1-5,kling-v1-6,kling-v2-master,kling-v2-1,kling-v2-1-master,kling-v2-5-turbo,kling-v2-6" default:"kling-v2-6" doc:"Only kling-v1, kling-v1-5 and kling-v1-6 videos can be extended later."`
	Duration       string   `json:"duration,omitempty" enum:"5,10" default:"5" doc:"Seconds."`
	Mode           string   `json:"mode,omitempty" enum:"std,pro" default:"std"`
	CfgScale       *float64 `json:"cfg_scale,omitempty" minimum:"0" maximum:"1" default:"0.5" doc:"Sent only to kling-v1.x models, which support it."`
}

// Normalize applies the defaults of workflows.md §2.
func (r *ImageToVideoRequest) Normalize() error {
	r.ModelName = cmp.Or(r.ModelName, "kling-v2-6")
	r.Duration = cmp.Or(r.Duration, "5")
	r.Mode = cmp.Or(r.Mode, "std")
	if r.CfgScale == nil {
		r.CfgScale = ptr(0.5)
	}
	if r.ModelName == "kling-video-o1" {
		return lepus.FieldErrorf("body.model_name", "kling-video-o1 is not an image-to-video model")
	}
	return firstErr(
		oneOf("body.duration", r.Duration, "5", "10"),
		oneOf("body.mode", r.Mode, "std", "pro"),
		checkPrompt("body.prompt", r.Prompt),
		checkPrompt("body.negative_prompt", r.NegativePrompt),
	)
}

// Images lists the first frame.
func (r *ImageToVideoRequest) Images() []ImageInput {
	return []ImageInput{{Field: "body.image_url", URL: &r.ImageURL}}
}

func imageToVideo() *Definition {
	return &Definition{
		Type:       "image_to_video",
		Routes:     []Route{{Path: "/kling/image-to-video", Summary: "Animate an image into a video"}},
		Policy:     Policy{MaxRetries: 2, PollInterval: 5 * time.Second, MaxPolls: 120},
		NewRequest: func() Request { return &ImageToVideoRequest{} },
		Plan: func(Request) []lepus.Stage {
			return []lepus.Stage{klingStage("video", kling.PathImage2Video, PoolKlingVideo, 1)}
		},
		Build: func(t *lepus.Task, st *lepus.Stage, env Env) (any, error) {
			r, err := decodeInput[ImageToVideoRequest](t)
			if err != nil {
				return nil, err
			}
			cfg, note := cfgScale(r.ModelName, *r.CfgScale)
			if note != "" {
				t.AddNote(note)
			}
			// No aspect_ratio: the image decides (the API has no such field).
			return kling.Image2VideoRequest{
				ModelName: r.ModelName, Image: r.ImageURL, Prompt: r.Prompt, NegativePrompt: r.NegativePrompt,
				CfgScale: cfg, Mode: r.Mode, Duration: r.Duration,
				CallbackURL: env.CallbackURL, ExternalTaskID: st.ExternalID,
			}, nil
		},
		Costs: map[string]int{"image_to_video": 10}, // per 5 s of video
		Cost: func(req Request, costs map[string]int) int {
			return costs["image_to_video"] * durationUnits(req.(*ImageToVideoRequest).Duration)
		},
	}
}
