package workflow

import (
	"cmp"
	"context"
	"fmt"
	"time"

	"github.com/lepus-ai/lepus/internal/lepus"
	"github.com/lepus-ai/lepus/internal/provider/kling"
)

// ImageGenerationRequest is the body of POST /kling/image-generation
// (workflows.md §8, contract-decisions #9).
type ImageGenerationRequest struct {
	Prompt         string   `json:"prompt" minLength:"1" maxLength:"2500"`
	NegativePrompt string   `json:"negative_prompt,omitempty" maxLength:"2500" doc:"Text-to-image only: Kling does not take it with a reference image."`
	ImageURL       string   `json:"image_url,omitempty" maxLength:"4096" doc:"A reference image (image-to-image)."`
	ImageReference string   `json:"image_reference,omitempty" enum:"subject,face," doc:"With image_url: keep the subject's features, or the face (the image must show one face). Uses kling-v1-5, the model documented for it."`
	ImageFidelity  *float64 `json:"image_fidelity,omitempty" minimum:"0" maximum:"1" default:"0.5" doc:"Reference strength, with image_reference."`
	HumanFidelity  *float64 `json:"human_fidelity,omitempty" minimum:"0" maximum:"1" default:"0.45" doc:"Facial similarity, with image_reference subject."`
	ModelName      string   `json:"model_name,omitempty" enum:"kling-v1,kling-v1-5,kling-v2,kling-v2-new,kling-v2-1" default:"kling-v2-1" doc:"Text-to-image model; a reference image decides the model (see image_reference)."`
	Resolution     string   `json:"resolution,omitempty" enum:"1k,2k" default:"1k" doc:"Image-to-image is 1k only."`
	N              int      `json:"n,omitempty" minimum:"1" maximum:"9" default:"1" doc:"How many images."`
	AspectRatio    string   `json:"aspect_ratio,omitempty" enum:"16:9,9:16,1:1,4:3,3:4,3:2,2:3,21:9," doc:"Text-to-image only."`
	EnhancePrompt  bool     `json:"enhance_prompt,omitempty" doc:"Let an LLM rewrite the prompt first; the task records both prompts. If the LLM fails, the original prompt is used."`
	AvatarID       string   `json:"avatar_id,omitempty" maxLength:"64" doc:"Generate with one of your digital avatars: the portrait angle that best fits the prompt becomes a face reference."`

	// AvatarOptions are the avatar's portraits, resolved by Check.
	AvatarOptions []AvatarOption `json:"avatar_options,omitempty" hidden:"true"`
}

// Models Kling documents for a subject or face reference, and for a plain
// reference image (contract-decisions #9).
const (
	ReferenceModel  = "kling-v1-5"
	PlainImageModel = "kling-v2-1"
)

// Normalize applies the defaults of workflows.md §8.
func (r *ImageGenerationRequest) Normalize() error {
	r.AvatarOptions = nil // resolved by Check, never taken from the client
	r.ModelName = cmp.Or(r.ModelName, "kling-v2-1")
	r.Resolution = cmp.Or(r.Resolution, "1k")
	if r.N == 0 {
		r.N = 1
	}
	if r.ImageFidelity == nil {
		r.ImageFidelity = ptr(0.5)
	}
	if r.HumanFidelity == nil {
		r.HumanFidelity = ptr(0.45)
	}
	switch {
	case r.AvatarID != "" && r.ImageURL != "":
		return lepus.FieldErrorf("body.avatar_id", "give avatar_id or image_url, not both")
	case r.N < 1 || r.N > 9:
		return lepus.FieldErrorf("body.n", "is %d; give 1 to 9", r.N)
	case r.ImageReference != "" && r.ImageURL == "":
		return lepus.FieldErrorf("body.image_reference", "needs image_url")
	case r.ModelName == "kling-v2-new":
		return lepus.FieldErrorf("body.model_name", "kling-v2-new only restyles images; it does not generate from a prompt")
	}
	return firstErr(
		oneOf("body.resolution", r.Resolution, "1k", "2k"),
		checkPrompt("body.prompt", r.Prompt),
		checkPrompt("body.negative_prompt", r.NegativePrompt),
	)
}

// Images lists the reference image, if any.
func (r *ImageGenerationRequest) Images() []ImageInput {
	if r.ImageURL == "" {
		return nil
	}
	return []ImageInput{{Field: "body.image_url", URL: &r.ImageURL, NeedFace: r.ImageReference == "face"}}
}

