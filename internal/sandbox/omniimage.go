package sandbox

import (
	"context"
	"fmt"
	"image"
	"regexp"

	"github.com/lepus-ai/lepus/internal/media/synth"
)

// omniImageBody is the request of POST /v1/images/omni-image (kling-api.md §4).
type omniImageBody struct {
	ModelName string `json:"model_name"`
	Prompt    string `json:"prompt"`
	ImageList []struct {
		Image string `json:"image"`
	} `json:"image_list"`
	ElementList []struct {
		ElementID int64 `json:"element_id"`
	} `json:"element_list"`
	Resolution   string `json:"resolution"`
	ResultType   string `json:"result_type"`
	N            *int   `json:"n"`
	SeriesAmount *int   `json:"series_amount"`
	AspectRatio  string `json:"aspect_ratio"`
	common
}

var imageAspectRatios = []string{"16:9", "9:16", "1:1", "4:3", "3:4", "3:2", "2:3", "21:9", "auto"}

// faceSwapPrompt spots prompts asking to put one image's face on another.
var faceSwapPrompt = regexp.MustCompile(`(?is)(replace|swap)\b.{0,60}\bface|\bface\b.{0,30}\b(swap|replace)`)

func omniImageEndpoint() *endpoint {
	return &endpoint{path: "/v1/images/omni-image", validate: validateOmniImage}
}

func validateOmniImage(body []byte) (*spec, *apiError) {
	var b omniImageBody
	if e := decodeStrict(body, &b); e != nil {
		return nil, e
	}
	if b.ModelName != "" {
		if e := oneOf("model_name", b.ModelName, "kling-image-o1", "kling-v3-omni"); e != nil {
			return nil, e
		}
	}
	if e := checkPrompt("prompt", b.Prompt, true); e != nil {
		return nil, e
	}
	if n := len(b.ImageList) + len(b.ElementList); n > 10 {
		return nil, invalidf("image_list and element_list may hold at most 10 entries together, got %d", n)
	}
	if e := checkRefs(b.Prompt, map[string]int{"image": len(b.ImageList), "element": len(b.ElementList)}); e != nil {
		return nil, e
	}
	res := b.Resolution
	if res == "" {
		res = "1k"
	}
	if e := oneOf("resolution", res, "1k", "2k", "4k"); e != nil {
		return nil, e
	}
	if b.ResultType != "" {
		if e := oneOf("result_type", b.ResultType, "single", "series"); e != nil {
			return nil, e
		}
	}
	if b.AspectRatio != "" {
		if e := oneOf("aspect_ratio", b.AspectRatio, imageAspectRatios...); e != nil {
			return nil, e
		}
	}
	n := 1
	if b.N != nil {
		if *b.N < 1 || *b.N > 9 {
			return nil, invalidf("n must be in [1, 9], got %d", *b.N)
		}
		n = *b.N
	}
	series := b.ResultType == "series"
	if series {
		if b.SeriesAmount == nil || *b.SeriesAmount < 2 || *b.SeriesAmount > 9 {
			return nil, invalidf("series_amount must be in [2, 9] when result_type is series")
		}
		n = *b.SeriesAmount
	}
	if e := b.common.check(); e != nil {
		return nil, e
	}

	sp := &spec{cost: n}
	b.common.apply(sp)
	sources := make([]string, len(b.ImageList))
	for i, im := range b.ImageList {
		field := fieldf("image_list[%d].image", i)
		if e := checkSource(field, im.Image); e != nil {
			return nil, e
		}
		sources[i] = im.Image
		sp.images = append(sp.images, imageInput{field: field, source: im.Image})
	}
	for range n {
		sp.outputs = append(sp.outputs, output{ext: "png", series: series})
	}
	r := omniImageRender{
		sources:  sources,
		prompt:   b.Prompt,
		side:     resolutionSide[res],
		aspect:   b.AspectRatio,
		faceSwap: len(sources) >= 2 && faceSwapPrompt.MatchString(b.Prompt),
	}
	sp.render = r.render
	return sp, nil
}

// omniImageRender makes omni-image results: a face swap of image_1 with
// image_2's face when the prompt asks for one, else a restyle of image_1
// (or of a blank canvas for text-only prompts).
type omniImageRender struct {
	sources  []string
	prompt   string
	side     int
	aspect   string
	faceSwap bool
}

func (r omniImageRender) render(ctx context.Context, s *Sandbox, idx int) ([]byte, error) {
	var src image.Image
	if len(r.sources) > 0 {
		img, err := s.loadImage(ctx, r.sources[0])
		if err != nil {
			return nil, fmt.Errorf("image_1: %w", err)
		}
		src = img
	} else {
		src = canvas(r.aspect, r.side, r.prompt)
	}
	// Never upscale past the source: the long side is the smaller of the
	// resolution's and the input's.
	side := min(r.side, longSide(src))
	var out image.Image
	if r.faceSwap {
		face, err := s.loadImage(ctx, r.sources[1])
		if err != nil {
			return nil, fmt.Errorf("image_2: %w", err)
		}
		out = synth.FaceSwap(src, face, side)
	} else {
		prompt := r.prompt
		if idx > 0 {
			prompt = fmt.Sprintf("%s (variation %d)", prompt, idx+1)
		}
		out = synth.Restyle(src, prompt, side)
	}
	return encodePNG(out)
}
