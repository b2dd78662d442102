package workflow

import (
	"cmp"
	"fmt"
	"time"

	"github.com/lepus-ai/lepus/internal/lepus"
	"github.com/lepus-ai/lepus/internal/provider/kling"
)

// MultiImageToVideoRequest is the body of POST /kling/multi-image-to-video
// (workflows.md §4, contract-decisions #5): images are sent as
// image_list [{image}], the prompt is required, and model_name is not sent
// (the API's only value is its default, kling-v1-6).
type MultiImageToVideoRequest struct {
	ImageURLs      []string `json:"image_urls" minItems:"1" maxItems:"4" doc:"One to four images (same limits as every image input)."`
	Prompt         string   `json:"prompt" minLength:"1" maxLength:"2500" doc:"Required: what happens across the images."`
	NegativePrompt string   `json:"negative_prompt,omitempty" maxLength:"2500"`
	Duration       string   `json:"duration,omitempty" enum:"5,10" default:"5" doc:"Seconds."`
	AspectRatio    string   `json:"aspect_ratio,omitempty" enum:"16:9,9:16,1:1" default:"16:9"`
	Mode           string   `json:"mode,omitempty" enum:"std,pro" default:"std"`
}

// Normalize applies the defaults of workflows.md §4.
func (r *MultiImageToVideoRequest) Normalize() error {
	r.Duration = cmp.Or(r.Duration, "5")
	r.AspectRatio = cmp.Or(r.AspectRatio, "16:9")
	r.Mode = cmp.Or(r.Mode, "std")
	if len(r.ImageURLs) == 0 || len(r.ImageURLs) > 4 {
		return lepus.FieldErrorf("body.image_urls", "has %d images; give 1 to 4", len(r.ImageURLs))
	}
	if r.Prompt == "" {
		return lepus.FieldErrorf("body.prompt", "is required for multi-image video")
	}
	return firstErr(
		oneOf("body.duration", r.Duration, "5", "10"),
		oneOf("body.aspect_ratio", r.AspectRatio, "16:9", "9:16", "1:1"),
		oneOf("body.mode", r.Mode, "std", "pro"),
		checkPrompt("body.prompt", r.Prompt),
		checkPrompt("body.negative_prompt", r.NegativePrompt),
	)
}

// Images lists every image.
func (r *MultiImageToVideoRequest) Images() []ImageInput {
	in := make([]ImageInput, len(r.ImageURLs))
	for i := range r.ImageURLs {
		in[i] = ImageInput{Field: fmt.Sprintf("body.image_urls[%d]", i), URL: &r.ImageURLs[i]}
	}
	return in
}

func multiImageToVideo() *Definition {
	return &Definition{
		Type:       "multi_image_to_video",
		Routes:     []Route{{Path: "/kling/multi-image-to-video", Summary: "Make a video from one to four images and a prompt"}},
		Policy:     Policy{MaxRetries: 2, PollInterval: 5 * time.Second, MaxPolls: 120},
		NewRequest: func() Request { return &MultiImageToVideoRequest{} },
		Plan: func(Request) []lepus.Stage {
			st := klingStage("video", kling.PathMultiImage2Video, PoolKlingVideo, 1)
			st.Model = "kling-v1-6" // the endpoint's only model, made by default
			return []lepus.Stage{st}
		},
		Build: func(t *lepus.Task, st *lepus.Stage, env Env) (any, error) {
			r, err := decodeInput[MultiImageToVideoRequest](t)
			if err != nil {
				return nil, err
			}
			list := make([]kling.MultiImage, len(r.ImageURLs))
			for i, u := range r.ImageURLs {
				list[i] = kling.MultiImage{Image: u}
			}
			return kling.MultiImage2VideoRequest{
				ImageList: list, Prompt: r.Prompt, NegativePrompt: r.NegativePrompt,
				Mode: r.Mode, Duration: r.Duration, AspectRatio: r.AspectRatio,
				CallbackURL: env.CallbackURL, ExternalTaskID: st.ExternalID,
			}, nil
		},
		Costs: map[string]int{"multi_image_to_video": 10}, // per 5 s of video
		Cost: func(req Request, costs map[string]int) int {
			return costs["multi_image_to_video"] * durationUnits(req.(*MultiImageToVideoRequest).Duration)
		},
	}
}