// body builds the images/generations request per contract-decisions #9.
func (r *ImageGenerationRequest) body(t *lepus.Task, prompt string, st *lepus.Stage, env Env) kling.ImageGenerationRequest {
	b := kling.ImageGenerationRequest{
		ModelName: r.ModelName, Prompt: prompt, N: r.N, Resolution: r.Resolution,
		CallbackURL: env.CallbackURL, ExternalTaskID: st.ExternalID,
	}
	if r.ImageURL == "" {
		b.NegativePrompt, b.AspectRatio = r.NegativePrompt, r.AspectRatio
		return b
	}
	b.Image = r.ImageURL
	b.ModelName = PlainImageModel
	if r.ImageReference != "" {
		b.ModelName = ReferenceModel
		b.ImageReference, b.ImageFidelity = r.ImageReference, r.ImageFidelity
		if r.ImageReference == "subject" {
			b.HumanFidelity = r.HumanFidelity
		}
	}
	if b.ModelName != r.ModelName {
		t.AddNote(fmt.Sprintf("model_name %s sent instead of %s: the model Kling documents for this kind of reference", b.ModelName, r.ModelName))
	}
	if r.NegativePrompt != "" {
		t.AddNote("negative_prompt not sent: Kling does not take it with a reference image")
	}
	if r.AspectRatio != "" {
		t.AddNote("aspect_ratio not sent: with a reference image the image decides")
	}
	if r.Resolution != "1k" {
		b.Resolution = "1k"
		t.AddNote("resolution 1k sent instead of " + r.Resolution + ": image-to-image is 1k only")
	}
	return b
}

// check resolves the avatar's portraits (workflows.md §8, avatar injection).
func (r *ImageGenerationRequest) check(ctx context.Context, userID string, in Inputs) ([]string, error) {
	if r.AvatarID == "" {
		return nil, nil
	}
	refs, err := in.Avatar(ctx, userID, r.AvatarID)
	if err != nil {
		return nil, lepus.FieldErrorf("body.avatar_id", "%s", lepus.ErrorMessage(err))
	}
	r.AvatarOptions = append([]AvatarOption{{Key: "front", URL: refs.Portrait}}, refs.Angles...)
	return nil, nil
}

// avatarBody builds the request with the chosen avatar portrait as a face
// reference: kling-v1-5, the model Kling documents for it (#9).
func (r *ImageGenerationRequest) avatarBody(t *lepus.Task, prompt string, st *lepus.Stage, env Env) kling.ImageGenerationRequest {
	choice := chosenAngle(t, r.AvatarOptions)
	b := kling.ImageGenerationRequest{
		ModelName: ReferenceModel, Prompt: prompt, N: r.N, Resolution: "1k",
		Image: choice.URL, ImageReference: "face", ImageFidelity: r.ImageFidelity,
		CallbackURL: env.CallbackURL, ExternalTaskID: st.ExternalID,
	}
	t.AddNote("human_fidelity not sent: Kling takes it only with a subject reference, and an avatar is a face reference")
	if r.NegativePrompt != "" {
		t.AddNote("negative_prompt not sent: Kling does not take it with a reference image")
	}
	return b
}

func imageGeneration() *Definition {
	return &Definition{
		Type:       "image_generation",
		Routes:     []Route{{Path: "/kling/image-generation", Summary: "Generate images from a prompt, optionally from a reference image"}},
		Policy:     Policy{MaxRetries: 3, PollInterval: 5 * time.Second, MaxPolls: 60},
		NewRequest: func() Request { return &ImageGenerationRequest{} },
		Check: func(ctx context.Context, userID string, req Request, in Inputs) ([]string, error) {
			return req.(*ImageGenerationRequest).check(ctx, userID, in)
		},
		Plan: func(req Request) []lepus.Stage {
			r := req.(*ImageGenerationRequest)
			var stages []lepus.Stage
			if r.EnhancePrompt {
				stages = append(stages, enhanceStage())
			}
			if r.AvatarID != "" {
				stages = append(stages, angleStage())
			}
			return append(stages, klingStage("image", kling.PathImageGenerations, PoolKlingImage, r.N))
		},
		Build: func(t *lepus.Task, st *lepus.Stage, env Env) (any, error) {
			r, err := decodeInput[ImageGenerationRequest](t)
			if err != nil {
				return nil, err
			}
			switch st.Name {
			case StageEnhance:
				return EnhanceRequest{Prompt: r.Prompt, Purpose: "image"}, nil
			case StageAngle:
				return angleRequest(r.Prompt, r.AvatarOptions), nil
			}
			prompt := enhancedPrompt(t, r.Prompt)
			if r.AvatarID != "" {
				return r.avatarBody(t, prompt, st, env), nil
			}
			return r.body(t, prompt, st, env), nil
		},
		Costs: map[string]int{"image_generation": 2}, // per image
		Cost: func(req Request, costs map[string]int) int {
			return costs["image_generation"] * req.(*ImageGenerationRequest).N
		},
	}
}
