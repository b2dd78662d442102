package sandbox

import (
	"cmp"
	"strconv"
)

// text2VideoBody is the request of POST /v1/videos/text2video
// (kling-api.md §5.1). style and camera_motion are not fields: the strict
// decoder refuses them (contract decision #3).
type text2VideoBody struct {
	ModelName      string         `json:"model_name"`
	Prompt         string         `json:"prompt"`
	NegativePrompt string         `json:"negative_prompt"`
	CfgScale       *float64       `json:"cfg_scale"`
	Mode           string         `json:"mode"`
	AspectRatio    string         `json:"aspect_ratio"`
	Duration       string         `json:"duration"`
	Sound          string         `json:"sound"`
	CameraControl  *cameraControl `json:"camera_control"`
	common
}

var text2VideoModels = []string{"kling-v1", "kling-v1-6", "kling-v2-master", "kling-v2-1-master", "kling-v2-5-turbo", "kling-v2-6", "kling-v3"}

func text2VideoEndpoint() *endpoint {
	return &endpoint{path: "/v1/videos/text2video", video: true, validate: validateText2Video}
}

func validateText2Video(body []byte) (*spec, *apiError) {
	var b text2VideoBody
	if e := decodeStrict(body, &b); e != nil {
		return nil, e
	}
	model := cmp.Or(b.ModelName, "kling-v1")
	if e := oneOf("model_name", model, text2VideoModels...); e != nil {
		return nil, e
	}
	if e := checkPrompts(b.Prompt, b.NegativePrompt, true); e != nil {
		return nil, e
	}
	if e := checkCfgScale(model, b.CfgScale); e != nil {
		return nil, e
	}
	if e := checkModeSound(model, b.Mode, b.Sound); e != nil {
		return nil, e
	}
	aspect := cmp.Or(b.AspectRatio, "16:9")
	if e := oneOf("aspect_ratio", aspect, "16:9", "9:16", "1:1"); e != nil {
		return nil, e
	}
	secs, e := genDuration(b.Duration, model)
	if e != nil {
		return nil, e
	}
	if b.CameraControl != nil {
		if e := b.CameraControl.check(); e != nil {
			return nil, e
		}
		// The live API's own wording (kling-api.md §2.4, ISSUE14).
		if model != "kling-v1" || cmp.Or(b.Mode, "std") != "std" || secs != 5 {
			return nil, invalidf("camera_control is only supported in std mode with 5s duration and kling-v1")
		}
	}
	if e := b.common.check(); e != nil {
		return nil, e
	}
	sp := &spec{cost: 1, model: model}
	b.common.apply(sp)
	sp.outputs = []output{{ext: "mp4", duration: strconv.Itoa(secs)}}
	r := &frameVideo{aspect: aspect, prompt: b.Prompt, seconds: float64(secs)}
	sp.render = r.render
	return sp, nil
}
