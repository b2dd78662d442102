package workflow

import (
	"strings"
	"time"

	"github.com/lepus-ai/lepus/internal/lepus"
	"github.com/lepus-ai/lepus/internal/provider/kling"
)

// FaceSwapPrompt is FACE_SWAP_PROMPT from workflows.md §1, verbatim.
const FaceSwapPrompt = `Keep the scene, composition, pose, clothing, hairstyle, and background of
<<<image_1>>> completely unchanged. Replace ONLY the face of the person in
<<<image_1>>> with the face from <<<image_2>>>. Maintain consistent lighting,
natural skin texture, realistic facial details, and seamless blending. Preserve
the original head angle, expression intensity, and shadow direction. The result
must look like a real unedited photograph with no artifacts or uncanny valley effect.`

// FaceSwapVideoPrompt is the fixed prompt of the optional video step.
const FaceSwapVideoPrompt = "The person makes subtle natural movements, gentle blinking, slight head turns, and a soft smile. Realistic and lifelike motion with natural breathing."

const faceSwapCustomPrefix = " Additional requirements: "

// maxCustomPrompt keeps the whole prompt within Kling's 2500 characters.
const maxCustomPrompt = 2500 - len(FaceSwapPrompt) - len(faceSwapCustomPrefix)

// Face swap models (contract-decisions #1, #2).
const (
	OmniImageModel = "kling-image-o1"
	OmniVideoModel = "kling-video-o1"
)

// FaceSwapRequest is the body of POST /kling/face-swap.
type FaceSwapRequest struct {
	SourceImageURL string `json:"source_image_url" minLength:"1" maxLength:"4096" doc:"The photo whose scene, pose and body are kept (JPEG, PNG or WebP; at most 10 MB; both sides at least 300 px; aspect ratio within 1:2.5 to 2.5:1). An upload URL from POST /uploads or any public URL."`
	FaceImageURL   string `json:"face_image_url" minLength:"1" maxLength:"4096" doc:"The photo whose face is put in (same limits; a face must be found in it)."`
	CustomPrompt   string `json:"custom_prompt,omitempty" maxLength:"2002" doc:"Extra instructions appended to the face-swap prompt."`
	Resolution     string `json:"resolution,omitempty" enum:"1k,2k" default:"1k" doc:"Output resolution."`
	GenerateVideo  bool   `json:"generate_video,omitempty" doc:"Also animate the swapped photo into a short video (omni-video, first frame = the swapped image)."`
	VideoDuration  string `json:"video_duration,omitempty" enum:"5,10" default:"5" doc:"Video length in seconds, when generate_video is true."`
}

// Normalize applies the defaults of workflows.md §1.
func (r *FaceSwapRequest) Normalize() error {
	r.CustomPrompt = strings.TrimSpace(r.CustomPrompt)
	if r.Resolution == "" {
		r.Resolution = "1k"
	}
	if r.VideoDuration == "" {
		r.VideoDuration = "5"
	}
	if r.Resolution != "1k" && r.Resolution != "2k" {
		return lepus.FieldErrorf("body.resolution", "must be one of 1k, 2k")
	}
	if r.VideoDuration != "5" && r.VideoDuration != "10" {
		return lepus.FieldErrorf("body.video_duration", "must be one of 5, 10")
	}
	if n := len([]rune(r.CustomPrompt)); n > maxCustomPrompt {
		return lepus.FieldErrorf("body.custom_prompt", "is %d characters; at most %d fit in the provider's 2500-character prompt", n, maxCustomPrompt)
	}
	return nil
}

// Images lists the two image inputs.
func (r *FaceSwapRequest) Images() []ImageInput {
	return []ImageInput{
		{Field: "body.source_image_url", URL: &r.SourceImageURL},
		{Field: "body.face_image_url", URL: &r.FaceImageURL, NeedFace: true},
	}
}

// Prompt is the omni-image prompt: the default template, with the custom
// prompt appended as FACE_SWAP_PROMPT_WITH_CUSTOM does.
func (r *FaceSwapRequest) Prompt() string {
	if r.CustomPrompt == "" {
		return FaceSwapPrompt
	}
	return FaceSwapPrompt + faceSwapCustomPrefix + r.CustomPrompt
}

func faceSwap() *Definition {
	return &Definition{
		Type:   "face_swap",
		Routes: []Route{{Path: "/kling/face-swap", Summary: "Swap the face of one photo into another, optionally animated into a video"}},
		Policy: Policy{
			MaxRetries:   3,
			PollInterval: 5 * time.Second,
			MaxPolls:     60,
			SoftLimit:    600 * time.Second,
			HardLimit:    900 * time.Second,
		},
		NewRequest: func() Request { return &FaceSwapRequest{} },
		Plan: func(req Request) []lepus.Stage {
			r := req.(*FaceSwapRequest)
			stages := []lepus.Stage{klingStage("image", kling.PathOmniImage, PoolKlingImage, 1)}
			if r.GenerateVideo {
				stages = append(stages, klingStage("video", kling.PathOmniVideo, PoolKlingVideo, 1))
			}
			return stages
		},
		Build: func(t *lepus.Task, st *lepus.Stage, env Env) (any, error) {
			r, err := decodeInput[FaceSwapRequest](t)
			if err != nil {
				return nil, err
			}
			switch st.Name {
			case "image":
				return kling.OmniImageRequest{
					ModelName:      OmniImageModel,
					Prompt:         r.Prompt(),
					ImageList:      []kling.OmniImage{{Image: r.SourceImageURL}, {Image: r.FaceImageURL}},
					Resolution:     r.Resolution,
					N:              1,
					CallbackURL:    env.CallbackURL,
					ExternalTaskID: st.ExternalID,
				}, nil
			default: // "video": first frame = the swapped image at the provider's CDN
				img := t.StageByName("image")
				if img == nil || len(img.Results) == 0 {
					return nil, lepus.Errorf(lepus.EInternal, "face swap video: the image stage has no result")
				}
				return kling.OmniVideoRequest{
					ModelName:      OmniVideoModel,
					Prompt:         FaceSwapVideoPrompt,
					ImageList:      []kling.OmniVideoImage{{ImageURL: img.Results[0].URL, Type: "first_frame"}},
					Mode:           "std",
					Duration:       r.VideoDuration,
					CallbackURL:    env.CallbackURL,
					ExternalTaskID: st.ExternalID,
				}, nil
			}
		},
		Costs: map[string]int{
			"face_swap":           4,  // one omni-image
			"face_swap_video":     10, // the optional 5 s omni-video step
			"face_swap_video_10s": 20, // the optional 10 s omni-video step
		},
		Cost: func(req Request, costs map[string]int) int {
			r := req.(*FaceSwapRequest)
			c := costs["face_swap"]
			switch {
			case r.GenerateVideo && r.VideoDuration == "10":
				c += costs["face_swap_video_10s"]
			case r.GenerateVideo:
				c += costs["face_swap_video"]
			}
			return c
		},
	}
}
