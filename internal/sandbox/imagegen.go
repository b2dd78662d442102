package sandbox

import (
	"cmp"
	"context"
	"fmt"
	"image"

	"github.com/lepus-ai/lepus/internal/media/synth"
)

// imageGenerationBody is the request of POST /v1/images/generations
// (kling-api.md §3).
type imageGenerationBody struct {
	ModelName      string   `json:"model_name"`
	Prompt         string   `json:"prompt"`
	NegativePrompt string   `json:"negative_prompt"`
	Image          string   `json:"image"`
	ImageReference string   `json:"image_reference"`
	ImageFidelity  *float64 `json:"image_fidelity"`
	HumanFidelity  *float64 `json:"human_fidelity"`
	Resolution     string   `json:"resolution"`
	N              *int     `json:"n"`
	AspectRatio    string   `json:"aspect_ratio"`
	ElementList    []struct {
		ElementID int64 `json:"element_id"`
	} `json:"element_list"`
	common
}

// generationAspectRatios are omni-image's without "auto".
var generationAspectRatios = []string{"16:9", "9:16", "1:1", "4:3", "3:4", "3:2", "2:3", "21:9"}

var imageGenerationModels = []string{"kling-v1", "kling-v1-5", "kling-v2", "kling-v2-new", "kling-v2-1", "kling-v3"}

func imageGenerationEndpoint() *endpoint {
	return &endpoint{path: "/v1/images/generations", validate: validateImageGeneration}
}

func validateImageGeneration(body []byte) (*spec, *apiError) {
	var b imageGenerationBody
	if e := decodeStrict(body, &b); e != nil {
		return nil, e
	}
	model := cmp.Or(b.ModelName, "kling-v1")
	if e := oneOf("model_name", model, imageGenerationModels...); e != nil {
		return nil, e
	}
	if e := checkPrompts(b.Prompt, b.NegativePrompt, true); e != nil {
		return nil, e
	}
	withImage := b.Image != ""
	if e := b.checkReference(model, withImage); e != nil {
		return nil, e
	}
	res := cmp.Or(b.Resolution, "1k")
	if e := oneOf("resolution", res, "1k", "2k"); e != nil {
		return nil, e
	}
	if res != "1k" && (model == "kling-v1" || model == "kling-v1-5") {
		return nil, invalidf("resolution %s is not supported by %s: only 1k", res, model)
	}
	if res != "1k" && withImage {
		return nil, invalidf("resolution %s is not supported in image-to-image: only 1k", res)
	}
	n := 1
	if b.N != nil {
		if *b.N < 1 || *b.N > 9 {
			return nil, invalidf("n must be in [1, 9], got %d", *b.N)
		}
		n = *b.N
	}
	aspect := cmp.Or(b.AspectRatio, "16:9")
	if e := oneOf("aspect_ratio", aspect, generationAspectRatios...); e != nil {
		return nil, e
	}
	if aspect == "21:9" && model == "kling-v1" {
		return nil, invalidf("aspect_ratio 21:9 is not supported by kling-v1")
	}
	if len(b.ElementList) > 0 && model != "kling-v3" {
		return nil, invalidf("element_list is not supported by %s", model)
	}
	inputs := len(b.ElementList)
	if withImage {
		inputs++
	}
	if inputs > 10 {
		return nil, invalidf("image and element_list may hold at most 10 entries together, got %d", inputs)
	}
	if e := b.common.check(); e != nil {
		return nil, e
	}

	sp := &spec{cost: n, model: model}
	b.common.apply(sp)
	if withImage {
		if e := checkSource("image", b.Image); e != nil {
			return nil, e
		}
		sp.images = []imageInput{{field: "image", source: b.Image}}
	}
	for range n {
		sp.outputs = append(sp.outputs, output{ext: "png"})
	}
	r := imageGenerationRender{source: b.Image, prompt: b.Prompt, aspect: aspect, side: resolutionSide[res]}
	sp.render = r.render
	return sp, nil
}

// checkReference applies the image-to-image rules: no negative prompt,
// image_reference only on kling-v1-5 (and required there), fidelities in
// [0, 1] on the models and references that take them.
func (b *imageGenerationBody) checkReference(model string, withImage bool) *apiError {
	if withImage && b.NegativePrompt != "" {
		return invalidf("negative_prompt is not supported in image-to-image")
	}
	if b.ImageReference != "" {
		if e := oneOf("image_reference", b.ImageReference, "subject", "face"); e != nil {
			return e
		}
		if model != "kling-v1-5" {
			return invalidf("image_reference is only supported by kling-v1-5, not %s", model)
		}
		if !withImage {
			return invalidf("image_reference requires image")
		}
	}
	if model == "kling-v1-5" && withImage && b.ImageReference == "" {
		return invalidf("image_reference is required for kling-v1-5 when image is set")
	}
	if b.ImageFidelity != nil {
		if model != "kling-v1" && model != "kling-v1-5" {
			return invalidf("image_fidelity is not supported by %s", model)
		}
		if e := checkUnit("image_fidelity", *b.ImageFidelity, 0, 1); e != nil {
			return e
		}
	}
	if b.HumanFidelity != nil {
		if b.ImageReference != "subject" {
			return invalidf("human_fidelity is only supported with image_reference subject")
		}
		if e := checkUnit("human_fidelity", *b.HumanFidelity, 0, 1); e != nil {
			return e
		}
	}
	return nil
}

// checkUnit rejects a number outside [lo, hi].
func checkUnit(field string, v, lo, hi float64) *apiError {
	if v < lo || v > hi || v != v {
		return invalidf("%s must be in [%g, %g], got %g", field, lo, hi, v)
	}
	return nil
}

// imageGenerationRender makes the results: for text-to-image a picture
// drawn from the prompt at the aspect ratio, for image-to-image a restyle
// of the reference. Each index is a different variation.
type imageGenerationRender struct {
	source string
	prompt string
	aspect string
	side   int
}

func (r imageGenerationRender) render(ctx context.Context, s *Sandbox, idx int) ([]byte, error) {
	prompt := r.prompt
	if idx > 0 {
		prompt = fmt.Sprintf("%s (variation %d)", prompt, idx+1)
	}
	var src image.Image
	side := r.side
	if r.source != "" {
		img, err := s.loadImage(ctx, r.source)
		if err != nil {
			return nil, fmt.Errorf("image: %w", err)
		}
		src = img
		side = min(side, longSide(img))
	} else {
		src = canvas(r.aspect, r.side, prompt)
	}
	return encodePNG(synth.Restyle(src, prompt, side))
}
