package sandbox

import (
	"cmp"
	"strconv"
)

// image2VideoBody is the request of POST /v1/videos/image2video
// (kling-api.md §5.2). It has no aspect_ratio: the image decides.
type image2VideoBody struct {
	ModelName      string         `json:"model_name"`
	Image          string         `json:"image"`
	ImageTail      string         `json:"image_tail"`
	Prompt         string         `json:"prompt"`
	NegativePrompt string         `json:"negative_prompt"`
	CfgScale       *float64       `json:"cfg_scale"`
	Mode           string         `json:"mode"`
	Duration       string         `json:"duration"`
	Sound          string         `json:"sound"`
	CameraControl  *cameraControl `json:"camera_control"`
	common
}

var image2VideoModels = []string{"kling-v1", "kling-v1-5", "kling-v1-6", "kling-v2-master", "kling-v2-1", "kling-v2-1-master", "kling-v2-5-turbo", "kling-v2-6", "kling-v3"}

func image2VideoEndpoint() *endpoint {
	return &endpoint{path: "/v1/videos/image2video", video: true, validate: validateImage2Video}
}

func validateImage2Video(body []byte) (*spec, *apiError) {
	var b image2VideoBody
	if e := decodeStrict(body, &b); e != nil {
		return nil, e
	}
	model := cmp.Or(b.ModelName, "kling-v1")
	if model == "kling-video-o1" {
		// The old system's face-swap video step (contract decision #2).
		return nil, invalidf("model_name kling-video-o1 is not supported by image2video; it is an omni-video model")
	}
	if e := oneOf("model_name", model, image2VideoModels...); e != nil {
		return nil, e
	}
	if b.Image == "" && b.ImageTail == "" {
		return nil, invalidf("image or image_tail is required")
	}
	if e := checkPrompts(b.Prompt, b.NegativePrompt, false); e != nil {
		return nil, e
	}
	if e := checkCfgScale(model, b.CfgScale); e != nil {
		return nil, e
	}
	if e := checkModeSound(model, b.Mode, b.Sound); e != nil {
		return nil, e
	}
	secs, e := genDuration(b.Duration, model)
	if e != nil {
		return nil, e
	}
	if b.CameraControl != nil {
		if b.ImageTail != "" {
			return nil, invalidf("image_tail and camera_control cannot be used together")
		}
		if e := b.CameraControl.check(); e != nil {
			return nil, e
		}
	}
	if e := b.common.check(); e != nil {
		return nil, e
	}
	sp := &spec{cost: 1, model: model}
	b.common.apply(sp)
	for _, in := range []imageInput{{field: "image", source: b.Image}, {field: "image_tail", source: b.ImageTail}} {
		if in.source == "" {
			continue
		}
		if e := checkSource(in.field, in.source); e != nil {
			return nil, e
		}
		sp.images = append(sp.images, in)
	}
	sp.outputs = []output{{ext: "mp4", duration: strconv.Itoa(secs)}}
	r := &frameVideo{frame: cmp.Or(b.Image, b.ImageTail), prompt: b.Prompt, seconds: float64(secs)}
	sp.render = r.render
	return sp, nil
}
