package sandbox

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"image"
	"strconv"

	"github.com/lepus-ai/lepus/internal/media/synth"
)

// multiImage2VideoBody is the request of POST /v1/videos/multi-image2video
// (kling-api.md §5.3).
type multiImage2VideoBody struct {
	ModelName string `json:"model_name"`
	ImageList []struct {
		Image string `json:"image"`
	} `json:"image_list"`
	Prompt         string `json:"prompt"`
	NegativePrompt string `json:"negative_prompt"`
	Mode           string `json:"mode"`
	Duration       string `json:"duration"`
	AspectRatio    string `json:"aspect_ratio"`
	common
}

func multiImage2VideoEndpoint() *endpoint {
	return &endpoint{path: "/v1/videos/multi-image2video", video: true, validate: validateMultiImage2Video}
}

func validateMultiImage2Video(body []byte) (*spec, *apiError) {
	var b multiImage2VideoBody
	if e := decodeStrict(body, &b); e != nil {
		return nil, e
	}
	model := cmp.Or(b.ModelName, "kling-v1-6")
	if e := oneOf("model_name", model, "kling-v1-6"); e != nil {
		return nil, e
	}
	if len(b.ImageList) < 1 || len(b.ImageList) > 4 {
		return nil, invalidf("image_list must hold 1 to 4 images, got %d", len(b.ImageList))
	}
	if e := checkPrompts(b.Prompt, b.NegativePrompt, true); e != nil {
		return nil, e
	}
	if b.Mode != "" {
		if e := oneOf("mode", b.Mode, "std", "pro"); e != nil {
			return nil, e
		}
	}
	secs, e := genDuration(b.Duration, model)
	if e != nil {
		return nil, e
	}
	if b.AspectRatio != "" {
		if e := oneOf("aspect_ratio", b.AspectRatio, "16:9", "9:16", "1:1"); e != nil {
			return nil, e
		}
	}
	if e := b.common.check(); e != nil {
		return nil, e
	}
	sp := &spec{cost: 1, model: model}
	b.common.apply(sp)
	r := &slideshow{seconds: float64(secs)}
	for i, im := range b.ImageList {
		field := fieldf("image_list[%d].image", i)
		if e := checkSource(field, im.Image); e != nil {
			return nil, e
		}
		sp.images = append(sp.images, imageInput{field: field, source: im.Image})
		r.sources = append(r.sources, im.Image)
	}
	sp.outputs = []output{{ext: "mp4", duration: strconv.Itoa(secs)}}
	sp.render = r.render
	return sp, nil
}

// slideshow renders a multi-image video: each image in turn.
type slideshow struct {
	sources []string
	seconds float64
}

func (r *slideshow) render(ctx context.Context, s *Sandbox, _ int) ([]byte, error) {
	imgs := make([]image.Image, len(r.sources))
	for i, src := range r.sources {
		img, err := s.loadImage(ctx, src)
		if err != nil {
			return nil, fmt.Errorf("image_list[%d]: %w", i, err)
		}
		imgs[i] = img
	}
	var buf bytes.Buffer
	if err := synth.WriteSlideshowMP4(&buf, imgs, r.seconds, synth.MP4Options{}); err != nil {
		return nil, fmt.Errorf("write slideshow: %w", err)
	}
	return buf.Bytes(), nil
}
