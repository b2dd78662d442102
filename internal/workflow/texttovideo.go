package workflow

import (
	"cmp"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/lepus-ai/lepus/internal/lepus"
	"github.com/lepus-ai/lepus/internal/provider/kling"
)

// TextToVideoRequest is the body of POST /kling/text-to-video (workflows.md §3).
// The old system also sent style "realistic" and camera_motion "none"; they
// are not Kling fields and are never sent (contract-decisions #3).
type TextToVideoRequest struct {
	Prompt         string   `json:"prompt" minLength:"1" maxLength:"20000" doc:"What the video shows. Kling takes 2500 characters; a longer prompt is cut to 2500, and the task notes say so."`
	NegativePrompt string   `json:"negative_prompt,omitempty" maxLength:"2500"`
	ModelName      string   `json:"model_name,omitempty" enum:"kling-v1,kling-v1-6,kling-v2-master,kling-v2-1-master,kling-v2-5-turbo,kling-v2-6" default:"kling-v2-6" doc:"Only kling-v1 and kling-v1-6 videos can be extended later."`
	Duration       string   `json:"duration,omitempty" enum:"5,10" default:"5" doc:"Seconds."`
	AspectRatio    string   `json:"aspect_ratio,omitempty" enum:"16:9,9:16,1:1" default:"16:9"`
	Mode           string   `json:"mode,omitempty" enum:"std,pro" default:"std"`
	CfgScale       *float64 `json:"cfg_scale,omitempty" minimum:"0" maximum:"1" default:"0.5" doc:"Sent only to kling-v1.x models, which support it."`
}

// Normalize applies the defaults of workflows.md §3.
func (r *TextToVideoRequest) Normalize() error {
	r.ModelName = cmp.Or(r.ModelName, "kling-v2-6")
	r.Duration = cmp.Or(r.Duration, "5")
	r.AspectRatio = cmp.Or(r.AspectRatio, "16:9")
	r.Mode = cmp.Or(r.Mode, "std")
	if r.CfgScale == nil {
		r.CfgScale = ptr(0.5)
	}
	if r.Prompt == "" {
		return lepus.FieldErrorf("body.prompt", "is required")
	}
	return firstErr(
		oneOf("body.duration", r.Duration, "5", "10"),
		oneOf("body.aspect_ratio", r.AspectRatio, "16:9", "9:16", "1:1"),
		oneOf("body.mode", r.Mode, "std", "pro"),
		checkPrompt("body.negative_prompt", r.NegativePrompt),
	)
}

// Images: none.
func (r *TextToVideoRequest) Images() []ImageInput { return nil }

func textToVideo() *Definition {
	return &Definition{
		Type:       "text_to_video",
		Routes:     []Route{{Path: "/kling/text-to-video", Summary: "Make a video from a prompt"}},
		Policy:     Policy{MaxRetries: 2, PollInterval: 5 * time.Second, MaxPolls: 120},
		NewRequest: func() Request { return &TextToVideoRequest{} },
		Plan: func(Request) []lepus.Stage {
			return []lepus.Stage{klingStage("video", kling.PathText2Video, PoolKlingVideo, 1)}
		},
		Build: func(t *lepus.Task, st *lepus.Stage, env Env) (any, error) {
			r, err := decodeInput[TextToVideoRequest](t)
			if err != nil {
				return nil, err
			}
			prompt := r.Prompt
			if n := utf8.RuneCountInString(prompt); n > MaxPrompt {
				prompt = string([]rune(prompt)[:MaxPrompt])
				t.AddNote(fmt.Sprintf("prompt cut from %d to %d characters, Kling's limit", n, MaxPrompt))
			}
			cfg, note := cfgScale(r.ModelName, *r.CfgScale)
			if note != "" {
				t.AddNote(note)
			}
			return kling.Text2VideoRequest{
				ModelName: r.ModelName, Prompt: prompt, NegativePrompt: r.NegativePrompt, CfgScale: cfg,
				Mode: r.Mode, AspectRatio: r.AspectRatio, Duration: r.Duration,
				CallbackURL: env.CallbackURL, ExternalTaskID: st.ExternalID,
			}, nil
		},
		Costs: map[string]int{"text_to_video": 10}, // per 5 s of video
		Cost: func(req Request, costs map[string]int) int {
			return costs["text_to_video"] * durationUnits(req.(*TextToVideoRequest).Duration)
		},
	}
}
